"""Small, shared checks for request bodies: every refusal names the field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from app.services.errors import BadRequest, ValidationError
from gitstore import JSONRefused, load_json

SLUG_RE = re.compile(r"[^a-z0-9]+")
# Never in a name: C0 and C1 controls (NUL, tab, newline, ESC, ...), line and paragraph separators,
# and lone surrogates (no character at all: they cannot even be stored as UTF-8).
NAME_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Never in any text: controls other than tab, newline and carriage return, and lone surrogates.
TEXT_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def parse_json(raw: bytes | str, *, field: str | None = None, what: str = "The request body") -> Any:
    """The one reader of JSON that clients send (API bodies, JSON typed into a form, cursors).

    Strict (gitstore.load_json): too deep, duplicate keys and lone surrogates are 422 naming the
    reason as the code; text that is not JSON is 400 `malformed` (422 when it is one form field).
    """
    try:
        return load_json(raw)
    except JSONRefused as exc:
        if exc.reason == "malformed":
            if field is None:
                raise BadRequest("%(what)s is not valid JSON.", code="malformed", params={"what": what}) from None
            raise ValidationError("%(what)s is not valid JSON (%(reason)s).", field=field, code="invalid",
                                  params={"what": what, "reason": exc.message}) from None
        raise ValidationError("%(what)s is refused: %(reason)s.", field=field, code=exc.reason,
                              params={"what": what, "reason": exc.message}) from None


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", code="malformed")
    return body


def check_fields(body: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str] = ()) -> None:
    allowed = set(allowed)
    for key in body:
        if key not in allowed:
            raise ValidationError("Unknown field '%(field)s'.", field=key, code="unknown_field", params={"field": key})
    for key in required:
        if body.get(key) in (None, ""):
            raise ValidationError("'%(field)s' is required.", field=key, code="required", params={"field": key})


def string_field(
    body: Mapping[str, Any], key: str, *, max_length: int, required: bool = False, default: str = ""
) -> str:
    """`body[key]` as trimmed free text (`check_text`)."""
    value = body.get(key)
    if value is None:
        if required:
            raise ValidationError("'%(field)s' is required.", field=key, code="required", params={"field": key})
        return default
    if not isinstance(value, str):
        raise ValidationError("'%(field)s' must be a string.", field=key, code="wrong_type", params={"field": key})
    value = value.strip()
    if required and not value:
        raise ValidationError("'%(field)s' is required.", field=key, code="required", params={"field": key})
    if len(value) > max_length:
        raise ValidationError("'%(field)s' must be at most %(limit)s characters.", field=key, code="too_long",
                              params={"field": key, "limit": max_length})
    return check_text(value, key)


def check_name(value: Any, field: str, *, max_length: int, required: bool = True, strip: bool = True) -> str:
    """The one check of every name and one-line text people give things: teams, tokens, projects,
    devices, networks, VLANs, tasks, profile names, webhook URLs and descriptions, noise and
    compliance rules (their patterns with `strip=False`: a blank can be the point), collectors'
    device names. Trimmed; no control characters or lone surrogates, which would land raw in
    pages, mails, logs and git, and which PostgreSQL refuses to store (NUL) (tags and config names
    are checked by gitstore)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError("'%(field)s' must be a string.", field=field, code="wrong_type", params={"field": field})
    if strip:
        value = value.strip()
    if required and not value:
        raise ValidationError("'%(field)s' is required.", field=field, code="required", params={"field": field})
    if len(value) > max_length:
        raise ValidationError("'%(field)s' must be at most %(limit)s characters.", field=field, code="too_long",
                              params={"field": field, "limit": max_length})
    if NAME_FORBIDDEN.search(value):
        raise ValidationError("'%(field)s' may not contain control characters.", field=field, code="invalid",
                              params={"field": field})
    return value


def looks_like_id(value: Any) -> bool:
    """Whether `value` can be an object's id at all: ids come from URLs and bodies, and one with a
    NUL or another control character must be "not found", never a query (PostgreSQL refuses NUL)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and not NAME_FORBIDDEN.search(value)


def name_field(body: Mapping[str, Any], key: str, *, max_length: int, required: bool = True) -> str:
    """`check_name` on `body[key]`."""
    return check_name(body.get(key), key, max_length=max_length, required=required)


def check_text(value: str, field: str) -> str:
    """Free text may hold tabs and line breaks, never other controls or lone surrogates."""
    if TEXT_FORBIDDEN.search(value):
        raise ValidationError("'%(field)s' contains control characters.", field=field, code="invalid",
                              params={"field": field})
    return value


def choice_field(body: Mapping[str, Any], key: str, choices: Iterable[str], default: str) -> str:
    choices = tuple(choices)
    value = body.get(key, default)
    if value not in choices:
        raise ValidationError(
            "'%(field)s' must be one of: %(choices)s.", field=key, code="invalid_choice",
            params={"field": key, "choices": ", ".join(choices)}
        )
    return value


TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


def flag_arg(args: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """The one reader of a yes/no parameter (query string or form field): true/1/yes/on or
    false/0/no/off, any case; absent or empty is `default`; anything else is refused, naming it."""
    value = args.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower() if isinstance(value, str) else None
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ValidationError("'%(field)s' must be true or false.", field=name, code="invalid", params={"field": name})


def time_arg(args: Mapping[str, Any], name: str) -> datetime | None:
    """The one reader of a point-in-time parameter: a date (the end of that day, UTC) or an RFC 3339
    time (UTC when it has no offset); absent or empty is None."""
    raw = str(args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValidationError("'%(field)s' must be a date (2026-03-01) or an RFC 3339 time.", field=name,
                              code="invalid", params={"field": name}) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
        if len(raw) == 10:
            value = value.replace(hour=23, minute=59, second=59)
    return value


def slugify(text: str, max_length: int = 60) -> str:
    slug = SLUG_RE.sub("-", text.lower()).strip("-")[:max_length].strip("-")
    return slug or "item"
