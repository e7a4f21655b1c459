"""`require_fresh_login`: the decorator for every sensitive web action (billing uses it too).

A stale session (restored from the remember cookie, or older than FRESH_LOGIN_MINUTES since the
password was typed) is sent to /reauth to type the password again, then back to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services.freshness import is_fresh


def _return_path() -> str:
    """Where to come back to: the page itself for GET, the page that held the form for POST."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/") and not referrer.path.startswith("//"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("dashboard.index")


def reauth_redirect() -> Response | None:
    """A redirect to /reauth when this session is not fresh, else None (for views that decide late)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    if not is_fresh():
        flash(_("Please confirm your password to continue."), "info")
        return redirect(url_for("auth.reauth", next=_return_path()))
    return None


def require_fresh_login(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a sensitive view (put it below @login_required or use it alone)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return reauth_redirect() or view(*args, **kwargs)

    return wrapper
