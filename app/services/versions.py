"""Equipment versions: writes, history, reads, diffs and tags of a device's repository.

Every write goes through the one door (device_door.change_refs): rules, the repo lock, gitstore's
compare-and-swap ref move, the commit index, the audit event, the mirror job and the SQL commit. History lists
and path filters read the SQL index only; contents and diffs read the repository.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from itertools import chain
from typing import Any

from flask import current_app
from sqlalchemy import String, bindparam, or_, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.extensions import db
from app.models import ChangeSummary, CommitPath, CommitRecord, Device, User
from app.services import device_door
from app.services.access import device_access, device_role_query
from app.services.device_door import Actor, Moved, RefChange, actor_of
from app.services.errors import NotFound, ServiceError, TooLarge, ValidationError
from app.services.gitstore_bridge import author_for, open_repo
from app.services.permissions import require, roles_allowed
from app.services.teams import TeamAccess
from app.services.validation import check_fields
from gitstore import (
    AmbiguousRevision,
    Changes,
    CommitResult,
    DeviceRepo,
    Diff,
    ImportResult,
    ImportVersion,
    InvalidChange,
    RevisionNotFound,
    Snapshot,
    TagInfo,
)

WRITE_FIELDS = {"message", "configs", "configs_base64", "ports", "parent"}
IMPORT_FIELDS = {"versions", "parent"}
IMPORT_VERSION_FIELDS = {"message", "configs", "configs_base64", "ports", "author_time"}
# Versions per import request; a longer history is imported in several requests, each naming
# the head the previous one returned as its `parent`.
MAX_IMPORT_VERSIONS = 1000
MAX_MESSAGE = 10_000
MAX_PATH = 300
MAX_CONTEXT = 100
# Above this a file is flagged too large instead of diffed: libgit2 is fast, but a page is not.
MAX_DIFF_FILE_BYTES = 4 * 1024 * 1024
MAX_DIFF_LINES = 10_000
PSEUDONYM_DOMAIN = "@users.noreply.infratrace"


def _invalid(exc: InvalidChange) -> ValidationError:
    return ValidationError(exc.message, field=exc.field, code="invalid")


def _rev_error(exc: Exception, field: str = "rev") -> Exception:
    if isinstance(exc, AmbiguousRevision):
        return ValidationError(str(exc), field=field, code="ambiguous_revision")
    return NotFound("No such version: %(rev)s", code="unknown_revision", params={"rev": str(exc)})


def _access(user: User, device_id: str, action: str) -> tuple[Device, TeamAccess]:
    device, access = device_access(user, device_id)
    access.require(action)
    return device, access


# -- authors ------------------------------------------------------------------------------------


def author_json(user: Any, pseudonym: str) -> dict[str, Any]:
    """The person when SQL still knows them; otherwise only the pseudonym the repo carries."""
    if user is None or user.deleted_at is not None:
        return {"username": None, "display_name": pseudonym, "pseudonym": pseudonym}
    return {"username": user.username, "display_name": user.display_name or user.username,
            "pseudonym": pseudonym}


def _user_for_email(email: str) -> User | None:
    if not (email.startswith("user-") and email.endswith(PSEUDONYM_DOMAIN)):
        return None
    pseudonym = email[len("user-"): -len(PSEUDONYM_DOMAIN)]
    return db.session.scalar(select(User).where(User.pseudonym == pseudonym))


# -- writing ------------------------------------------------------------------------------------


def _configs(body: dict[str, Any]) -> dict[str, bytes | None]:
    """`configs` (text, stored as UTF-8 bytes exactly) and `configs_base64` (any bytes) merged."""
    limit = current_app.config["INFRATRACE"].max_config_bytes
    result: dict[str, bytes | None] = {}
    for key, decode in (("configs", _text), ("configs_base64", _b64)):
        given = body.get(key)
        if given is None:
            continue
        if not isinstance(given, dict):
            raise ValidationError("'%(key)s' must be an object of name -> content.", field=key, code="wrong_type",
                                  params={"key": key})
        for name, value in given.items():
            field = f"configs.{name}"
            if name in result:
                raise ValidationError("Config '%(name)s' is given twice.", field=field, code="duplicate",
                                      params={"name": name})
            if value is None:
                result[name] = None
                continue
            data = decode(value, field)
            if len(data) > limit:
                raise TooLarge("Config '%(name)s' is larger than %(limit)s bytes.", field=field,
                               params={"name": name, "limit": limit})
            result[name] = data
    return result


def _text(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise ValidationError("A config must be a string or null.", field=field, code="wrong_type")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON "\ud800" escapes
        raise ValidationError("The config is not valid Unicode text.", field=field, code="invalid") from None


def _b64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise ValidationError("A base64 config must be a string or null.", field=field, code="wrong_type")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The config is not valid base64.", field=field, code="invalid") from None


def _message(body: dict[str, Any]) -> str:
    message = body["message"]
    if not isinstance(message, str):
        raise ValidationError("'message' must be a string.", field="message", code="wrong_type")
    if len(message) > MAX_MESSAGE:
        raise ValidationError("'message' must be at most %(limit)s characters.", field="message",
                              code="too_long", params={"limit": MAX_MESSAGE})
    return message


def _parent(body: dict[str, Any]) -> str | None:
    parent = body.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise ValidationError("'parent' must be a commit id.", field="parent", code="wrong_type")
    return parent


def _changes(body: dict[str, Any]) -> Changes:
    ports = body.get("ports", ...)
    return Changes(configs=_configs(body), ports=None if ports is ... else (ports or []))


def write_version(user: User | Actor, device_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """POST versions: returns (the result as JSON-ready data, whether a commit was made)."""
    device, access = device_access(actor_of(user).user, device_id)
    check_fields(body, WRITE_FIELDS, required=("message",))
    return commit(device, access, _changes(body), _message(body), _parent(body), actor=user)


def _author_time(value: Any) -> tuple[int, int]:
    """RFC 3339 text -> (seconds since the epoch, UTC offset in minutes), as git stores it."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationError("'author_time' must be an RFC 3339 date-time.", field="author_time",
                              code="wrong_type")
    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise ValidationError("'author_time' is not an RFC 3339 date-time.", field="author_time",
                              code="invalid") from None
    offset = when.utcoffset()
    if offset is None:
        raise ValidationError("'author_time' needs a time zone (e.g. 'Z' or '+02:00').", field="author_time",
                              code="invalid")
    if not 1970 <= when.year <= 9999 or when.timestamp() < 0 or offset.seconds % 60:
        raise ValidationError("'author_time' is out of range.", field="author_time", code="invalid")
    return int(when.timestamp()), int(offset.total_seconds()) // 60


