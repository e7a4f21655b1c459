"""Comparing versions: the options of a diff (context, whitespace, line ends, paging), the two
versions' metadata for the compare header, the pickers' choices, folded lines and the API's
truthful line shape. Permissions go through `versions` (read access to the device).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models import CommitRecord, Device, User
from app.services import versions
from app.services.errors import NotFound, ValidationError
from app.services.gitstore_bridge import open_repo
from app.services.validation import flag_arg
from gitstore import AmbiguousRevision, Diff, DiffLine, RevisionNotFound
from gitstore.linediff import LineDiffOptions

# Lines per page of a paged diff; a longer diff shows its next hunks on the next page.
PAGE_LINES = 1000
# Lines per page of a config shown in the browser (anchors `#L<n>` reach any line).
CONFIG_PAGE_LINES = 2000
MAX_FOLD_LINES = 20_000
PICKER_VERSIONS = 100


@dataclass(frozen=True)
class DiffRequest:
    """What a compare page or the API asked for, validated."""

    context: int
    options: LineDiffOptions
    page_from: int | None


def diff_request(args: Mapping[str, Any], paged: bool) -> DiffRequest:
    context = versions._context(args.get("context"))
    page_from: int | None = None
    if paged:
        raw = args.get("hunk") or "0"
        if not str(raw).isdigit() or len(str(raw)) > 9:
            raise ValidationError("'hunk' must be a whole number.", field="hunk", code="invalid")
        page_from = int(raw)
    options = LineDiffOptions(context_lines=context, ignore_whitespace=flag_arg(args, "ignore_ws"),
                              ignore_eol=flag_arg(args, "ignore_eol"), words=True)
    return DiffRequest(context, options, page_from)


def diff_device(device: Device, from_rev: str | None, to_rev: str | None, request: DiffRequest) -> Diff:
    """Any two versions of one device; `to` defaults to HEAD and `from` to the first parent of `to`."""
    with open_repo(device) as repo:
        try:
            to_id = repo.resolve(to_rev or "HEAD")
        except (RevisionNotFound, AmbiguousRevision) as exc:
            raise versions._rev_error(exc, "to") from None
        if from_rev:
            try:
                from_id = repo.resolve(from_rev)
            except (RevisionNotFound, AmbiguousRevision) as exc:
                raise versions._rev_error(exc, "from") from None
        else:
            parents = repo.commit_info(to_id).parents
            from_id = parents[0] if parents else to_id
        budget = PAGE_LINES if request.page_from is not None else versions.MAX_DIFF_LINES
        return repo.diff(from_id, to_id, context_lines=request.context,
                         max_file_bytes=versions.MAX_DIFF_FILE_BYTES, max_total_lines=budget,
                         options=request.options, page_from=request.page_from)


def diff_for(user: User, device_id: str, args: Mapping[str, Any]) -> tuple[Device, Diff]:
    """GET /diff: `from`, `to`, `context`, `ignore_ws`, `ignore_eol` (all optional)."""
    device, _ = versions._access(user, device_id, "version.read")
    return device, diff_device(device, args.get("from") or None, args.get("to") or None,
                               diff_request(args, paged=False))


# -- the compare header -------------------------------------------------------------------------


def version_summary(device: Device, commit: str) -> dict[str, Any]:
    """Date, message, author and position of one version (SQL index; git for unindexed ones)."""
    row = db.session.scalar(select(CommitRecord).where(CommitRecord.device_id == device.id,
                                                       CommitRecord.sha == commit))
    if row is not None:
        user = db.session.get(User, row.author_id) if row.author_id else None
        return {"commit": commit, "message": row.message, "created_at": row.created_at, "seq": row.seq,
                "author": versions.author_json(user, row.author_pseudonym)}
    with open_repo(device) as repo:
        info = repo.commit_info(commit)
    return {"commit": commit, "message": info.message, "created_at": info.created_at, "seq": None,
            "author": {"display_name": info.author_name, "username": None, "pseudonym": info.author_name}}


def versions_between(device: Device, old: dict[str, Any], new: dict[str, Any]) -> int | None:
    """How many versions lie after `old` up to and including `new` (negative when `new` is older)."""
    if old["seq"] is None or new["seq"] is None:
        return None
    return int(new["seq"]) - int(old["seq"])


def picker_choices(user: User, device: Device) -> dict[str, Any]:
    """Recent versions and every tag, for the compare page's searchable pickers."""
    rows = list(db.session.execute(
        select(CommitRecord.sha, CommitRecord.message, CommitRecord.created_at)
        .where(CommitRecord.device_id == device.id).order_by(CommitRecord.seq.desc()).limit(PICKER_VERSIONS)))
    total = db.session.scalar(select(func.count()).select_from(CommitRecord)
                              .where(CommitRecord.device_id == device.id)) or 0
    tags = versions.list_tags(user, device.id) if device.head_commit else []
    return {"versions": [{"commit": r.sha, "message": (r.message or "").splitlines()[0] if r.message else "",
                          "created_at": r.created_at} for r in rows],
            "tags": [{"name": t.name, "commit": t.target} for t in tags], "total": total}


