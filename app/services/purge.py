"""The purge: what a deleted account leaves behind is removed once its `purge_after` has passed.

For every account past `purge_after`: the user row and every row about them (memberships, tokens,
security events, mail in the outbox, pending invitations to their address, exports and their
objects), the teams deleted with them (or left with no member at all): projects, devices, the
device repositories on disk, their mirrors in object storage and the photo blobs that no
remaining device references in any version. The commit index keeps each commit but loses its
author_id, so history shows a deleted user under the pseudonym git always had.

Order matters for a run that dies half-way: files first (blobs, then mirrors, then repos), SQL
last in one transaction. A blob is only deleted while the repos that reference it still exist to
tell us so, and the rows that make an account or team "due" disappear last, so the next run
finds the same work and finishes it. Running it twice is harmless.

Photo blobs are content-addressed and may be shared across devices and teams: a candidate blob
is deleted only when no remaining device's photos.json, in any version reachable from any ref,
names its sha256 (every remaining repo is read: simple and safe).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import (
    ApiToken,
    AuditEvent,
    CommitRecord,
    DataExport,
    Device,
    Invitation,
    Membership,
    OutboxMail,
    SecurityEvent,
    Team,
    User,
    utcnow,
)
from app.services import device_door
from app.services.exports import object_store, user_exports_prefix
from app.services.gitstore_bridge import repo_path
from app.storage.blobs import blob_path, manifest_key, mirror_prefix, photo_key
from app.storage.objectstore import ObjectInfo, ObjectNotFound, ObjectStore
from gitstore import DeviceRepo, GitStoreError

log = logging.getLogger(__name__)


@dataclass
class PurgeSummary:
    users: int = 0
    teams: int = 0
    devices: int = 0
    repos: int = 0
    mirror_objects: int = 0
    blobs: int = 0
    shared_blobs_kept: int = 0
    exports: int = 0
    expired_exports: int = 0
    commits_anonymised: int = 0
    # The verification scan of the object store (see scan_object_store).
    orphan_mirror_objects: int = 0
    superseded_packs: int = 0
    orphan_exports: int = 0
    orphan_photos: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{f.name.replace('_', ' ')}: {getattr(self, f.name)}" for f in fields(self))


def due_users(now: datetime) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.deleted_at.is_not(None), User.purge_after <= now).order_by(User.id)
    ))


def due_teams(now: datetime, user_ids: list[str]) -> list[Team]:
    """Teams scheduled with a deleted account, and teams whose every member is being purged."""
    scheduled = set(db.session.scalars(
        select(Team.id).where(Team.deleted_at.is_not(None), Team.purge_after <= now)
    ))
    if user_ids:
        theirs = set(db.session.scalars(select(Membership.team_id).where(Membership.user_id.in_(user_ids))))
        kept = set(db.session.scalars(
            select(Membership.team_id).where(Membership.team_id.in_(theirs), Membership.user_id.not_in(user_ids))
        ))
        scheduled |= theirs - kept
    if not scheduled:
        return []
    return list(db.session.scalars(select(Team).where(Team.id.in_(scheduled)).order_by(Team.id)))


def _repo_shas(device: Device) -> set[str] | None:
    """Photo sha256s the device's repo references; None when the repo is gone."""
    path = repo_path(device)
    if not path.is_dir():
        return None
    try:
        with DeviceRepo.open(path) as repo:
            return repo.referenced_photo_shas()
    except GitStoreError:
        return None