def _import_version(item: Any) -> ImportVersion:
    if not isinstance(item, dict):
        raise ValidationError("A version must be an object.", field="", code="wrong_type")
    check_fields(item, IMPORT_VERSION_FIELDS, required=("message",))
    when, offset = (None, 0) if item.get("author_time") is None else _author_time(item["author_time"])
    return ImportVersion(_changes(item), _message(item), when, offset)


def _in_version(exc: ServiceError, index: int) -> ServiceError:
    """The same refusal, its field named inside the list: `configs.x` -> `versions[3].configs.x`."""
    exc.field = f"versions[{index}].{exc.field}" if exc.field else f"versions[{index}]"
    exc.message = f"versions[{index}]: {exc.message}"
    return exc


def import_versions(user: User | Actor, device_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST versions/import: many versions, in order, as one all-or-nothing write.

    Each version is validated like a single write. Then, through the door (one repo lock),
    gitstore writes all the new objects as one pack, flushes once and moves `main` once
    (compare-and-swap against `parent`, else the head it read); the index rows, the device
    summary and ONE audit event go in one SQL transaction. Versions that change nothing are
    skipped and reported.
    """
    actor = actor_of(user)
    device, access = device_access(actor.user, device_id)
    check_fields(body, IMPORT_FIELDS, required=("versions",))
    items = body["versions"]
    if not isinstance(items, list):
        raise ValidationError("'versions' must be a list of versions.", field="versions", code="wrong_type")
    if len(items) > MAX_IMPORT_VERSIONS:
        raise TooLarge("At most %(limit)s versions per import; split the history.",
                       field="versions", params={"limit": MAX_IMPORT_VERSIONS})
    parent = _parent(body)
    wanted: list[ImportVersion] = []
    for index, item in enumerate(items):
        try:
            wanted.append(_import_version(item))
        except ServiceError as exc:
            raise _in_version(exc, index) from None
    batch: dict[str, Any] = {}
    for index, version in enumerate(wanted):
        try:
            version.changes = device_door.prepare_content(device, access, version.changes, batch)
        except ServiceError as exc:
            raise _in_version(exc, index) from None

    def move(repo: DeviceRepo) -> Moved:
        expected = _expected_parent(repo, parent)
        result: ImportResult = repo.import_versions(wanted, author_for(actor.user), expected)
        audit_changes: dict[str, Any] = {}
        if result.commits:
            audit_changes = {
                "parent": result.previous_head, "head": result.head, "versions": len(wanted),
                "commits": len(result.commits), "skipped": result.skipped,
                "first": result.commits[0][1].commit,
            }
        return Moved(bool(result.commits), [(c, wanted[i].message) for i, c in result.commits],
                     "import", "device_version", audit_changes, result=result)

    moved = device_door.change_refs(actor, device, access, RefChange("import", "version.write", move))
    result: ImportResult = moved.result
    author = author_json(actor.user, actor.user.author_name)
    return {
        "parent": result.previous_head,
        "head": result.head,
        "commits": [
            {"index": index, **_commit_json(c, wanted[index].message.strip(), author)}
            for index, c in result.commits
        ],
        "skipped": [{"index": index, "reason": "no_change"} for index in result.skipped],
    }


def _commit_json(result: CommitResult, message: str | None, author: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "commit": result.commit,
        "parent": result.parent,
        "created_at": result.created_at,
        "author": author,
    }
    if message is not None:
        data["message"] = message
    data["changed"] = result.changed
    data["files"] = [
        {"path": f.path, "status": f.status, "additions": f.additions, "deletions": f.deletions,
         **({"old_path": f.old_path} if f.old_path else {})}
        for f in result.files
    ]
    return data


def _expected_parent(repo: DeviceRepo, parent: str | None) -> str | None:
    """The full id a write's `parent` names, resolved under the write lock (422 if it names nothing)."""
    if parent is None:
        return None
    try:
        return repo.resolve(parent)
    except (RevisionNotFound, AmbiguousRevision) as exc:
        raise ValidationError("'parent' does not name a commit of this device: %(reason)s",
                              field="parent", code="unknown_parent", params={"reason": str(exc)}) from None


def commit(
    device: Device, access: TeamAccess, changes: Changes, message: str, parent: str | None = None,
    actor: User | Actor | None = None,
) -> tuple[dict[str, Any], bool]:
    """One version through the door: rules, lock, CAS commit, index, audit, jobs, SQL commit."""
    who = actor_of(actor if actor is not None else access.user)

    def move(repo: DeviceRepo) -> Moved:
        expected = _expected_parent(repo, parent)
        # What the door's content steps made of `changes` (noise rules, redaction), never the raw input.
        assert change.content is not None
        result: CommitResult = repo.commit_version(change.content, author_for(who.user), message, expected)
        return Moved(result.changed, [(result, message)], "commit", "device_version",
                     {"commit": result.commit, "parent": result.parent, "message": message.strip()[:200],
                      "files": [f.path for f in result.files]}, result=result)

    change = RefChange("version", "version.write", move, changes)
    moved = device_door.change_refs(who, device, access, change)
    result: CommitResult = moved.result
    return _commit_json(result, None, author_json(who.user, who.user.author_name)), result.changed


# -- history (SQL index only) -------------------------------------------------------------------

# Positions are 32-bit on every backend; a cursor beyond that is not one we gave out.
MAX_SEQ = 2**31 - 1


def _cursor_seq(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("s") or not raw[1:].isdigit():
            raise ValueError
        seq = int(raw[1:])
        if seq > MAX_SEQ:
            raise ValueError
        return seq
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("'cursor' is not a cursor this API gave out.", field="cursor",
                              code="invalid") from None


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


class byte_order(FunctionElement[str]):  # noqa: N801 - reads as the function it renders as
    """`column` compared byte by byte (code point order), independent of any database collation:
    `COLLATE "C"` on PostgreSQL (a linguistic collation puts `configs/CORE/x` or `configs/córe/x`
    between `configs/core/` and `configs/core0`); SQLite's default BINARY already is byte order.
    Rendered per dialect when compiled, so the statements below can be built once at import."""

    type = String()
    inherit_cache = True


@compiles(byte_order)
def _byte_order_plain(element: byte_order, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses.clauses[0], **kw))


@compiles(byte_order, "postgresql")
def _byte_order_postgresql(element: byte_order, compiler: Any, **kw: Any) -> str:
    return f'{compiler.process(element.clauses.clauses[0], **kw)} COLLATE "C"'


# A history page is ONE statement, built once at import (only the values change per request):
# the caller's role on the device's team (`access.device_role_query`: the device is found only
# through the caller's memberships) outer-joined, when that role may read versions, to the page's
# commits (limit + 1, to know whether there is a next page), their authors (outer: a deleted
# account leaves the pseudonym only) and their block summaries (outer: zero or more rows per
# commit, in the order they were written). No row: not the caller's device (404); a role that may
# not read gets the role alone, no commit (403). Plain rows, no ORM objects, one round trip.
_PAGE_COLUMNS = (CommitRecord.id, CommitRecord.seq, CommitRecord.sha, CommitRecord.parent_sha, CommitRecord.message,
                 CommitRecord.author_id, CommitRecord.author_pseudonym, CommitRecord.created_at,
                 CommitRecord.files_changed, CommitRecord.additions, CommitRecord.deletions)
_DEVICE = CommitRecord.device_id == bindparam("device")
_NEWEST_FIRST = CommitRecord.seq.desc()


def _with_access_authors_and_summaries(commits: Any) -> Any:
    access = device_role_query(device="device", user="user").subquery("access")
    page = commits.subquery("page")
    may_read = or_(*(access.c.role == role for role in roles_allowed("version.read")))
    return (select(access.c.role, *page.c, User.username, User.display_name, User.deleted_at, ChangeSummary.summary)
            .select_from(access.outerjoin(page, may_read))
            .outerjoin(User, User.id == page.c.author_id)
            .outerjoin(ChangeSummary, ChangeSummary.commit_id == page.c.id)
            .order_by(page.c.seq.desc(), ChangeSummary.id))


def _path_page(below: bool) -> Any:
    """Commits that touched a file, or anything under a directory. Seqs first, straight off the
    (device_id, path, seq) index: the file itself (read newest first, stopping at the page), and
    the byte range of paths under it as a directory ('0' sorts right after '/'). A directory's
    files share a seq, hence UNION (not ALL). A rename is listed under its new path."""
    column = byte_order(CommitPath.path)
    exact = [CommitPath.device_id == bindparam("device"), CommitPath.path == bindparam("path")]
    under = [CommitPath.device_id == bindparam("device"), column > bindparam("first"), column < bindparam("last")]
    if below:
        exact.append(CommitPath.seq < bindparam("before"))
        under.append(CommitPath.seq < bindparam("before"))
    newest = CommitPath.seq.desc()
    limit = bindparam("limit")
    parts = [select(CommitPath.seq).where(*where).order_by(newest).limit(limit).subquery() for where in (exact, under)]
    seqs = union(*(select(part.c.seq) for part in parts)).subquery("seqs")
    chosen = select(seqs.c.seq).order_by(seqs.c.seq.desc()).limit(limit).subquery("chosen")
    return (select(*_PAGE_COLUMNS).select_from(chosen)
            .join(CommitRecord, (CommitRecord.device_id == bindparam("device")) & (CommitRecord.seq == chosen.c.seq)))


_PAGES = {
    # (path filter?, below a cursor?) -> the statement
    (False, False): _with_access_authors_and_summaries(
        select(*_PAGE_COLUMNS).where(_DEVICE).order_by(_NEWEST_FIRST).limit(bindparam("limit"))),
    (False, True): _with_access_authors_and_summaries(
        select(*_PAGE_COLUMNS).where(_DEVICE, CommitRecord.seq < bindparam("before"))
        .order_by(_NEWEST_FIRST).limit(bindparam("limit"))),
    (True, False): _with_access_authors_and_summaries(_path_page(below=False)),
    (True, True): _with_access_authors_and_summaries(_path_page(below=True)),
}


def history(user: User, device_id: str, path: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """Newest first, keyset on the device's commit sequence; `path` is a file or a directory.

    The access check (404 outside the caller's teams, 403 for a role that may not read) is part
    of the page's one statement; see `_PAGES`."""
    if not isinstance(device_id, str) or len(device_id) > 64:
        raise NotFound("No such device.")
    before = _cursor_seq(cursor)
    params: dict[str, Any] = {"device": device_id, "user": user.id, "limit": limit + 1}
    if before is not None:
        params["before"] = before
    if path:
        path = path.strip("/")
        if len(path) > MAX_PATH or "\0" in path:
            raise ValidationError("'path' is not a valid path.", field="path", code="invalid")
        params.update(path=path, first=path + "/", last=path + "0")
    rows = db.session.connection().execute(_PAGES[bool(path), before is not None], params)
    try:
        return _page_json(rows, limit)
    finally:
        rows.close()


def _page_json(rows: Any, limit: int) -> dict[str, Any]:
    first = rows.fetchone()
    if first is None:
        raise NotFound("No such device.")
    require(first[0], "version.read")
    items: list[dict[str, Any]] = []
    # One page is mostly one or two people: each author's JSON is made once per page.
    authors: dict[tuple[Any, ...], dict[str, Any]] = {}
    last_id = last_seq = None
    more = False
    summary: list[str] = []
    for (_role, commit_id, seq, sha, parent, message, author_id, pseudonym, created_at, files, additions, deletions,
         username, display_name, deleted_at, sentence) in chain((first,), rows):
        if commit_id is None:
            break  # the role's row alone: an empty page
        if commit_id != last_id:
            if len(items) == limit:
                more = True  # the one commit past the page
                break
            known = author_id is not None and username is not None and deleted_at is None
            key = (username, display_name, pseudonym) if known else (None, None, pseudonym)
            author = authors.get(key)
            if author is None:
                author = authors[key] = (
                    {"username": username, "display_name": display_name or username, "pseudonym": pseudonym}
                    if known else {"username": None, "display_name": pseudonym, "pseudonym": pseudonym})
            summary = []
            items.append({
                "commit": sha,
                "parent": parent,
                "message": message,
                "author": author,
                "created_at": created_at,
                "files_changed": files,
                "additions": additions,
                "deletions": deletions,
                "summary": summary,
            })
            last_id, last_seq = commit_id, seq
        if sentence is not None:
            summary.append(sentence)
    return {"items": items, "next_cursor": _encode_cursor(last_seq) if more and last_seq is not None else None}


# -- reading ------------------------------------------------------------------------------------


def encode_content(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) for UTF-8 text, (None, base64) for anything else."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, base64.b64encode(data).decode()


def read_version(user: User, device_id: str, rev: str) -> tuple[Device, Snapshot, list[str], dict[str, Any]]:
    """(device, snapshot, tag names on that commit, author) for one version."""
    device, _ = _access(user, device_id, "version.read")
    try:
        with open_repo(device) as repo:
            snap = repo.read(rev)
            tags = [t.name for t in repo.list_tags() if t.target == snap.commit]
    except (RevisionNotFound, AmbiguousRevision) as exc:
        raise _rev_error(exc) from None
    return device, snap, tags, author_json(_user_for_email(snap.author_email), snap.author_name)


def read_file(user: User, device_id: str, rev: str, path: str) -> bytes:
    device, _ = _access(user, device_id, "version.read")
    try:
        with open_repo(device) as repo:
            return repo.read_file(rev, path)
    except (RevisionNotFound, AmbiguousRevision) as exc:
        raise _rev_error(exc) from None
    except FileNotFoundError:
        raise NotFound("No file '%(path)s' in this version.", code="not_found", params={"path": path}) from None


def resolve(user: User, device_id: str, rev: str) -> str:
    device, _ = _access(user, device_id, "version.read")
    try:
        with open_repo(device) as repo:
            return repo.resolve(rev)
    except (RevisionNotFound, AmbiguousRevision) as exc:
        raise _rev_error(exc) from None


def _context(value: Any) -> int:
    if value in (None, ""):
        return 3
    try:
        context = int(value)
    except (TypeError, ValueError):
        raise ValidationError("'context' must be a whole number.", field="context", code="invalid") from None
    if not 0 <= context <= MAX_CONTEXT:
        raise ValidationError("'context' must be from 0 to %(limit)s.", field="context", code="invalid",
                              params={"limit": MAX_CONTEXT})
    return context


def diff_device(device: Device, from_rev: str | None, to_rev: str | None, context: Any = None) -> Diff:
    """Any two versions; `to` defaults to HEAD and `from` to the first parent of `to`."""
    lines = _context(context)
    with open_repo(device) as repo:
        try:
            to_id = repo.resolve(to_rev or "HEAD")
        except (RevisionNotFound, AmbiguousRevision) as exc:
            raise _rev_error(exc, "to") from None
        if from_rev:
            try:
                from_id = repo.resolve(from_rev)
            except (RevisionNotFound, AmbiguousRevision) as exc:
                raise _rev_error(exc, "from") from None
        else:
            parents = repo.commit_info(to_id).parents
            from_id = parents[0] if parents else to_id
        return repo.diff(from_id, to_id, context_lines=lines, max_file_bytes=MAX_DIFF_FILE_BYTES,
                         max_total_lines=MAX_DIFF_LINES)


def diff(user: User, device_id: str, from_rev: str | None, to_rev: str | None,
         context: Any = None) -> tuple[Device, Diff]:
    device, _ = _access(user, device_id, "version.read")
    return device, diff_device(device, from_rev, to_rev, context)


def raw_patch(user: User, device_id: str, from_rev: str, to_rev: str) -> bytes:
    """The whole diff as a git patch: what a page offers when the rendered diff is too large."""
    device, _ = _access(user, device_id, "version.read")
    with open_repo(device) as repo:
        try:
            return repo.patch(from_rev, to_rev)
        except (RevisionNotFound, AmbiguousRevision) as exc:
            raise _rev_error(exc) from None


def diff_json(result: Diff) -> dict[str, Any]:
    from app.services import compare  # compare builds on this module

    return {
        "from": result.from_commit,
        "to": result.to_commit,
        "too_large": result.too_large,
        "files": [
            {
                "path": f.path,
                "old_path": f.old_path,
                "status": f.status,
                "similarity": f.similarity,
                "additions": f.additions,
                "deletions": f.deletions,
                "binary": f.binary,
                "too_large": f.too_large,
                "hunks": [
                    {
                        "old_start": h.old_start, "old_lines": h.old_lines,
                        "new_start": h.new_start, "new_lines": h.new_lines,
                        "header": h.header,
                        "lines": compare.lines_json(h.lines),
                    }
                    for h in f.hunks
                ],
            }
            for f in result.files
        ],
        "ports": {"added": result.ports.added, "removed": result.ports.removed,
                  "changed": result.ports.changed},
        "photos": result.photos,
    }


# -- tags ---------------------------------------------------------------------------------------


def tag_json(tag: TagInfo) -> dict[str, Any]:
    return {"name": tag.name, "commit": tag.target, "message": tag.message, "created_at": tag.created_at}


def list_tags(user: User, device_id: str) -> list[TagInfo]:
    device, _ = _access(user, device_id, "version.read")
    with open_repo(device) as repo:
        return repo.list_tags()


def create_tag(user: User | Actor, device_id: str, body: dict[str, Any]) -> TagInfo:
    actor = actor_of(user)
    device, access = device_access(actor.user, device_id)
    check_fields(body, {"name", "rev", "message"}, required=("name",))
    name, rev, message = body.get("name"), body.get("rev") or "HEAD", body.get("message") or ""
    if not isinstance(rev, str):
        raise ValidationError("'rev' must be a string.", field="rev", code="wrong_type")
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise ValidationError("'message' must be a string of at most %(limit)s characters.",
                              field="message", code="invalid", params={"limit": MAX_MESSAGE})

    def move(repo: DeviceRepo) -> Moved:
        try:
            tag = repo.create_tag(name, rev, message, author_for(actor.user))  # type: ignore[arg-type]
        except (RevisionNotFound, AmbiguousRevision) as exc:
            raise ValidationError("'rev' does not name a version: %(reason)s", field="rev",
                                  code="unknown_revision", params={"reason": str(exc)}) from None
        return Moved(True, None, "create", "device_tag", {"tag": tag.name, "commit": tag.target}, result=tag)

    return device_door.change_refs(actor, device, access, RefChange("tag.create", "tag.write", move)).result


def delete_tag(user: User | Actor, device_id: str, name: str) -> None:
    actor = actor_of(user)
    device, access = device_access(actor.user, device_id)

    def move(repo: DeviceRepo) -> Moved:
        target = next((t.target for t in repo.list_tags() if t.name == name), None)
        try:
            repo.delete_tag(name)
        except (InvalidChange, RevisionNotFound):
            raise NotFound("No tag named '%(name)s'.", params={"name": name}) from None
        return Moved(True, None, "delete", "device_tag", {"tag": name, "commit": target})

    device_door.change_refs(actor, device, access, RefChange("tag.delete", "tag.delete", move))
