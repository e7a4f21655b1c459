"""Small, shared checks for request bodies: every refusal names the field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from app.services.errors import BadRequest, ValidationError

SLUG_RE = re.compile(r"[^a-z0-9]+")


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
    body: Mapping[str, Any], key: str, *, max_length: int, required: bool = False, default: str = ""
) -> str:
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
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValidationError(f"'{key}' contains control characters.", field=key, code="invalid")
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