def purge(now: datetime | None = None) -> PurgeSummary:
    """Remove everything of accounts (and their teams) past purge_after; see the module doc."""
    now = now or utcnow()
    summary = PurgeSummary()
    users = due_users(now)
    user_ids = [u.id for u in users]
    teams = due_teams(now, user_ids)
    team_ids = [t.id for t in teams]
    devices = list(db.session.scalars(select(Device).where(Device.team_id.in_(team_ids)))) if team_ids else []
    expired = list(db.session.scalars(
        select(DataExport).where(DataExport.expires_at <= now, DataExport.user_id.not_in(user_ids))
    ))
    if not users and not teams and not expired:
        scan_object_store(summary, now)
        return summary

    data_dir: Path = current_app.config["INFRATRACE"].data_dir
    store = object_store()
    try:
        # 1. Photo blobs nobody else references, while the doomed repos can still name them.
        candidates: set[str] = set()
        for device in devices:
            candidates |= _repo_shas(device) or set()
        if candidates:
            doomed = {d.id for d in devices}
            kept: set[str] = set()
            for other in db.session.scalars(select(Device).where(Device.id.not_in(doomed))):
                kept |= _repo_shas(other) or set()
            summary.shared_blobs_kept = len(candidates & kept)
            for sha in sorted(candidates - kept):
                cached = blob_path(data_dir, sha)
                found = cached.exists()
                cached.unlink(missing_ok=True)
                if store.head(photo_key(sha)) is not None:
                    store.delete(photo_key(sha))
                    found = True
                summary.blobs += int(found)
        # 2. Mirrors, then 3. the repositories themselves.
        for device in devices:
            summary.mirror_objects += store.delete_prefix(mirror_prefix(device.id))
            path = repo_path(device)
            if path.is_dir() and device_door.remove_repository(path):
                summary.repos += 1
        # Exports: the deleted users' and everyone's expired ones.
        for user in users:
            store.delete_prefix(user_exports_prefix(user.id))
        for export in expired:
            if export.object_key:
                store.delete(export.object_key)
    finally:
        store.close()

    # 4. SQL, in one transaction.
    summary.devices = len(devices)
    summary.teams = len(teams)
    summary.users = len(users)
    summary.expired_exports = len(expired)
    if expired:
        db.session.execute(delete(DataExport).where(DataExport.id.in_([e.id for e in expired])))
    if user_ids:
        summary.commits_anonymised = db.session.scalar(
            select(func.count(CommitRecord.id)).where(
                CommitRecord.author_id.in_(user_ids),
                CommitRecord.device_id.not_in([d.id for d in devices]),
            )
        ) or 0
        db.session.execute(update(CommitRecord).where(CommitRecord.author_id.in_(user_ids)).values(author_id=None))
        # What they did in other teams stays in the audit trail, but no longer who or from where.
        db.session.execute(update(AuditEvent).where(AuditEvent.actor_id.in_(user_ids)).values(actor_id=None, ip=None))
        summary.exports = db.session.scalar(
            select(func.count(DataExport.id)).where(DataExport.user_id.in_(user_ids))
        ) or 0
        db.session.execute(delete(DataExport).where(DataExport.user_id.in_(user_ids)))
        db.session.execute(delete(Membership).where(Membership.user_id.in_(user_ids)))
        db.session.execute(delete(ApiToken).where(ApiToken.user_id.in_(user_ids)))
        db.session.execute(delete(SecurityEvent).where(SecurityEvent.user_id.in_(user_ids)))
        emails = [u.email_key for u in users]
        db.session.execute(delete(Invitation).where(func.lower(Invitation.email).in_(emails)))
        db.session.execute(delete(OutboxMail).where(func.lower(OutboxMail.to).in_(emails)))
        # Failed log-ins after the deletion were recorded as unknown logins naming the address.
        typed = [f"unknown login {login!r}" for u in users for login in (u.email_key, u.username_key)]
        db.session.execute(delete(SecurityEvent).where(
            SecurityEvent.user_id.is_(None), func.lower(SecurityEvent.detail).in_(typed)
        ))
    if team_ids:
        # Projects, devices, networks, tasks, comments, commit index, audit events, invitations
        # and memberships go with the team (ON DELETE CASCADE in the schema).
        db.session.execute(delete(Team).where(Team.id.in_(team_ids)))
    if user_ids:
        db.session.execute(delete(User).where(User.id.in_(user_ids)))
    db.session.commit()
    scan_object_store(summary, now)
    log.info("purge: %s", summary)
    return summary


# Objects younger than this are left alone by the scan: a write or mirror run may be between
# uploading an object and committing the row or manifest that names it.
SCAN_GRACE = timedelta(days=1)


def _old(info: ObjectInfo, now: datetime) -> bool:
    return info.last_modified is None or info.last_modified <= now - SCAN_GRACE


def _manifest_packs(store: ObjectStore, device_id: str) -> set[str] | None:
    """The pack keys the device's mirror manifest names (format in workers/mirror.py), or None."""
    try:
        manifest = json.loads(store.get_bytes(manifest_key(device_id)))
        return {str(pack["key"]) for pack in manifest.get("packs", [])}
    except (ObjectNotFound, ValueError, KeyError, TypeError, AttributeError):
        return None


def scan_object_store(summary: PurgeSummary, now: datetime) -> None:
    """The verification scan: every object in the store must belong to something that still exists.

    Backups (the object store) of deleted data must be gone within 90 days; the purge runs daily,
    so whatever a deletion left behind (a device deleted while its mirror upload failed, a team or
    account whose removal died half-way, packs a repack superseded but could not delete, exports
    of purged users, photos no remaining device references) is removed here within a day.
    """
    live_devices = set(db.session.scalars(select(Device.id)))
    live_users = set(db.session.scalars(select(User.id)))
    store = object_store()
    try:
        by_device: dict[str, list[ObjectInfo]] = {}
        for info in store.list("mirrors/"):
            by_device.setdefault(info.key.split("/")[1], []).append(info)
        for device_id, infos in sorted(by_device.items()):
            if device_id not in live_devices:
                for info in infos:
                    if _old(info, now):
                        store.delete(info.key)
                        summary.orphan_mirror_objects += 1
                continue
            named = _manifest_packs(store, device_id)
            if named is None:
                continue  # no readable manifest (a first run in progress): nothing to judge packs by
            for info in infos:
                if "/packs/" in info.key and info.key not in named and _old(info, now):
                    store.delete(info.key)
                    summary.superseded_packs += 1
        for info in list(store.list("exports/")):
            if info.key.split("/")[1] not in live_users and _old(info, now):
                store.delete(info.key)
                summary.orphan_exports += 1
        # Photos and their thumbnails (thumbs/<original sha>.jpg), both keyed by the original's sha.
        photos = [info for prefix in ("photos/", "thumbs/") for info in store.list(prefix) if _old(info, now)]
        if photos:
            referenced: set[str] = set()
            for device in db.session.scalars(select(Device)):
                shas = _repo_shas(device)
                if shas is None:
                    # A repo missing on this host (elsewhere, or being restored): we cannot tell
                    # what it references, so no photo is deleted in this run.
                    log.warning("purge scan: repo of device %s not readable; photos kept", device.id)
                    return
                referenced |= shas
            for info in photos:
                sha = info.key.split("/", 1)[1].removesuffix(".jpg")
                if sha not in referenced:
                    store.delete(info.key)
                    summary.orphan_photos += 1
    finally:
        store.close()
