"""Data exports: everything a user owns or authored, as one JSON document in object storage.

`start_export` records the request and enqueues the `export_user_data` job; the job
(`build_export`) writes the document under `exports/<user id>/<export id>.json` through the
ObjectStore interface (a local folder by default, S3/R2 in production). The document is streamed
to a temporary file while it is built, one device version at a time, so a long history never has
to fit in memory. An export is readable by its owner only (anyone else gets 404) and expires
after EXPORT_TTL; the daily purge removes expired ones.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import IO, Any

from flask import current_app
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (
    ApiToken,
    DataExport,
    Device,
    Membership,
    Network,
    Project,
    SecurityEvent,
    Task,
    TaskComment,
    Team,
    User,
    utcnow,
)
from app.services import job_queue
from app.services.commit_index import PSEUDONYM_DOMAIN
from app.services.errors import Conflict, NotFound
from app.services.gitstore_bridge import open_repo, repo_path
from app.services.validation import looks_like_id
from app.storage.objectstore import ObjectStore, open_object_store

log = logging.getLogger(__name__)

EXPORT_TTL = timedelta(days=7)
FORMAT = "infratrace-export/1"
CONTENT_TYPE = "application/json"
UNREADABLE = "unreadable"


def export_key(user_id: str, export_id: str) -> str:
    return f"exports/{user_id}/{export_id}.json"


def user_exports_prefix(user_id: str) -> str:
    return f"exports/{user_id}/"


def object_store() -> ObjectStore:
    config = current_app.config["INFRATRACE"]
    return open_object_store(config.object_store_url, config.data_dir, os.environ)


# -- requests from the user -------------------------------------------------------------------


def start_export(user: User) -> DataExport:
    """Record an export and enqueue its job (sent when the caller commits).

    One export at a time per user: a second request while one is queued or running is a 409
    naming the running one, so a double click does not build the same document twice.
    """
    running = db.session.scalar(
        select(DataExport).where(DataExport.user_id == user.id, DataExport.status.in_(("queued", "running")))
    )
    if running is not None:
        raise Conflict("An export is already being prepared; wait for it to finish.", code="export_running",
                       extra={"id": running.id})
    now = utcnow()
    export = DataExport(user_id=user.id, status="queued", created_at=now, expires_at=now + EXPORT_TTL)
    db.session.add(export)
    db.session.flush()
    job_queue.enqueue("export_user_data", export.id)
    return export


def get_export(user: User, export_id: str, now: datetime | None = None) -> DataExport:
    """The caller's own, unexpired export; anything else (another user's, expired) is 404."""
    export = db.session.get(DataExport, export_id) if looks_like_id(export_id) else None
    if export is None or export.user_id != user.id or export.expires_at <= (now or utcnow()):
        raise NotFound("No such export.")
    return export


def list_exports(user: User) -> list[DataExport]:
    return list(
        db.session.scalars(
            select(DataExport)
            .where(DataExport.user_id == user.id, DataExport.expires_at > utcnow())
            .order_by(DataExport.created_at.desc(), DataExport.id)
        )
    )


def open_download(user: User, export_id: str) -> tuple[DataExport, Iterator[bytes]]:
    """The export's bytes as a stream (the store is closed when the stream ends)."""
    export = get_export(user, export_id)
    if export.status != "done" or not export.object_key:
        raise NotFound("This export is not ready.", code="not_ready")
    store = object_store()
    try:
        chunks = store.get(export.object_key)
    except Exception:
        store.close()
        raise

    def stream() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            store.close()

    return export, stream()


# -- the job ----------------------------------------------------------------------------------


def build_export(export_id: str) -> None:
    """Build and store the document of one export. Safe to run twice: a finished export is left
    alone, and a re-run overwrites the same key."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.status == "done":
        return
    user = db.session.get(User, export.user_id)
    if user is None or not user.is_active:
        _set(export_id, status="failed", error="The account is no longer active.", finished_at=utcnow())
        return
    team_ids = list(db.session.scalars(select(Membership.team_id).where(Membership.user_id == user.id)))
    total = db.session.scalar(
        select(func.count(Device.id)).where(Device.team_id.in_(team_ids))
    ) if team_ids else 0
    _set(export_id, status="running", started_at=utcnow(), devices_total=total or 0, devices_done=0, error=None)
    try:
        with tempfile.TemporaryFile(dir=current_app.config["INFRATRACE"].data_dir) as spool:
            writer = _Utf8(spool)
            write_json(writer, _document(user, export_id))
            size = spool.tell()
            spool.seek(0)
            store = object_store()
            try:
                key = export_key(user.id, export_id)
                store.put(key, spool, CONTENT_TYPE)
            finally:
                store.close()
    except Exception as exc:
        db.session.rollback()
        _set(export_id, status="failed", finished_at=utcnow(), error=f"{type(exc).__name__}"[:200])
        raise
    _set(export_id, status="done", finished_at=utcnow(), object_key=key, size=size)
    log.info("export %s: %d bytes", export_id, size)


def _set(export_id: str, **values: Any) -> None:
    db.session.execute(update(DataExport).where(DataExport.id == export_id).values(**values))
    db.session.commit()


class _Utf8:
    """Text writes into a binary file."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def write(self, text: str) -> None:
        self.raw.write(text.encode("utf-8"))


