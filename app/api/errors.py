"""Every API failure answers {"error": {"code", "message"}} with the right status, never HTML."""

from __future__ import annotations

from flask import Response
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from app.api import bp
from app.extensions import db
from app.http.errors import HTTP_CODES, error_response
from app.http.rate_limits import retry_after
from app.services.errors import ServiceError


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    db.session.rollback()
    response = error_response(exc.status, exc.code, exc.message, field=exc.field, **exc.extra)
    response.headers.update(getattr(exc, "headers", None) or {})  # e.g. Retry-After on 503
    if exc.status == 429:
        response.headers["Retry-After"] = str(int(exc.extra.get("retry_after") or 60))  # type: ignore[call-overload]
    return response


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc: RateLimitExceeded) -> Response:
    response = error_response(429, "rate_limited", "Too many requests; slow down and retry later.")
    response.headers["Retry-After"] = str(retry_after())
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    return error_response(status, HTTP_CODES.get(status, "error"), exc.description or exc.name)
