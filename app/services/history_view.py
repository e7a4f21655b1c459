"""The device history page's query: newest first, filtered, paged both ways, read from the SQL
commit index only (never by walking git).

Paging is keyset on the device's commit sequence (`seq`, 1 = first version): "older" continues
below the page's last seq, "newer" above its first, "oldest" is the first page of the ascending
order turned round, and "jump to a date" starts at the newest version made on or before that
day. Imports keep their original dates, so dates are not ordered with seq; the jump reads the
newest seq at or before the date off the (device_id, created_at, seq) index.

Filters: a config name (`running-config` finds `configs/running-config`; a folder finds what is
under it), the author's username, and the kind of change (config, ports, photos, metadata).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from app.extensions import db
from app.models import CommitPath, CommitRecord, Device, User
from app.services import version_analysis
from app.services.errors import ValidationError
from app.services.teams import TeamAccess

PAGE_SIZE = 30
MAX_PAGE = 200
MAX_PATH = 300
# Kinds of change -> the paths that make them (config files live under configs/).
KINDS: dict[str, tuple[str, ...]] = {
    "config": ("configs/",),
    "ports": ("ports.json",),
    "photos": ("photos.json",),
    "metadata": ("device.json",),
}
TOP_FILES = ("device.json", "ports.json", "photos.json")


@dataclass(frozen=True)
class HistoryQuery:
    path: str = ""
    author: str = ""
    kind: str = ""
    before: int | None = None  # older than this seq
    after: int | None = None  # newer than this seq
    at: date | None = None
    oldest: bool = False
    limit: int = PAGE_SIZE

    @property
    def filtered(self) -> bool:
        return bool(self.path or self.author or self.kind)

    def args(self, **override: Any) -> dict[str, Any]:
        """The filters as query parameters (for links); paging parameters only when given."""
        values: dict[str, Any] = {"path": self.path, "author": self.author, "kind": self.kind,
                                  "limit": None if self.limit == PAGE_SIZE else self.limit}
        values.update(override)
        return {key: value for key, value in values.items() if value not in ("", None, False)}


def _int(args: Mapping[str, Any], key: str) -> int | None:
    raw = args.get(key)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError("'%(field)s' must be a version number.", field=key, code="invalid",
                              params={"field": key}) from None
    if value < 0 or value > 2**31:
        raise ValidationError("'%(field)s' is out of range.", field=key, code="invalid", params={"field": key})
    return value


def _text(args: Mapping[str, Any], key: str, limit: int) -> str:
    value = args.get(key) or ""
    if not isinstance(value, str) or len(value) > limit or "\0" in value:
        raise ValidationError("'%(field)s' must be at most %(limit)s characters of text.", field=key, code="invalid",
                              params={"field": key, "limit": limit})
    return value.strip()


def parse(args: Mapping[str, Any]) -> HistoryQuery:
    """Validates the history page's parameters (one refusal per bad parameter, naming it)."""
    kind = _text(args, "kind", 20)
    if kind and kind not in KINDS:
        raise ValidationError("'kind' must be one of %(choices)s.", field="kind", code="invalid",
                              params={"choices": ", ".join(KINDS)})
    at = None
    raw_at = _text(args, "at", 40)
    if raw_at:
        try:
            at = date.fromisoformat(raw_at[:10])
        except ValueError:
            raise ValidationError("'at' must be a date such as 2026-01-31.", field="at", code="invalid") from None
    return HistoryQuery(
        path=_text(args, "path", MAX_PATH).strip("/"), author=_text(args, "author", 100).lstrip("@"),
        kind=kind, before=_int(args, "before"), after=_int(args, "after"), at=at,
        oldest=args.get("oldest") in ("1", "true", "yes"),
        limit=min(_int(args, "limit") or PAGE_SIZE, MAX_PAGE) or PAGE_SIZE,
    )


def _path_match(path: str) -> ColumnElement[bool]:
    """The file itself, a config named without its folder, or everything under a folder
    ('0' sorts right after '/', so [p/, p0) is the folder's range on the path index)."""
    names = [path]
    if "/" not in path and path not in TOP_FILES and path != "configs":
        names.append(f"configs/{path}")
    clauses = [CommitPath.path.in_(names)]
    for name in names:
        clauses.append(and_(CommitPath.path > name + "/", CommitPath.path < name + "0"))
    return or_(*clauses)


