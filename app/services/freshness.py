"""Fresh sign-in for sensitive actions: the password typed recently in this session.

A session restored from a remember cookie is never fresh (Flask-Login marks it so), and a fresh
one goes stale after FRESH_LOGIN_MINUTES. Sensitive actions (tokens, email or password change,
export, account deletion, ownership transfer, billing) call `require_fresh` (API, session
callers) or use the web decorator `app.web.fresh.require_fresh_login`. Bearer-token callers are
not asked: a token is itself a credential the user created, scoped and can revoke.
"""

from __future__ import annotations

import time

from flask import current_app, has_request_context, session
from flask_login import login_fresh

from app.services.errors import Unauthorized

FRESH_AT = "_fresh_at"


def mark_fresh() -> None:
    """Call right after the password was checked (log-in, sign-up, re-authentication)."""
    session["_fresh"] = True
    session[FRESH_AT] = int(time.time())
    # A session restored from the remember cookie carries no session-protection identifier, and
    # Flask-Login then marks it stale again on every request; bind it as login_user would.
    session["_id"] = current_app.login_manager._session_identifier_generator()  # type: ignore[attr-defined]


def is_fresh() -> bool:
    if not has_request_context() or not login_fresh():
        return False
    fresh_at = session.get(FRESH_AT)
    if not isinstance(fresh_at, int):
        return False
    window = current_app.config["INFRATRACE"].fresh_login_minutes * 60
    return time.time() - fresh_at <= window


def require_fresh() -> None:
    """For session-authenticated API calls: refuse with 401 `fresh_login_required` when stale."""
    if not is_fresh():
        raise Unauthorized(
            "This action needs a fresh sign-in: confirm your password at /reauth, or use a personal "
            "access token.",
            code="fresh_login_required",
        )
