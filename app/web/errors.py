"""The web pages' answer to a service refusal that a view lets through: the error page."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.http.errors import html_error
from app.services.errors import ServiceError

TITLES = {400: _l("Bad request"), 402: _l("Plan limit reached"), 403: _l("Not allowed"), 404: _l("Not found"),
          409: _l("Conflict"), 413: _l("Too large"), 422: _l("Invalid request"), 429: _l("Too many requests")}


def shown(exc: ServiceError) -> str:
    """The service's refusal as a web page shows it: in the reader's language where the catalogue has
    the message (the API keeps `exc.message`, English)."""
    return gettext(exc.template, **exc.params)


def service_error_page(exc: ServiceError):  # type: ignore[no-untyped-def]
    """Roll back whatever the request wrote before the refusal, then show the error page with the
    service's message and the status it chose. Blueprints register it for ServiceError."""
    db.session.rollback()
    return html_error(exc.status, str(TITLES.get(exc.status, _l("Error"))), shown(exc))
