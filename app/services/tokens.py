"""Personal access tokens: shown once, stored as SHA-256, scoped read or read+write."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import ApiToken, User, utcnow
from app.services.accounts import record_event
from app.services.errors import NotFound, ValidationError
from app.services.validation import check_name

TOKEN_PREFIX = "itr_"
VALID_SCOPES = (["read"], ["read", "write"])
# last_used_at is written at most this often, so every API call does not write a row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass
class NewToken:
    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def create_token(
    user: User, name: object, scopes: object, expires_at: datetime | None = None, ip: str | None = None
) -> NewToken:
    if not isinstance(name, str):
        raise ValidationError("'name' is required.", field="name", code="required")
    name = check_name(name, "name", max_length=100)
    if scopes is None:
        scopes = ["read"]
    if not isinstance(scopes, list) or sorted(set(scopes)) not in (["read"], ["read", "write"]):
        raise ValidationError(
            "'scopes' must be [\"read\"] or [\"read\", \"write\"].", field="scopes", code="invalid_choice"
        )
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationError("'expires_at' must be in the future.", field="expires_at")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_secret(secret),
        prefix=secret[:8],
        scopes=",".join(sorted(set(scopes))),
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    record_event(user, "token_created", ip=ip, detail=token.name)
    return NewToken(token, secret)


_TOKEN_AND_USER = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                   .where(ApiToken.token_hash == bindparam("hash")))


def user_for_token(secret: str) -> tuple[User, ApiToken] | None:
    """The live user and token for a secret, or None (revoked, expired, deleted account)."""
    if not secret or len(secret) > 200:
        return None
    # Token and user in one prebuilt query: every API request and every git request pays this.
    row = db.session.execute(_TOKEN_AND_USER, {"hash": hash_secret(secret)}).first()
    now = utcnow()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return user, token


def list_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_token(user: User, token_id: str, ip: str | None = None) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()
    record_event(user, "token_revoked", ip=ip, detail=token.name)
