"""Field checks shared by the inventory services (projects, networks, tasks).

Each check names the field it refuses, so the API answers 422 with that field and the web form
shows the message beside the input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from app.services.errors import ValidationError
from app.services.validation import check_text

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
METADATA_MAX_KEYS = 100
METADATA_MAX_KEY_LENGTH = 100
METADATA_MAX_BYTES = 16 * 1024


def slug_field(body: Mapping[str, Any], key: str = "slug", max_length: int = 64) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not SLUG_PATTERN.match(value):
        raise ValidationError(
            "'%(field)s' must be lower-case letters, digits and single hyphens.", field=key, code="invalid",
            params={"field": key}
        )
    if len(value) > max_length:
        raise ValidationError("'%(field)s' must be at most %(limit)s characters.", field=key, code="too_long",
                              params={"field": key, "limit": max_length})
    return value


def metadata_field(body: Mapping[str, Any], key: str = "metadata") -> dict[str, Any]:
    """A JSON object of string keys; values may be any JSON, within a size bound."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError("'%(field)s' must be a JSON object.", field=key, code="wrong_type", params={"field": key})
    if len(value) > METADATA_MAX_KEYS:
        raise ValidationError("'%(field)s' may have at most %(limit)s keys.", field=key, code="too_long",
                              params={"field": key, "limit": METADATA_MAX_KEYS})
    for name in value:
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("'%(field)s' keys must be non-empty strings.", field=key, code="invalid",
                                  params={"field": key})
        if len(name) > METADATA_MAX_KEY_LENGTH:
            raise ValidationError(
                "'%(field)s' keys must be at most %(limit)s characters.", field=key, code="too_long",
                params={"field": key, "limit": METADATA_MAX_KEY_LENGTH}
            )
    if len(json.dumps(value).encode()) > METADATA_MAX_BYTES:
        raise ValidationError("'%(field)s' must be at most %(limit)s bytes as JSON.", field=key,
                              code="too_long", params={"field": key, "limit": METADATA_MAX_BYTES})
    return value


def date_field(body: Mapping[str, Any], key: str) -> date | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValidationError("'%(field)s' must be a date as YYYY-MM-DD.", field=key, code="invalid",
                              params={"field": key})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("'%(field)s' is not a real date (%(value)s).", field=key, code="invalid",
                              params={"field": key, "value": value}) from None


def text_field(body: Mapping[str, Any], key: str, *, max_length: int) -> str:
    """Long free text (descriptions, Markdown): keeps inner whitespace, refuses control characters."""
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("'%(field)s' must be a string.", field=key, code="wrong_type", params={"field": key})
    if len(value) > max_length:
        raise ValidationError("'%(field)s' must be at most %(limit)s characters.", field=key, code="too_long",
                              params={"field": key, "limit": max_length})
    return check_text(value, key).strip()


def status_field(body: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = body.get(key)
    if value not in choices:
        raise ValidationError("'%(field)s' must be one of: %(choices)s.", field=key, code="invalid_choice",
                              params={"field": key, "choices": ", ".join(choices)})
    return value  # type: ignore[return-value]
