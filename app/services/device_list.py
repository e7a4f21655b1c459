"""Fleet-sized device lists: filters, sort on every column and keyset paging, for the web page and
the API alike (one parser, one query, so both answer the same question the same way).

A page reads at most `limit + 1` rows off a (project_id, sort column, id) index (migration
0012_pages), so a 10,000-device project costs what a 50-device one does. No offsets, no total
count over the filtered set: "next" carries the last row's (sort value, id) as an opaque cursor.

Filters are independent clauses built by `_clauses` (compliance reads the current evaluation of
each device's head); a new one is one more parameter in `FILTER_PARAMS` and one more clause there.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, literal, or_, select, tuple_

from app.extensions import db
from app.models import COMPLIANCE_STATUSES, DEVICE_STATUSES, ComplianceResult, Device, DeviceTag, Project
from app.services.errors import ValidationError
from app.services.teams import TeamAccess

# Sort keys people and scripts use -> model columns (each has its index; see DEVICE_SORT_COLUMNS).
SORTS: dict[str, Any] = {
    "name": Device.name,
    "vendor": Device.vendor,
    "model": Device.model,
    "status": Device.status,
    "location": Device.location,
    "last_changed": Device.last_changed_at,
    "versions": Device.version_count,
}
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_LIMIT = 50
MAX_TEXT = 100
MAX_CURSOR = 400
# Query parameters that filter (the page keeps them in its links; the API documents them).
FILTER_PARAMS = ("q", "vendor", "model", "status", "tag", "location", "changed_after", "changed_before",
                 "archived", "compliance")
# The compliance filter reads the current evaluation of each device's head (app/services/compliance.py);
# "unknown" is a device not evaluated yet.
COMPLIANCE_CHOICES = (*COMPLIANCE_STATUSES, "unknown")
ARCHIVED_CHOICES = ("exclude", "include", "only")


@dataclass(frozen=True)
class DeviceQuery:
    """A validated list request; `args()` gives it back as query parameters for links."""

    q: str = ""
    vendor: str = ""
    model: str = ""
    status: tuple[str, ...] = ()
    tag: str = ""
    location: str = ""
    changed_after: date | None = None
    changed_before: date | None = None
    archived: str = "include"
    compliance: str = ""
    sort: str = "name"
    descending: bool = False
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.vendor or self.model or self.status or self.tag or self.location
                    or self.changed_after or self.changed_before or self.archived != "include" or self.compliance)

    def args(self, **override: Any) -> dict[str, Any]:
        """Non-default parameters (for url_for), with `override` applied; the cursor is dropped
        unless given, since a new sort or filter starts at the first page."""
        values: dict[str, Any] = {
            "q": self.q, "vendor": self.vendor, "model": self.model, "status": list(self.status),
            "tag": self.tag, "location": self.location,
            "changed_after": self.changed_after.isoformat() if self.changed_after else "",
            "changed_before": self.changed_before.isoformat() if self.changed_before else "",
            "archived": "" if self.archived == "include" else self.archived,
            "compliance": self.compliance,
            "sort": "" if self.sort == "name" else self.sort,
            "dir": "desc" if self.descending else "",
            "limit": "" if self.limit == DEFAULT_LIMIT else self.limit,
        }
        values.update(override)
        return {key: value for key, value in values.items() if value not in ("", None, [])}


def _text(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key) or ""
    if not isinstance(value, str):
        raise ValidationError("'%(field)s' must be text.", field=key, code="wrong_type", params={"field": key})
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ValidationError("'%(field)s' must be at most %(limit)s characters.", field=key, code="too_long",
                              params={"field": key, "limit": MAX_TEXT})
    if any(ord(ch) < 32 for ch in value):
        raise ValidationError("'%(field)s' contains control characters.", field=key, code="invalid",
                              params={"field": key})
    return value


def _cursor_text(args: Mapping[str, Any]) -> str | None:
    value = args.get("cursor") or None
    if value is not None and (not isinstance(value, str) or len(value) > MAX_CURSOR):
        raise ValidationError("'cursor' is not a cursor this list gave out.", field="cursor", code="invalid")
    return value


def _date(args: Mapping[str, Any], key: str) -> date | None:
    value = _text(args, key)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("'%(field)s' must be a date such as 2026-01-31.", field=key, code="invalid",
                              params={"field": key}) from None


def _getlist(args: Mapping[str, Any], key: str) -> list[str]:
    if hasattr(args, "getlist"):
        values = args.getlist(key)
    else:
        raw = args.get(key)
        values = raw if isinstance(raw, list) else [raw] if raw else []
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise ValidationError("'%(field)s' must be text.", field=key, code="wrong_type", params={"field": key})
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def parse(args: Mapping[str, Any]) -> DeviceQuery:
    """Validates list parameters (request.args or a dict); every refusal names its parameter."""
    statuses = _getlist(args, "status")
    for status in statuses:
        if status not in DEVICE_STATUSES:
            raise ValidationError("'status' must be one of %(choices)s.", field="status",
                                  code="invalid", params={"choices": ", ".join(DEVICE_STATUSES)})
    sort = _text(args, "sort") or "name"
    descending = False
    if sort.startswith("-"):
        sort, descending = sort[1:], True
    if sort not in SORTS:
        raise ValidationError("'sort' must be one of %(sorts)s (prefix '-' or dir=desc for "
                              "newest/largest first).", field="sort", code="invalid",
                              params={"sorts": ", ".join(SORTS)})
    direction = _text(args, "dir").lower()
    if direction not in ("", "asc", "desc"):
        raise ValidationError("'dir' must be asc or desc.", field="dir", code="invalid")
    descending = descending or direction == "desc"
    raw_limit = _text(args, "limit")
    if raw_limit:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise ValidationError("'limit' must be a whole number.", field="limit", code="invalid") from None
        if limit < 1:
            raise ValidationError("'limit' must be at least 1.", field="limit", code="invalid")
        limit = min(limit, max(PAGE_SIZES))
    else:
        limit = DEFAULT_LIMIT
    archived = _text(args, "archived") or "include"
    if archived not in ARCHIVED_CHOICES:
        raise ValidationError("'archived' must be one of %(choices)s.", field="archived",
                              code="invalid", params={"choices": ", ".join(ARCHIVED_CHOICES)})
    compliance = _text(args, "compliance")
    if compliance and compliance not in COMPLIANCE_CHOICES:
        raise ValidationError("'compliance' must be one of %(choices)s.", field="compliance",
                              code="invalid", params={"choices": ", ".join(COMPLIANCE_CHOICES)})
    after, before = _date(args, "changed_after"), _date(args, "changed_before")
    if after and before and after > before:
        raise ValidationError("'changed_after' must not be later than 'changed_before'.", field="changed_after",
                              code="invalid")
    return DeviceQuery(
        q=_text(args, "q"), vendor=_text(args, "vendor"), model=_text(args, "model"), status=tuple(statuses),
        tag=_text(args, "tag").lower(), location=_text(args, "location"), changed_after=after,
        changed_before=before, archived=archived, compliance=compliance, sort=sort, descending=descending, limit=limit,
        cursor=_cursor_text(args),
    )


def _like(value: str) -> str:
    """A LIKE pattern matching `value` anywhere, with LIKE's own wildcards taken literally."""
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _clauses(query: DeviceQuery) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if query.q:  # name, slug or serial contains (case-insensitive), as NetBox's quick search
        pattern = _like(query.q)
        clauses.append(or_(func.lower(Device.name).like(pattern, escape="\\"),
                           func.lower(Device.slug).like(pattern, escape="\\"),
                           func.lower(Device.serial).like(pattern, escape="\\")))
    if query.vendor:  # vendor or platform (model) contains
        clauses.append(func.lower(Device.vendor).like(_like(query.vendor), escape="\\"))
    if query.model:
        clauses.append(func.lower(Device.model).like(_like(query.model), escape="\\"))
    if query.location:
        clauses.append(func.lower(Device.location).like(_like(query.location), escape="\\"))
    if query.status:
        clauses.append(Device.status.in_(query.status))
    if query.tag:
        clauses.append(exists().where(DeviceTag.device_id == Device.id, DeviceTag.tag == query.tag))
    if query.changed_after:
        clauses.append(Device.last_changed_at >= _day_start(query.changed_after))
    if query.changed_before:  # inclusive: the whole of that day
        clauses.append(Device.last_changed_at < _day_start(query.changed_before + timedelta(days=1)))
    if query.compliance:
        current = exists().where(ComplianceResult.device_id == Device.id, ComplianceResult.current.is_(True))
        if query.compliance == "unknown":
            clauses.append(~current)
        else:
            clauses.append(current.where(ComplianceResult.status == query.compliance))
    if query.archived == "exclude":
        clauses.append(Device.archived_at.is_(None))
    elif query.archived == "only":
        clauses.append(Device.archived_at.is_not(None))
    return clauses


