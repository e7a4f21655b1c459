"""Tokens and the caller's own account: /api/v1/tokens, /api/v1/me."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError as WTFValidationError

from app.api import bp
from app.api.auth import api_user, via_session
from app.extensions import db
from app.http.common import iso, json_body
from app.http.rate_limits import sign_in_limit
from app.models import ApiToken, User
from app.services import accounts, freshness, teams, tokens
from app.services.errors import BadRequest, Unauthorized, ValidationError
from app.services.validation import check_fields


def token_json(token: ApiToken, secret: str | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "id": token.id,
        "name": token.name,
        "scopes": token.scope_list,
        "prefix": token.prefix,
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "last_used_at": iso(token.last_used_at),
    }
    if secret:
        data["token"] = secret
    return data


def _token_creator() -> User:
    """HTTP Basic (login + password, under the failure limits), or a fresh browser session + CSRF."""
    auth = request.authorization
    if auth is None and via_session():
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (CSRFError, WTFValidationError):
            raise BadRequest("Missing or invalid X-CSRFToken header.", code="csrf") from None
        freshness.require_fresh()
        return current_user._get_current_object()
    if auth is None or auth.type != "basic" or not auth.username:
        raise Unauthorized("Send your login and password with HTTP Basic to create a token.")
    user = accounts.authenticate(auth.username, auth.password or "", ip=request.remote_addr,
                                 user_agent=request.headers.get("User-Agent") or "")
    if user is None:
        raise Unauthorized("Login or password is not correct.", code="bad_credentials")
    db.session.commit()  # the sign-in record
    return user


@bp.post("/tokens", endpoint="create_token")
@sign_in_limit
def create_token():  # type: ignore[no-untyped-def]
    user = _token_creator()
    body = json_body()
    check_fields(body, {"name", "scopes", "expires_at"}, required=("name",))
    expires_at = None
    if body.get("expires_at"):
        try:
            expires_at = datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("'expires_at' must be an RFC 3339 time.", field="expires_at") from None
        if expires_at.tzinfo is None:
            raise ValidationError("'expires_at' must include a time zone.", field="expires_at")
    new = tokens.create_token(user, body.get("name"), body.get("scopes"), expires_at, ip=request.remote_addr)
    db.session.commit()
    return jsonify(token_json(new.token, new.secret)), 201


@bp.get("/tokens")
def list_tokens():  # type: ignore[no-untyped-def]
    return jsonify({"items": [token_json(t) for t in tokens.list_tokens(api_user())], "next_cursor": None})


@bp.delete("/tokens/<token_id>")
def revoke_token(token_id: str):  # type: ignore[no-untyped-def]
    tokens.revoke_token(api_user(), token_id, ip=request.remote_addr)
    db.session.commit()
    return "", 204


@bp.get("/me")
def me():  # type: ignore[no-untyped-def]
    user = api_user()
    return jsonify(
        {
            "id": user.id,
            "email": user.email,
            "username": user.username,
            "display_name": user.display_name,
            "company": user.company,
            "job_title": user.job_title,
            "created_at": iso(user.created_at),
            "teams": [{"slug": team.slug, "name": team.name, "role": role} for team, role in teams.user_teams(user)],
            **accounts.git_identity(user),
        }
    )