class Lazy:
    """A JSON array whose items are produced while the document is written (one at a time)."""

    def __init__(self, items: Iterable[Any], after: Callable[[], None] | None = None) -> None:
        self.items = items
        self.after = after


def write_json(out: _Utf8, value: Any) -> None:
    """json.dump that also accepts Lazy arrays, so a huge history is never held in memory whole."""
    if isinstance(value, dict):
        out.write("{")
        for index, (key, item) in enumerate(value.items()):
            out.write(("," if index else "") + json.dumps(str(key)) + ":")
            write_json(out, item)
        out.write("}")
    elif isinstance(value, Lazy | list | tuple):
        out.write("[")
        for index, item in enumerate(value.items if isinstance(value, Lazy) else value):
            if index:
                out.write(",")
            write_json(out, item)
        out.write("]")
        if isinstance(value, Lazy) and value.after is not None:
            value.after()
    else:
        out.write(json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _document(user: User, export_id: str) -> dict[str, Any]:
    memberships = list(
        db.session.execute(
            select(Team, Membership).join(Membership, Membership.team_id == Team.id)
            .where(Membership.user_id == user.id).order_by(Team.slug)
        )
    )
    usernames = _usernames()
    return {
        "format": FORMAT,
        "export_id": export_id,
        "generated_at": _iso(utcnow()),
        "account": _account(user, memberships),
        "teams": Lazy(_team(team, membership.role, usernames, export_id) for team, membership in memberships),
    }


def _usernames() -> dict[str, str]:
    """Pseudonym email -> username of live accounts: history names people only where SQL knows them."""
    rows = db.session.execute(select(User.pseudonym, User.username).where(User.deleted_at.is_(None)))
    return {f"user-{pseudonym}{PSEUDONYM_DOMAIN}": username for pseudonym, username in rows}


def _account(user: User, memberships: list[Any]) -> dict[str, Any]:
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at))
    events = db.session.scalars(
        select(SecurityEvent).where(SecurityEvent.user_id == user.id).order_by(SecurityEvent.created_at)
    )
    return {
        # Never the password hash, never a token secret or hash: those are not data about the person.
        "profile": {
            "id": user.id,
            "email": user.email,
            "username": user.username,
            "display_name": user.display_name,
            "company": user.company,
            "job_title": user.job_title,
            "language": user.locale,
            "commit_author": user.author_name,
            "created_at": user.created_at,
            "age_confirmed_at": user.age_confirmed_at,
        },
        "teams": [{"slug": team.slug, "name": team.name, "role": membership.role,
                   "joined_at": membership.created_at} for team, membership in memberships],
        "tokens": [{"id": t.id, "name": t.name, "prefix": t.prefix, "scopes": t.scope_list,
                    "created_at": t.created_at, "expires_at": t.expires_at, "last_used_at": t.last_used_at,
                    "revoked_at": t.revoked_at} for t in tokens],
        "security_events": [{"kind": e.kind, "ip": e.ip, "detail": e.detail, "created_at": e.created_at}
                            for e in events],
    }


def _team(team: Team, role: str, usernames: dict[str, str], export_id: str) -> dict[str, Any]:
    members = db.session.execute(
        select(User.username, Membership.role).join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team.id).order_by(User.username_key)
    )
    projects = list(db.session.scalars(select(Project).where(Project.team_id == team.id).order_by(Project.slug)))
    return {
        "slug": team.slug,
        "name": team.name,
        "plan": team.plan,
        "your_role": role,
        "members": [{"username": name, "role": member_role} for name, member_role in members],
        "projects": Lazy(_project(project, usernames, export_id) for project in projects),
    }


def _names(ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(User.id, User.username).where(User.id.in_(wanted), User.deleted_at.is_(None))
    ).all()
    return {user_id: username for user_id, username in rows}