def _kind_match(kind: str) -> ColumnElement[bool]:
    clauses = []
    for prefix in KINDS[kind]:
        if prefix.endswith("/"):
            clauses.append(and_(CommitPath.path > prefix, CommitPath.path < prefix[:-1] + "0"))
        else:
            clauses.append(CommitPath.path == prefix)
    return or_(*clauses)


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def page(access: TeamAccess, device: Device, query: HistoryQuery) -> dict[str, Any]:
    """{"items", "newer", "older", "author_unknown"} for one page.

    `newer`/`older` are the seqs to pass as after=/before= (None when there is nothing that way).
    """
    access.require("version.read")
    where: list[ColumnElement[bool]] = [CommitRecord.device_id == device.id]
    author_unknown = False
    if query.author:
        user_id = db.session.scalar(select(User.id).where(func.lower(User.username) == query.author.lower()))
        if user_id is None:
            author_unknown = True
        where.append(CommitRecord.author_id == user_id)
    path_filters = []
    if query.path:
        path_filters.append(_path_match(query.path))
    if query.kind:
        path_filters.append(_kind_match(query.kind))
    for match in path_filters:
        where.append(CommitRecord.seq.in_(
            select(CommitPath.seq).where(CommitPath.device_id == device.id, match)))
    limit = query.limit
    ascending = False
    position: list[ColumnElement[bool]] = []
    if query.at is not None:
        start = db.session.scalar(select(func.max(CommitRecord.seq)).where(
            CommitRecord.device_id == device.id, CommitRecord.created_at < _day_end(query.at)))
        position.append(CommitRecord.seq <= (start or 0))
    elif query.after is not None:
        position.append(CommitRecord.seq > query.after)
        ascending = True
    elif query.before is not None:
        position.append(CommitRecord.seq < query.before)
    elif query.oldest:
        ascending = True
    order = CommitRecord.seq.asc() if ascending else CommitRecord.seq.desc()
    rows = list(db.session.scalars(select(CommitRecord).where(*where, *position).order_by(order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if ascending:
        rows.reverse()
    # Whether anything lies beyond each end: the side we paged towards is known from `more`;
    # the other side is one indexed probe.
    if not rows:
        return {"items": [], "newer": None, "older": None, "author_unknown": author_unknown}
    newest, oldest = rows[0].seq, rows[-1].seq

    def exists_beyond(clause: ColumnElement[bool]) -> bool:
        return db.session.scalar(select(CommitRecord.seq).where(*where, clause).limit(1)) is not None

    if ascending:
        has_newer, has_older = more, exists_beyond(CommitRecord.seq < oldest)
    elif query.at is not None or query.before is not None:
        has_newer, has_older = exists_beyond(CommitRecord.seq > newest), more
    else:
        has_newer, has_older = False, more
    return {
        "items": _items(device, rows),
        "newer": newest if has_newer else None,
        "older": oldest if has_older else None,
        "author_unknown": author_unknown,
    }


def _items(device: Device, rows: list[CommitRecord]) -> list[dict[str, Any]]:
    seqs = [r.seq for r in rows]
    paths: dict[int, list[str]] = defaultdict(list)
    for seq, path in db.session.execute(
        select(CommitPath.seq, CommitPath.path).where(CommitPath.device_id == device.id, CommitPath.seq.in_(seqs))
        .order_by(CommitPath.seq, CommitPath.path)
    ):
        paths[seq].append(path)
    user_ids = {r.author_id for r in rows if r.author_id}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    summaries = version_analysis.summaries_for([r.id for r in rows])
    items = []
    for r in rows:
        user = users.get(r.author_id or "")
        known = user is not None and user.deleted_at is None
        items.append({
            "seq": r.seq,
            "commit": r.sha,
            "parent": r.parent_sha,
            "message": r.message,
            "title": (r.message or "").strip().splitlines()[0] if (r.message or "").strip() else "",
            # What changed, block by block (`interface Gi1/0/19: description a -> b`).
            "summary": summaries.get(r.id, []),
            "author": {"username": user.username if known else None,  # type: ignore[union-attr]
                       "display_name": (user.display_name or user.username) if known else r.author_pseudonym},  # type: ignore[union-attr]
            "created_at": r.created_at,
            "files": paths.get(r.seq, []),
            "additions": r.additions,
            "deletions": r.deletions,
        })
    return items
