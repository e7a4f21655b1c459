"""Signed links for email verification and password reset (itsdangerous, expiring).

- Verification: the link names the user and the address it was sent to, so a link mailed to an
  old address stops working once the email changes. Valid 3 days.
- Reset: the link names the user and a digest of the *current* password hash, so it works once
  (the reset changes the hash) and dies with any other password change. Valid 1 hour. It is only
  ever sent to a verified address, and "Forgot password" answers the same, after the same work,
  whether or not the address has an account: the mail itself goes out from a background job.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from app.extensions import db
from app.models import User, utcnow
from app.services import job_queue
from app.services.accounts import end_all_sessions, normalise_email, record_event
from app.services.errors import NotFound, ValidationError
from app.services.mail import in_language_of, send_mail
from app.services.passwords import hash_password, password_problem

VERIFY_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 3600


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"infratrace-{purpose}")


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def _hash_digest(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def verification_token(user: User) -> str:
    return _serializer("verify-email").dumps({"u": user.id, "e": _email_digest(user.email)})


def send_verification(user: User, public_url: str) -> None:
    with in_language_of(user):
        send_mail(
            user.email,
            _("Verify your email address for InfraTrace"),
            _("Hello %(username)s,\n\nplease confirm that this address belongs to you by opening this link "
              "within 3 days:\n\n%(link)s\n\n"
              "Until it is verified, teams cannot add you by this address directly, and password reset "
              "links cannot be sent to it. If you did not sign up, ignore this mail.\n",
              username=user.username, link=f"{public_url}/verify-email/{verification_token(user)}"),
        )


def verify_email(token: str, ip: str | None = None) -> User:
    try:
        data = _serializer("verify-email").loads(token, max_age=VERIFY_MAX_AGE)
    except SignatureExpired:
        raise ValidationError(
            _("This verification link has expired; ask for a new one on your profile page.")) from None
    except BadSignature:
        raise ValidationError(_("This verification link is not valid.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_active or not hmac.compare_digest(_email_digest(user.email), str(data.get("e"))):
        raise ValidationError(_("This verification link is for an address your account no longer uses."))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record_event(user, "email_verified", ip=ip, detail=user.email)
    return user


def email_changed(user: User, old_email: str, public_url: str) -> None:
    """After an email change: the new address must be verified, and the old one is told."""
    user.email_verified_at = None
    send_verification(user, public_url)
    with in_language_of(user):
        send_mail(
            old_email,
            _("Your InfraTrace email address was changed"),
            _("The email address of your InfraTrace account %(username)s was changed from this address "
              "to %(email)s at %(time)s UTC.\n\nIf you did not do this, reset your password "
              "and contact us: %(link)s\n",
              username=user.username, email=user.email, time=f"{utcnow():%Y-%m-%d %H:%M}",
              link=f"{public_url}/forgot-password"),
        )


def reset_token(user: User) -> str:
    return _serializer("reset-password").dumps({"u": user.id, "h": _hash_digest(user.password_hash)})


def request_password_reset(email: str, public_url: str, ip: str | None = None, user_agent: str = "") -> None:
    """Queue a reset mail when a live account has this *verified* address; otherwise do the same work."""
    try:
        key = normalise_email(email).lower()
    except ValidationError:
        key = email.strip().lower()[:254]
    user = db.session.scalar(select(User).where(User.email_key == key, User.deleted_at.is_(None)))
    # The signing work happens either way, so both answers take the same time.
    reset_token(user) if user is not None else _serializer("reset-password").dumps({"u": "-", "h": "-"})
    if user is not None and user.email_verified_at is not None:
        record_event(user, "password_reset_requested", ip=ip, user_agent=user_agent)
        job_queue.enqueue("send_password_reset", user.id)


def send_password_reset(user_id: str) -> None:
    """The background job's work: mail the link, built from the hash current at sending time."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.email_verified_at is None:
        return
    public_url = current_app.config["INFRATRACE"].public_url
    with in_language_of(user):
        send_mail(
            user.email,
            _("Reset your InfraTrace password"),
            _("Hello %(username)s,\n\nsomeone (hopefully you) asked to reset your password. Choose a new one "
              "within one hour with this link, which works once:\n\n%(link)s\n\n"
              "Resetting signs out every session. Your personal access tokens keep working.\n"
              "If you did not ask for this, ignore this mail: your password stays as it is.\n",
              username=user.username, link=f"{public_url}/reset-password/{reset_token(user)}"),
        )
    db.session.commit()


def user_for_reset(token: str) -> User:
    try:
        data = _serializer("reset-password").loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired:
        raise NotFound(_("This reset link has expired; ask for a new one.")) from None
    except BadSignature:
        raise NotFound(_("This reset link is not valid.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if (user is None or not user.is_active
            or not hmac.compare_digest(_hash_digest(user.password_hash), str(data.get("h")))):
        raise NotFound(_("This reset link was already used or is no longer valid; ask for a new one."))
    return user


def reset_password(user: User, token: str, new_password: str, ip: str | None = None, user_agent: str = "") -> None:
    """Set the new password; every session and remember cookie ends. Tokens are kept."""
    if user_for_reset(token).id != user.id:
        raise NotFound(_("This reset link is not valid."))
    problem = password_problem(new_password)
    if problem:
        raise ValidationError(problem, field="new_password")
    user.password_hash = hash_password(new_password, current_app.config["INFRATRACE"].bcrypt_rounds)
    end_all_sessions(user, "password_reset", ip=ip, user_agent=user_agent)
