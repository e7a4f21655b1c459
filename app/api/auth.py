"""Who is calling the API: a Bearer token, or the browser session (then CSRF applies to writes)."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError as WTFValidationError

from app.api import bp
from app.models import User
from app.services import auth_limits
from app.services.device_door import Actor
from app.services.errors import BadRequest, Forbidden, Unauthorized
from app.services.tokens import user_for_token

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Endpoints that authenticate on their own (HTTP Basic) or are public.
PUBLIC_ENDPOINTS = {"api.create_token", "api.openapi"}


def via_session() -> bool:
    """True when the caller is the browser session (no Authorization header): freshness applies."""
    return not request.headers.get("Authorization") and current_user.is_authenticated


@bp.before_request
def authenticate() -> None:
    g.api_user = None
    g.api_scopes = ()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        # A valid token is always accepted (no lock-out); only wrong ones count and meet the limit.
        found = user_for_token(credentials.strip())
        if found is None:
            auth_limits.check(request.remote_addr, None)
            auth_limits.record_failure(request.remote_addr, None)
            raise Unauthorized("The token is invalid, expired or revoked.", code="invalid_token")
        g.api_user, token = found
        g.api_scopes = tuple(token.scope_list)
    elif header:
        raise Unauthorized("Use 'Authorization: Bearer <token>' with a personal access token.")
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except (CSRFError, WTFValidationError):
                raise BadRequest("Missing or invalid X-CSRFToken header.", code="csrf") from None
        g.api_user = current_user._get_current_object()
        g.api_scopes = ("read", "write")
    else:
        raise Unauthorized("Authentication required: send 'Authorization: Bearer <token>'.")
    if request.method not in SAFE_METHODS and "write" not in g.api_scopes:
        raise Forbidden("This token is read-only; a token with the 'write' scope is needed.",
                        code="insufficient_scope")


def api_user() -> User:
    return g.api_user


def api_actor() -> Actor:
    """The caller as the door sees them: the user and this token's scopes."""
    return Actor(g.api_user, frozenset(g.api_scopes), "api")
