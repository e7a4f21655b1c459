"""The error answers of the whole app: JSON `{"error": {"code", "message"}}` under /api, HTML pages elsewhere."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from app.extensions import db

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
    503: "unavailable",
}


def html_error(status: int, title: str, message: str):  # type: ignore[no-untyped-def]
    return render_template("error.html", status=status, title=title, message=message), status


def error_response(status: int, code: str, message: str, **extra: object) -> Response:
    body: dict[str, object] = {"code": code, "message": message}
    body.update({key: value for key, value in extra.items() if value is not None})
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="InfraTrace"'
    return response


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def register_app_handlers(app: Flask) -> None:
    """Unknown /api paths and 405s never reach a blueprint, so the app answers them in JSON too."""

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(422)
    def _refused(exc):  # type: ignore[no-untyped-def]
        # Plain aborts of the web views (and an expired CSRF token): Flask's own page would be English.
        status = exc.code or 400
        if is_api_request():
            return error_response(status, HTTP_CODES[status], exc.description or "The request was refused.")
        titles = {400: (_("Bad request"), _("The request could not be understood; go back and try again.")),
                  403: (_("Not allowed"), _("You may not do this.")),
                  422: (_("Invalid request"), _("This request cannot be processed as it is."))}
        title, message = titles[status]
        return html_error(status, title, message)

    @app.errorhandler(404)
    def _not_found(exc):  # type: ignore[no-untyped-def]
        if is_api_request():
            return error_response(404, "not_found", "No such API endpoint or object.")
        return html_error(404, _("Page not found"), _("There is nothing here, or you cannot see it."))

    @app.errorhandler(405)
    def _not_allowed(exc):  # type: ignore[no-untyped-def]
        if is_api_request():
            return error_response(405, "method_not_allowed", "This method is not allowed here.")
        return html_error(405, _("Method not allowed"), _("This page does not accept that request."))

    @app.errorhandler(413)
    def _too_large(exc):  # type: ignore[no-untyped-def]
        if is_api_request():
            return error_response(413, "too_large", "The request body is too large.")
        return html_error(413, _("Too large"), _("What you sent is larger than allowed."))

    @app.errorhandler(429)
    def _too_many_requests(exc):  # type: ignore[no-untyped-def]
        # A request-rate limit of app/http/rate_limits.py (the failed-sign-in 429s are answered by their views).
        from app.http.rate_limits import retry_after

        if is_api_request():
            response = error_response(429, "rate_limited", "Too many requests; slow down and retry later.")
        else:
            response = current_app.make_response(html_error(
                429, _("Too many requests"),
                _("You sent this too often in a short time. Wait a little, then try again.")))
        response.headers["Retry-After"] = str(retry_after())
        return response

    @app.errorhandler(500)
    def _server_error(exc):  # type: ignore[no-untyped-def]
        db.session.rollback()
        if is_api_request():
            return error_response(500, "internal", "Something went wrong on our side; it has been logged.")
        return html_error(500, _("Something went wrong"), _("It has been logged. Please try again."))
