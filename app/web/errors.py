"""The web pages' answer to a service refusal that a view lets through: the error page."""

from __future__ import annotations

from app.extensions import db
from app.http.errors import html_error
from app.services.errors import ServiceError

TITLES = {403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Invalid request"}


def service_error_page(exc: ServiceError):  # type: ignore[no-untyped-def]
    """Roll back whatever the request wrote before the refusal, then show the error page with the
    service's message and the status it chose. Blueprints register it for ServiceError."""
    db.session.rollback()
    return html_error(exc.status, TITLES.get(exc.status, "Error"), exc.message)
