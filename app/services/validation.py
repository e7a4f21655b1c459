"""Small, shared checks for request bodies: every refusal names the field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from app.services.errors import BadRequest, ValidationError
from gitstore import JSONRefused, load_json

SLUG_RE = re.compile(r"[^a-z0-9]+")
# Never in a name: C0 and C1 controls (NUL, tab, newline, ESC, ...), line and paragraph separators,
# and lone surrogates (no character at all: they cannot even be stored as UTF-8).
NAME_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Never in any text: controls other than tab, newline and carriage return, and lone surrogates.
TEXT_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
LINE_BREAK = re.compile("[\n\r]")


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
                raise BadRequest(f"{what} is not valid JSON.", code="malformed") from None
            raise ValidationError(f"{what} is not valid JSON ({exc.message}).", field=field, code="invalid") from None
        raise ValidationError(f"{what} is refused: {exc.message}.", field=field, code=exc.reason) from None


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", code="malformed")
    return body


def check_fields(body: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str] = ()) -> None:
    allowed = set(allowed)
    for key in body:
        if key not in allowed:
            raise ValidationError(f"Unknown field '{key}'.", field=key, code="unknown_field")
    for key in required:
        if body.get(key) in (None, ""):
            raise ValidationError(f"'{key}' is required.", field=key, code="required")


def string_field(
    body: Mapping[str, Any], key: str, *, max_length: int, required: bool = False, default: str = "",
    single_line: bool = False,
) -> str:
    """`body[key]` as trimmed free text (`check_text`); `single_line` also refuses line breaks, for
    values that are one line by nature (a regular expression, a name pattern, a config path)."""
    value = body.get(key)
    if value is None:
        if required:
            raise ValidationError(f"'{key}' is required.", field=key, code="required")
        return default
    if not isinstance(value, str):
        raise ValidationError(f"'{key}' must be a string.", field=key, code="wrong_type")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"'{key}' is required.", field=key, code="required")
    if len(value) > max_length:
        raise ValidationError(f"'{key}' must be at most {max_length} characters.", field=key, code="too_long")
    if single_line and LINE_BREAK.search(value):
        raise ValidationError(f"'{key}' must be one line.", field=key, code="invalid")
    return check_text(value, key)


def check_name(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    """The one check of every name people give things: teams, tokens, projects, devices, networks,
    VLANs, tasks, profile names. Trimmed; no control characters or lone surrogates, which would
    land raw in pages, mails, logs and git (tags and config names are checked by gitstore)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"'{field}' must be a string.", field=field, code="wrong_type")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"'{field}' is required.", field=field, code="required")
    if len(value) > max_length:
        raise ValidationError(f"'{field}' must be at most {max_length} characters.", field=field, code="too_long")
    if NAME_FORBIDDEN.search(value):
        raise ValidationError(f"'{field}' may not contain control characters.", field=field, code="invalid")
    return value


def name_field(body: Mapping[str, Any], key: str, *, max_length: int, required: bool = True) -> str:
    """`check_name` on `body[key]`."""
    return check_name(body.get(key), key, max_length=max_length, required=required)


def check_text(value: str, field: str) -> str:
    """Free text may hold tabs and line breaks, never other controls or lone surrogates."""
    if TEXT_FORBIDDEN.search(value):
        raise ValidationError(f"'{field}' contains control characters.", field=field, code="invalid")
    return value


def choice_field(body: Mapping[str, Any], key: str, choices: Iterable[str], default: str) -> str:
    choices = tuple(choices)
    value = body.get(key, default)
    if value not in choices:
        raise ValidationError(
            f"'{key}' must be one of: {', '.join(choices)}.", field=key, code="invalid_choice"
        )
    return value


def slugify(text: str, max_length: int = 60) -> str:
    slug = SLUG_RE.sub("-", text.lower()).strip("-")[:max_length].strip("-")
    return slug or "item"