def _encode_cursor(sort: str, value: Any, device_id: str) -> str:
    plain = {"$dt": value.isoformat()} if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([sort, plain, device_id]).encode()).decode().rstrip("=")


# What a cursor's sort value must be, per sort key (a cursor names the sort it was made for).
_CURSOR_TYPES: dict[str, type] = {"last_changed": datetime, "versions": int}


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != 3 or raw[0] != sort or not isinstance(raw[2], str):
            raise ValueError
        _, value, device_id = raw
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["$dt"])
        wanted = _CURSOR_TYPES.get(sort, str)
        if value is not None and (not isinstance(value, wanted) or isinstance(value, bool)):
            raise ValueError
        return value, device_id
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("'cursor' is not a cursor this list gave out for this sort.", field="cursor",
                              code="invalid") from None


def _keyset(column: Any, value: Any, device_id: str, descending: bool) -> ColumnElement[bool]:
    """Rows after (value, id) in the order (column [desc], id [desc]), value not NULL."""
    # A row-value comparison: PostgreSQL and SQLite both turn it into one range of the index.
    row, bound = tuple_(column, Device.id), tuple_(literal(value, column.type), literal(device_id, Device.id.type))
    return row < bound if descending else row > bound


def page(access: TeamAccess, project: Project, query: DeviceQuery) -> dict[str, Any]:
    """{"items": [Device, ...], "next_cursor": str | None} for one page of the project's devices.

    Order: the sort column (either way), then id; NULLs (a device not indexed yet has no
    last_changed_at) come last in both directions. They are read as a second, separate step, so
    that each step is a plain range scan of a (project_id, column, id) index, forwards or backwards
    ("ORDER BY x DESC NULLS LAST" in one query is an order no such index can serve on PostgreSQL).
    """
    access.require("inventory.read")
    column = SORTS[query.sort]
    base: Select[tuple[Device]] = select(Device).where(Device.project_id == project.id, *_clauses(query))
    value, device_id = _decode_cursor(query.cursor, query.sort) if query.cursor else (None, None)
    if value is None and device_id is not None and not column.nullable:
        raise ValidationError("'cursor' is not a cursor this list gave out.", field="cursor", code="invalid")
    wanted = query.limit + 1
    by_id = Device.id.desc() if query.descending else Device.id.asc()
    rows: list[Device] = []
    in_nulls = device_id is not None and value is None
    if not in_nulls:
        stmt = base.where(column.is_not(None)) if column.nullable else base
        if device_id is not None:
            stmt = stmt.where(_keyset(column, value, device_id, query.descending))
        first = column.desc() if query.descending else column.asc()
        rows = list(db.session.scalars(stmt.order_by(first, by_id).limit(wanted)))
    if column.nullable and len(rows) < wanted:
        stmt = base.where(column.is_(None))
        if in_nulls:
            stmt = stmt.where(Device.id < device_id if query.descending else Device.id > device_id)
        rows += list(db.session.scalars(stmt.order_by(by_id).limit(wanted - len(rows))))
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        next_cursor = _encode_cursor(query.sort, getattr(last, column.key), last.id)
    return {"items": rows, "next_cursor": next_cursor}