def _project(project: Project, usernames: dict[str, str], export_id: str) -> dict[str, Any]:
    devices = list(db.session.scalars(select(Device).where(Device.project_id == project.id).order_by(Device.slug)))
    networks = list(db.session.scalars(select(Network).where(Network.project_id == project.id).order_by(Network.name)))
    tasks = list(db.session.scalars(select(Task).where(Task.project_id == project.id).order_by(Task.created_at)))
    comments = list(db.session.scalars(
        select(TaskComment).where(TaskComment.task_id.in_([t.id for t in tasks])).order_by(TaskComment.created_at)
    )) if tasks else []
    people = _names([project.created_by_id, *(t.assignee_id for t in tasks), *(t.created_by_id for t in tasks),
                     *(c.author_id for c in comments)])
    return {
        "id": project.id,
        "slug": project.slug,
        "name": project.name,
        "description": project.description,
        "status": project.status,
        "metadata": project.extra,
        "created_by": people.get(project.created_by_id or ""),
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "devices": Lazy(_device(device, usernames, export_id) for device in devices),
        "networks": [
            {"id": n.id, "name": n.name, "cidr": n.cidr, "description": n.description,
             "documentation": n.documentation, "topology_notes": n.topology_notes,
             "created_at": n.created_at, "updated_at": n.updated_at,
             "vlans": [{"vid": v.vid, "name": v.name, "description": v.description} for v in n.vlans]}
            for n in networks
        ],
        "tasks": [
            {"id": t.id, "title": t.title, "description": t.description, "status": t.status,
             "assignee": people.get(t.assignee_id or ""), "created_by": people.get(t.created_by_id or ""),
             "due_date": t.due_date.isoformat() if t.due_date else None, "device_id": t.device_id,
             "created_at": t.created_at, "updated_at": t.updated_at,
             "comments": [{"author": people.get(c.author_id or ""), "body": c.body, "created_at": c.created_at}
                          for c in comments if c.task_id == t.id]}
            for t in tasks
        ],
    }


def _device(device: Device, usernames: dict[str, str], export_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": device.id,
        "slug": device.slug,
        "name": device.name,
        "vendor": device.vendor,
        "model": device.model,
        "serial": device.serial,
        "management_ips": device.management_ips,
        "location": device.location,
        "status": device.status,
        "custom_fields": device.custom_fields,
        "archived_at": device.archived_at,
        "created_at": device.created_at,
        "head_commit": device.head_commit,
    }
    if not repo_path(device).is_dir():
        data["versions"], data["tags"] = [], []
        data["repository_missing"] = True
        _progress(export_id)
        return data
    with open_repo(device) as repo:
        data["tags"] = [{"name": t.name, "commit": t.target, "message": t.message, "created_at": t.created_at}
                        for t in repo.list_tags()]
    data["versions"] = Lazy(_versions(device, usernames), after=lambda: _progress(export_id))
    return data


def _versions(device: Device, usernames: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every commit on main, newest first, with the full content of that version.

    The repo handle is opened when the array is written and released when it ends (or fails)."""
    with open_repo(device) as repo:
        yield from _version_items(repo, usernames)


def _version_items(repo: Any, usernames: dict[str, str]) -> Iterator[dict[str, Any]]:
    for info in repo.log():
        snap = repo.read(info.commit)
        # A file this version holds but nobody can read (gitstore.Snapshot.unreadable) is exported
        # as "unreadable" instead of failing the whole export.
        bad = {name.removesuffix(".json") for name in snap.unreadable}
        yield {
            "commit": info.commit,
            "parents": info.parents,
            "message": info.message,
            "created_at": info.created_at,
            "author_pseudonym": info.author_name,
            "author": usernames.get(info.author_email),
            "files_changed": [f.path for f in info.files],
            "device": UNREADABLE if "device" in bad else snap.device,
            "configs": {name: _content(raw) for name, raw in sorted(snap.configs.items())},
            "ports": UNREADABLE if "ports" in bad else snap.ports,
            # References only: photo bytes live in object storage under their sha256.
            "photos": UNREADABLE if "photos" in bad else snap.photos,
            "unreadable": list(snap.unreadable),
        }


def _content(raw: bytes) -> dict[str, str]:
    try:
        return {"encoding": "text", "content": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"encoding": "base64", "content": base64.b64encode(raw).decode("ascii")}


def _progress(export_id: str) -> None:
    # A Core update committed on its own connection would block on SQLite's writer lock; the job's
    # session holds only reads here, so committing it is cheap and makes progress visible.
    db.session.execute(
        update(DataExport).where(DataExport.id == export_id).values(devices_done=DataExport.devices_done + 1)
    )
    db.session.commit()


def expired_exports(now: datetime) -> list[DataExport]:
    return list(db.session.scalars(select(DataExport).where(DataExport.expires_at <= now)))
