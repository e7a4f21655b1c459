"""Errors raised by the service layer; the API and the web views translate them, nothing else.

A message is English (the API's contract). Written as a template with named placeholders and its
`params` (`NotFound("No device %(name)s.", params={"name": name})`), the web pages can show it in
the reader's language (`app.web.errors.shown`): the class names are extraction keywords of
scripts/i18n.sh, so the literal template lands in the catalogue.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, object] | None = None,
        params: dict[str, object] | None = None,
    ) -> None:
        self.template = message
        self.params = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.field = field
        # More machine-readable detail for the error body, e.g. the current head on a conflict.
        self.extra = extra or {}
        if code:
            self.code = code

    def to_dict(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        error.update(self.extra)
        return {"error": error}


class BadRequest(ServiceError):
    status, code = 400, "bad_request"


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class PlanLimit(ServiceError):
    status, code = 402, "plan_limit"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Conflict(ServiceError):
    status, code = 409, "conflict"


class TooLarge(ServiceError):
    status, code = 413, "too_large"


class ValidationError(ServiceError):
    status, code = 422, "invalid"


class RateLimited(ServiceError):
    status, code = 429, "rate_limited"
