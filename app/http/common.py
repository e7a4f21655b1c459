"""Helpers shared by pages and API handlers: JSON bodies, cursor pagination, URLs, times."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from flask import current_app, request
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db
from app.models import Device
from app.services.errors import BadRequest, ValidationError
from app.services.validation import parse_json, require_object
from gitstore import load_json

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def json_body() -> dict[str, Any]:
    if not request.data:
        raise BadRequest("A JSON body is required.", code="malformed")
    return require_object(parse_json(request.get_data(cache=True)))


def iso(value: datetime | None) -> str | None:
    """`2026-01-31T12:00:00Z` (whole seconds; the wall time as stored, which is UTC). The same text
    strftime("%Y-%m-%dT%H:%M:%SZ") gives, at well under half its cost: history pages call this per row."""
    return value.isoformat(timespec="seconds")[:19] + "Z" if value else None


def public_url(path: str) -> str:
    return current_app.config["INFRATRACE"].public_url + path


def clone_url(device: Device) -> str:
    return public_url(f"/git/{device.team.slug}/{device.project.slug}/{device.slug}.git")


def page_limit() -> int:
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise ValidationError("'limit' must be a whole number.", field="limit") from None
    if limit < 1:
        raise ValidationError("'limit' must be at least 1.", field="limit")
    return min(limit, MAX_LIMIT)


def _encode(values: Sequence[Any]) -> str:
    plain = [{"$dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = load_json(raw)
        if not isinstance(values, list) or len(values) != width:
            raise ValueError
        return [datetime.fromisoformat(v["$dt"]) if isinstance(v, dict) else v for v in values]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("'cursor' is not a cursor this API gave out.", field="cursor") from None


def paginate(
    stmt: Select,
    keys: Sequence[InstrumentedAttribute],
    serialize: Callable[[Any], dict[str, Any]],
    descending: bool = False,
) -> dict[str, Any]:
    """Keyset pagination over `keys` (the last one unique): no offsets, no gaps, no duplicates."""
    limit = page_limit()
    cursor = request.args.get("cursor")
    if cursor:
        values = _decode(cursor, len(keys))
        row = tuple_(*keys)
        bound = tuple_(*[literal(value, key.type) for key, value in zip(keys, values, strict=True)])
        stmt = stmt.where(row < bound if descending else row > bound)
    order = [key.desc() for key in keys] if descending else list(keys)
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, key.key) for key in keys])
    return {"items": [serialize(row) for row in rows], "next_cursor": next_cursor}