# -- folded lines -------------------------------------------------------------------------------


def fold_lines(user: User, device_id: str, rev: str, path: str, start: int, end: int) -> list[tuple[int, str]]:
    """Lines start..end (1-based, inclusive) of a file at `rev`, decoded truthfully."""
    if start < 1 or end < start or end - start >= MAX_FOLD_LINES:
        raise ValidationError("Ask for 1 to %(limit)s lines, from line 1 on.", field="start",
                              code="invalid", params={"limit": MAX_FOLD_LINES})
    data = versions.read_file(user, device_id, rev, path)
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return [(number, lines[number - 1].decode("utf-8", "backslashreplace"))
            for number in range(start, min(end, len(lines)) + 1)]


# -- a config in pages --------------------------------------------------------------------------


def config_page(data: bytes, page: int, query: str | None) -> dict[str, Any]:
    """One page of a text config's lines, and (with a query) the lines matching it."""
    lines = data.split(b"\n")
    final_newline = data.endswith(b"\n")
    if final_newline:
        lines.pop()
    pages = max(1, -(-len(lines) // CONFIG_PAGE_LINES))
    page = min(max(page, 1), pages)
    first = (page - 1) * CONFIG_PAGE_LINES
    shown = [(first + i + 1, line.decode("utf-8", "backslashreplace"))
             for i, line in enumerate(lines[first: first + CONFIG_PAGE_LINES])]
    matches: list[tuple[int, str]] = []
    if query:
        needle = query.encode("utf-8", "surrogateescape").lower()
        matches = [(i + 1, line.decode("utf-8", "backslashreplace")) for i, line in enumerate(lines)
                   if needle in line.lower()][:500]
    return {"lines": shown, "page": page, "pages": pages, "total": len(lines),
            "final_newline": final_newline or not lines, "matches": matches, "query": query or ""}


def page_of_line(line: int) -> int:
    return max(1, (line - 1) // CONFIG_PAGE_LINES + 1)


# -- the API's line shape -----------------------------------------------------------------------


def line_json(line: DiffLine) -> dict[str, Any]:
    """A diff line for the API: `content` with odd bytes escaped, the exact bytes in
    `content_base64` when they are not UTF-8, and `no_newline` on a file's unterminated last line."""
    data: dict[str, Any] = {"origin": line.origin, "old_lineno": line.old_lineno,
                            "new_lineno": line.new_lineno, "content": line.content}
    if line.raw is not None:
        data["content_base64"] = base64.b64encode(line.raw).decode()
    if line.no_newline:
        data["no_newline"] = True
    return data


def lines_json(lines: list[DiffLine]) -> list[dict[str, Any]]:
    """`line_json` of a hunk's lines; the common line (UTF-8, newline-terminated) is shaped inline,
    without a call per line (a 1% change to a 50,000-line config has about 4,000 lines)."""
    return [{"origin": line[0], "old_lineno": line[1], "new_lineno": line[2], "content": line[3]}
            if line[5] is None and not line[4] else line_json(line) for line in lines]


def other_device(user: User, device: Device, other_id: str) -> Device:
    """A second device to compare with: same team, readable by the user (else 404)."""
    other, _ = versions._access(user, other_id, "version.read")
    if other.team_id != device.team_id:
        raise NotFound("No such device in this team.", code="not_found")
    return other


def team_peers(device: Device, limit: int = 500) -> list[Device]:
    """Other devices of the same team with at least one version: what a device can be compared with."""
    return list(db.session.scalars(
        select(Device).where(Device.team_id == device.team_id, Device.id != device.id,
                             Device.head_commit.is_not(None)).order_by(Device.name).limit(limit)))
