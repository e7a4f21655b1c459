"""History migration: an Oxidized or RANCID git repository imported with its whole history.

Layouts (detected from every path the history ever held):
* RANCID: `<group>/configs/<device>` (or `configs/<device>` for a one-group repo); everything else
  (router.db, .cvsignore, ...) is ignored.
* Oxidized git output: one file per node, optionally in group folders (`<group>/<node>`).

Each source file is one device; each source commit that touched it, one version, in order, with
its author date, time zone and message. Source authors never enter a repo: each becomes a stable
pseudonym keyed per team (`import-<hash>`). The source file -> device and source commit -> version
mappings are kept in SQL (ImportedDevice, ImportedCommit), written in the same transaction as the
index rows, so a second run imports only what is new and never makes a second device. A new
device's repo starts with its first imported version (device.json goes into it): no creation commit
dated today sits beneath older history.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import CommitRecord, Device, ImportedCommit, ImportedDevice, Membership, Project, User
from app.services import device_door, devices
from app.services.access import project_access
from app.services.device_door import Moved, RefChange
from app.services.errors import NotFound, ServiceError, ValidationError
from app.services.gitstore_bridge import author_for
from gitstore import (
    Author,
    Changes,
    DeviceRepo,
    ImportVersion,
    InvalidChange,
    RepositoryNotFound,
    SourceCommit,
    count_commits,
    validate_config_name,
    walk_source,
)

DEFAULT_CONFIG_NAME = "running-config"
# Versions written per gitstore batch (one pack, one ref move each).
BATCH = 1000
MAX_MESSAGE = 10_000
PSEUDONYM_DOMAIN = "import.noreply.infratrace"
_RANCID = re.compile(r"^(?:(?P<group>.+)/)?configs/(?P<device>[^/]+)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Progress = Callable[[int, int, str], None]


@dataclass
class ImportSummary:
    layout: str = ""
    source_commits: int = 0
    devices_created: int = 0
    devices_updated: int = 0
    devices_unchanged: int = 0
    versions_imported: int = 0
    versions_skipped: int = 0  # source commits that changed nothing the device stores
    devices: list[dict] = field(default_factory=list)

    def text(self) -> str:
        return (f"{self.layout} repository, {self.source_commits} source commit(s): "
                f"{self.versions_imported} version(s) imported, {self.versions_skipped} without change; "
                f"{self.devices_created} device(s) created, {self.devices_updated} updated, "
                f"{self.devices_unchanged} already up to date.")


@dataclass
class _Entry:
    commit: SourceCommit
    data: bytes | None


def detect_layout(paths: set[str]) -> str:
    return "rancid" if any(_RANCID.match(p) for p in paths) else "oxidized"


def device_of(path: str, layout: str) -> tuple[str, str] | None:
    """(group, device name) the source file stands for, or None when it is not a device's config."""
    parts = path.split("/")
    if any(part.startswith(".") for part in parts):
        return None  # .gitignore, .cvsignore, hidden folders
    if layout == "rancid":
        match = _RANCID.match(path)
        return (match["group"] or "", match["device"]) if match else None
    return "/".join(parts[:-1]), parts[-1]


def pseudonym(team_id: str, name: str, email: str) -> Author:
    """A stable stand-in for a source author: the same person maps to the same pseudonym within a
    team (so authorship stays readable), and the keyed hash cannot be reversed to the address."""
    who = (email or name).strip().lower().encode()
    key = current_app.config["INFRATRACE"].secret_key.encode()
    digest = hmac.new(key, b"import-author\0" + team_id.encode() + b"\0" + who, hashlib.sha256).hexdigest()[:10]
    return Author(f"import-{digest}", f"import-{digest}@{PSEUDONYM_DOMAIN}")


def _message(commit: SourceCommit) -> str:
    text = _CONTROL.sub(" ", commit.message).strip()[:MAX_MESSAGE]
    return text or f"Imported commit {commit.id[:12]}"


def _actor(project: Project, username: str | None) -> User:
    """The user the import acts as: the one named, else the team's first owner."""
    if username:
        user = db.session.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if user is None:
            raise NotFound("No user '%(username)s'.", params={"username": username})
        return user
    user = db.session.scalar(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == project.team_id, Membership.role == "owner").order_by(Membership.id).limit(1))
    if user is None:
        raise NotFound("The project's team has no owner to act as; name a user.")
    return user


