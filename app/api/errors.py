"""Every API failure answers {"error": {"code", "message"}} with the right status, never HTML."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from app.api import bp
from app.extensions import db
from app.services.errors import ServiceError

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, **extra: object) -> Response:
    body: dict[str, object] = {"code": code, "message": message}
    body.update({key: value for key, value in extra.items() if value is not None})
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="InfraTrace"'
    return response


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    db.session.rollback()
    response = error_response(exc.status, exc.code, exc.message, field=exc.field, **exc.extra)
    if exc.status == 429:
        response.headers["Retry-After"] = str(int(exc.extra.get("retry_after") or 60))  # type: ignore[call-overload]
    return response


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc: RateLimitExceeded) -> Response:
    response = error_response(429, "rate_limited", "Too many requests; slow down and retry later.")
    retry_after = getattr(exc, "retry_after", None)
    response.headers["Retry-After"] = str(int(retry_after or 60))
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    return error_response(status, HTTP_CODES.get(status, "error"), exc.description or exc.name)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def register_app_handlers(app) -> None:  # type: ignore[no-untyped-def]
    """Unknown /api paths and 405s never reach a blueprint, so the app answers them in JSON too."""

    @app.errorhandler(404)
    def _not_found(exc):  # type: ignore[no-untyped-def]
        if is_api_request():
            return error_response(404, "not_found", "No such API endpoint or object.")
        from app.web.errors import html_error

        return html_error(404, "Page not found", "There is nothing here, or you cannot see it.")

    @app.errorhandler(405)
    def _not_allowed(exc):  # type: ignore[no-untyped-def]
        if is_api_request():
            return error_response(405, "method_not_allowed", "This method is not allowed here.")
        from app.web.errors import html_error

        return html_error(405, "Method not allowed", "This page does not accept that request.")

    @app.errorhandler(413)
    def _too_large(exc):  # type: ignore[no-untyped-def]
        if is_api_request():
            return error_response(413, "too_large", "The request body is too large.")
        from app.web.errors import html_error

        return html_error(413, "Too large", "What you sent is larger than allowed.")

    @app.errorhandler(500)
    def _server_error(exc):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if is_api_request():
            return error_response(500, "internal", "Something went wrong on our side; it has been logged.")
        from app.web.errors import html_error

        return html_error(500, "Something went wrong", "It has been logged. Please try again.")
