"""The preference cookie: theme and language, one year, the only non-essential cookie we set.

The policy names two cookies: the session (essential) and this one. It holds nothing but two
choices from fixed lists ("dark.en"); an unknown or tampered value falls back to the defaults.
"""

from __future__ import annotations

from flask import Response, current_app, has_request_context, request

from app.i18n import PREFERENCE_COOKIE as COOKIE
from app.web.forms import LANGUAGE_CHOICES, THEME_CHOICES

MAX_AGE = 365 * 24 * 3600
THEMES = tuple(choice.value for choice in THEME_CHOICES)
LANGUAGES = tuple(choice.value for choice in LANGUAGE_CHOICES)
DEFAULTS = {"theme": THEMES[0], "language": LANGUAGES[0]}


def current() -> dict[str, str]:
    """The caller's preferences from the cookie, defaults for anything missing or unknown."""
    raw = request.cookies.get(COOKIE) if has_request_context() else None
    theme, _, language = (raw or "").partition(".")
    return {
        "theme": theme if theme in THEMES else DEFAULTS["theme"],
        "language": language if language in LANGUAGES else DEFAULTS["language"],
    }


def set_cookie(response: Response, theme: str, language: str) -> None:
    if theme not in THEMES or language not in LANGUAGES:
        raise ValueError("unknown preference")
    response.set_cookie(
        COOKIE,
        f"{theme}.{language}",
        max_age=MAX_AGE,
        path="/",
        samesite="Lax",
        httponly=True,  # only the server reads it (to render the page)
        secure=current_app.config["INFRATRACE"].secure_cookies,
    )