def import_git(
    source: Path,
    project_id: str,
    username: str | None = None,
    config_name: str = DEFAULT_CONFIG_NAME,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import (or bring up to date) every device of the source repository into the project."""
    project = db.session.get(Project, project_id) if isinstance(project_id, str) else None
    if project is None:
        raise NotFound("No such project.")
    user = _actor(project, username)
    project, access = project_access(user, project_id)
    access.require("inventory.write")
    access.require("version.write")
    try:
        validate_config_name(config_name)
    except InvalidChange as exc:
        raise ValidationError("'%(name)s' is not a valid config name: %(reason)s", field="config",
                              code="invalid", params={"name": config_name, "reason": exc.message}) from None

    try:
        total = count_commits(source)
        per_file: dict[str, list[_Entry]] = {}
        summary = ImportSummary(source_commits=total)
        for done, commit in enumerate(walk_source(source), 1):
            for change in commit.changes:
                per_file.setdefault(change.path, []).append(_Entry(commit, change.data))
            if progress is not None:
                progress(done, total, "reading history")
    except RepositoryNotFound:
        raise ValidationError("%(source)s is not a git repository.", field="source", code="invalid",
                              params={"source": source}) from None

    summary.layout = detect_layout(set(per_file))
    files = sorted((path, device_of(path, summary.layout)) for path in per_file)
    files = [(path, where) for path, where in files if where is not None]
    for number, (path, (group, name)) in enumerate(files, 1):
        outcome = _import_file(access, project, user, path, group, name, per_file[path], config_name)
        summary.devices.append(outcome)
        summary.versions_imported += outcome["imported"]
        summary.versions_skipped += outcome["skipped"]
        if outcome["created"]:
            summary.devices_created += 1
        elif outcome["imported"]:
            summary.devices_updated += 1
        else:
            summary.devices_unchanged += 1
        if progress is not None:
            progress(number, len(files), "importing devices")
    return summary


def _mapped_device(project: Project, path: str) -> Device | None:
    return db.session.scalar(
        select(Device).join(ImportedDevice, ImportedDevice.device_id == Device.id)
        .where(ImportedDevice.project_id == project.id, ImportedDevice.source_key == path))


def _import_file(access, project: Project, user: User, path: str, group: str, name: str,  # type: ignore[no-untyped-def]
                 entries: list[_Entry], config_name: str) -> dict:
    device = _mapped_device(project, path)
    known: set[str] = set()
    if device is not None:
        known = set(db.session.scalars(
            select(ImportedCommit.source_commit).where(ImportedCommit.device_id == device.id)))
    new = [e for e in entries if e.commit.id not in known]
    outcome = {"source": path, "device": device.id if device else None, "name": name, "created": False,
               "imported": 0, "skipped": 0}
    if not new:
        return outcome
    versions = [
        ImportVersion(Changes(configs={config_name: e.data}), _message(e.commit), e.commit.time, e.commit.offset,
                      pseudonym(project.team_id, e.commit.author_name, e.commit.author_email))
        for e in new
    ]

    if device is None:
        # The history starts with the first version that holds the file (a removal first is nothing).
        while new and new[0].data is None:
            new, versions = new[1:], versions[1:]
        if not new:
            return outcome

        def remember(created: Device) -> None:
            db.session.add(ImportedDevice(project_id=project.id, source_key=path, device_id=created.id))
            db.session.flush()
            commits: list[str | None] = [r.sha for r in _index_rows(created)]
            if len(commits) != len(new):  # a version that changed nothing was skipped: no sha to pair
                commits = [None] * len(new)
            _remember_commits(created, new, commits)

        body: dict = {"name": name[:100]}
        if group:
            body["custom_fields"] = {"group": group[:1000]}
        try:
            device, _ = devices.create_device(user, project.id, body, history=versions, before_commit=remember)
        except ServiceError as exc:
            exc.message = f"{path}: {exc.message}"  # which source file, with the same refusal
            raise
        outcome.update(device=device.id, created=True, imported=len(new))
        return outcome

    imported = skipped = 0
    try:
        batch: dict = {}
        for version in versions:  # the door's content steps (noise rules, redaction), as for any write
            version.changes = device_door.prepare_content(device, access, version.changes, batch)
        for start in range(0, len(versions), BATCH):
            chunk, chunk_entries = versions[start:start + BATCH], new[start:start + BATCH]

            def move(repo: DeviceRepo, chunk: list[ImportVersion] = chunk,
                     chunk_entries: list[_Entry] = chunk_entries) -> Moved:
                result = repo.import_versions(chunk, author_for(user))
                made = {index: c.commit for index, c in result.commits}
                # In the change's transaction: the mapping commits with the index rows, or not at all.
                _remember_commits(device, chunk_entries, [made.get(i) for i in range(len(chunk))])
                changes = {"source": path, "parent": result.previous_head, "head": result.head,
                           "commits": len(result.commits), "skipped": len(result.skipped)}
                # commits=None: the index reads the new commits back, with each one's own pseudonym.
                return Moved(bool(result.commits), None, "import" if result.commits else None,
                             "device_version", changes, result=result)

            moved = device_door.change_refs(user, device, access, RefChange("import", "version.write", move))
            imported += len(moved.result.commits)
            skipped += len(moved.result.skipped)
    except ServiceError as exc:
        exc.message = f"{path}: {exc.message}"  # which source file, with the same refusal
        raise
    outcome.update(imported=imported, skipped=skipped)
    return outcome


def _index_rows(device: Device) -> list[CommitRecord]:
    return list(db.session.scalars(
        select(CommitRecord).where(CommitRecord.device_id == device.id).order_by(CommitRecord.seq)))


def _remember_commits(device: Device, entries: list[_Entry], commits: list[str | None]) -> None:
    rows = [{"device_id": device.id, "source_commit": e.commit.id, "commit_sha": sha}
            for e, sha in zip(entries, commits, strict=True)]
    if rows:
        db.session.execute(insert(ImportedCommit), rows)
