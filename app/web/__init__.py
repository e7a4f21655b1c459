"""Server-rendered web pages: thin views over the service layer, one base layout."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user


def register_web(app: Flask) -> None:
    from app.web import (
        account,
        auth,
        dashboard,
        devices,
        fleet,
        inventory,
        notifications,
        photos,
        preferences,
        privacy,
        security,
        teams,
    )

    for module in (auth, account, privacy, dashboard, teams, devices, inventory, fleet, photos, notifications,
                   security):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _layout_context() -> dict[str, object]:
        from app.services.teams import user_teams

        config = app.config["INFRATRACE"]
        from app.i18n import current_language
        from app.services.policy import banner_for

        signed_in = current_user.is_authenticated
        teams_nav = user_teams(current_user) if signed_in else []
        return {
            "nav_teams": teams_nav,
            "policy_banner": banner_for(current_user._get_current_object()) if signed_in else None,
            "dev_mode": not config.mail_url,
            **preferences.current(),
            # The language actually rendered (the cookie's choice, else the browser's).
            "language": current_language(),
        }

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self'; "
                "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            )
        return response
