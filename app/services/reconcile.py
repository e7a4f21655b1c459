"""The reconciler: git is the truth for history, SQL for everything else.

A ref can move in git while the SQL that records it never commits: a process killed between
the door's ref move and its SQL commit (see faults.py), a push whose worker died after
receive-pack moved `main`, a repository restored from object storage. `reconcile_device`
compares the repository's refs (their digest, and `main` with the indexed head) with what SQL
holds and repairs all three records of a change: the commit index, the audit trail (one event
with action `recover`, marked `"recovered": true`) and the mirror (a mirror job).

It runs: at start-up for repos touched recently (`reconcile_recent`, from `infratrace serve` and
`infratrace worker`), in the scheduled sweep (workers/schedule.py), after `infratrace restore`,
and as `infratrace reindex` (which also rebuilds the index rows from scratch).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import CommitRecord, Device
from app.services import audit, commit_index, job_queue
from app.services.gitstore_bridge import locked_repo, repo_path
from gitstore import GitStoreError, RepositoryNotFound

log = logging.getLogger(__name__)

# Start-up and the sweep look at repos whose refs changed within this window.
RECENT_SECONDS = 24 * 3600


@dataclass
class Repair:
    device_id: str
    indexed_head: str | None
    head: str | None
    commits: int


def _indexed_head(device: Device) -> str | None:
    return db.session.scalar(
        select(CommitRecord.sha).where(CommitRecord.device_id == device.id)
        .order_by(CommitRecord.seq.desc()).limit(1)
    )


def reconcile_device(device: Device, reason: str = "sweep", rebuild: bool = False) -> tuple[Repair | None, int]:
    """Compare one device's repo with SQL and repair the gap; commits SQL.

    Returns (the repair made, or None when SQL already agreed with git; the number of commits
    indexed). With `rebuild`, the device's index rows are thrown away and rebuilt whatever the
    comparison says (what `infratrace reindex` promises).
    """
    with locked_repo(device) as repo:
        head = repo.head()
        digest = repo.refs_digest()
        indexed = _indexed_head(device)
        drifted = (digest != device.refs_digest or indexed != head or device.head_commit != head)
        if rebuild:
            added = commit_index.rebuild_device(device)
        elif drifted:
            added = commit_index.sync_device(device)
        else:
            return None, 0
        repair = None
        # A device recorded before refs digests existed has none: learning it is no repair.
        if drifted and (device.refs_digest is not None or indexed != head):
            repair = Repair(device.id, indexed, head, added)
            audit.record(device.team_id, None, "recover", "device", device.id, {
                "recovered": True, "reason": reason, "head": head, "indexed_head": indexed,
                "commits": repair.commits, "refs": repo.refs(),
            })
            log.warning("reconciled device %s (%s): SQL had %s, git has %s", device.id, reason, indexed, head)
        device.refs_digest = digest
        if repair is not None or device.mirrored_head != head or device.mirror_error is not None:
            job_queue.enqueue("mirror_device", device.id)
        db.session.commit()
    return repair, added


def _device_ids(device_id: str | None) -> list[str]:
    if device_id is not None:
        if db.session.get(Device, device_id) is None:
            raise LookupError(f"No device {device_id}.")
        return [device_id]
    return list(db.session.scalars(select(Device.id).order_by(Device.id)))


def reconcile(device_id: str | None = None, reason: str = "sweep", rebuild: bool = False,
              device_ids: list[str] | None = None) -> tuple[int, int, list[Repair]]:
    """Reconcile one device (LookupError if unknown), the given ids, or all; each is locked and
    committed on its own, so a long run never holds back writers of other devices.

    Returns (devices looked at, commits indexed, repairs made).
    """
    ids = device_ids if device_ids is not None else _device_ids(device_id)
    total, repairs = 0, []
    for one in ids:
        device = db.session.get(Device, one)
        if device is None:
            continue
        try:
            repair, added = reconcile_device(device, reason, rebuild)
        except RepositoryNotFound:
            db.session.rollback()
            log.error("device %s has no repository at %s", one, repo_path(device))
            continue
        except GitStoreError as exc:  # busy: the next sweep comes back to it
            db.session.rollback()
            log.warning("device %s not reconciled now: %s", one, exc)
            continue
        total += added
        if repair is not None:
            repairs.append(repair)
    return len(ids), total, repairs


def recently_touched(seconds: float = RECENT_SECONDS, now: float | None = None) -> list[str]:
    """Devices whose repo's refs changed on disk within `seconds` (git's view, not SQL's: a
    crashed write never updated SQL)."""
    cutoff = (now if now is not None else time.time()) - seconds
    found = []
    for device in db.session.scalars(select(Device).order_by(Device.id)):
        path = repo_path(device)
        newest = 0.0
        for part in (path / "packed-refs", path / "refs" / "heads", path / "refs" / "tags",
                     path / "refs" / "heads" / "main"):
            try:
                newest = max(newest, part.stat().st_mtime)
            except OSError:
                continue
        if newest >= cutoff:
            found.append(device.id)
    return found


def reconcile_recent(reason: str = "startup", seconds: float = RECENT_SECONDS) -> list[Repair]:
    """Start-up and sweep: reconcile the repos touched recently."""
    _, _, repairs = reconcile(reason=reason, device_ids=recently_touched(seconds))
    return repairs
