"""The background job functions: each takes ids only, opens its own session and repo handles,
and is safe to run twice (a re-run after a crash or a retry converges on the same state).

They run under RQ (`infratrace worker`) or in-process (app.services.job_queue, no REDIS_URL); either
way `_job` gives each run a fresh app context and session, rolled back on error.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, update

from app.extensions import db
from app.models import Device, Membership, User, utcnow
from app.observability import observe_job
from app.services.gitstore_bridge import repo_path
from app.storage.blobs import mirror_prefix
from app.storage.objectstore import ObjectStore, open_object_store
from workers.maintenance import check_repo, maintain_repo
from workers.mirror import mirror_repo

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
_forked = False


def _mark_forked() -> None:
    global _forked
    _forked = True


# An RQ work horse is a fork of the worker: pooled database connections inherited from the parent
# must not be used by both, so the first job after a fork starts a new pool.
os.register_at_fork(after_in_child=_mark_forked)
MIRROR_LOCK = "infratrace-mirror.lock"
ERROR_MAX = 1000


def _app() -> Flask:
    """The current app: `infratrace worker` and the in-process runner both run jobs inside it.

    A plain `rq worker` has no app; the jobs do not build one themselves (that would make the job
    package import the app factory and, through it, the web faces).
    """
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    raise RuntimeError("InfraTrace jobs run inside the app: start workers with `infratrace worker`")


def _job(func: F) -> F:
    """Fresh app context and session per run; rollback on error; claim the coalescing slot."""

    @functools.wraps(func)
    def wrapper(*ids: str) -> Any:
        _release_pending(func.__name__, ids)
        app = _app()
        global _forked
        with app.app_context():
            if _forked:
                db.engine.dispose(close=False)
                _forked = False
            started, failed = time.perf_counter(), True
            try:
                result = func(*ids)
                failed = False
                return result
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
                observe_job(func.__name__, time.perf_counter() - started, failed)

    return wrapper  # type: ignore[return-value]


def _release_pending(name: str, ids: tuple[str, ...]) -> None:
    """Under RQ, delete the "queued, not started" key before reading any state, so a write that
    lands from now on enqueues a new run instead of being folded into this one."""
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # noqa: BLE001 - not running under RQ
        return
    if job is not None:
        from app.services.job_queue import pending_key

        job.connection.delete(pending_key(name, ids))


def object_store() -> ObjectStore:
    config = current_app.config["INFRATRACE"]
    return open_object_store(config.object_store_url, config.data_dir, os.environ)


def _describe(exc: BaseException) -> str:
    """Error text for the device row: the exception's kind and message (ids and keys, no people)."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_MAX]


def _set(device_id: str, **values: Any) -> None:
    # A Core UPDATE of just these columns, keeping updated_at: bookkeeping is not an edit, and a
    # concurrent request's change to other columns of the row must not be overwritten.
    db.session.execute(update(Device).where(Device.id == device_id).values(updated_at=Device.updated_at, **values))
    db.session.commit()


@contextmanager
def mirror_lock(path: Path, timeout: float = 600.0) -> Iterator[None]:
    """One mirror run per device at a time (two workers may pick up a queued and a retried run).

    A flock in the repo folder, apart from the write lock, so mirroring never blocks writers.
    """
    fd = os.open(path / MIRROR_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("another mirror run of this device is still going") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


@_job
def mirror_device(device_id: str) -> None:
    """Bring the device's mirror in object storage up to its repo's current refs."""
    device = db.session.get(Device, device_id)
    if device is None:
        return  # deleted since the job was enqueued: nothing to mirror
    path = repo_path(device)
    if not path.is_dir():
        _set(device_id, mirror_error="repository folder is missing", mirror_attempts=device.mirror_attempts + 1)
        raise FileNotFoundError(f"repository of device {device_id} is missing")
    attempts = device.mirror_attempts
    db.session.rollback()  # end the read transaction: the upload may take a while
    try:
        store = object_store()
        try:
            with mirror_lock(path):
                result = mirror_repo(path, device_id, store, current_app.config["INFRATRACE"].data_dir)
        finally:
            store.close()
    except Exception as exc:
        _set(device_id, mirror_error=_describe(exc), mirror_attempts=attempts + 1)
        log.warning("mirror of device %s failed (attempt %d): %s", device_id, attempts + 1, _describe(exc))
        raise
    values: dict[str, Any] = {"mirrored_head": result.head, "mirror_error": None, "mirror_attempts": 0}
    if result.changed or device.mirrored_at is None:
        values["mirrored_at"] = utcnow()
    _set(device_id, **values)
    log.info("mirrored device %s at %s (%d pack, %d photo uploads)", device_id, result.head,
             result.uploaded_packs, result.uploaded_photos)


@_job
def delete_device_mirror(device_id: str) -> None:
    """Remove a deleted device's mirror (manifest and packs) from object storage.

    Enqueued by the door in the transaction that deletes the device row, so it runs only once
    the row is gone; a device that exists again (never: ids are not reused) is left alone.
    Photo blobs are shared by content and stay; the purge job owns them.
    """
    if db.session.get(Device, device_id) is not None:
        return
    db.session.rollback()
    store = object_store()
    try:
        removed = store.delete_prefix(mirror_prefix(device_id))
    finally:
        store.close()
    log.info("deleted device %s: %d mirror object(s) removed", device_id, removed)


@_job
def maintain_device(device_id: str) -> None:
    """gc + commit-graph under the repo's write lock; records the pack size before and after."""
    device = db.session.get(Device, device_id)
    if device is None:
        return
    path = repo_path(device)
    db.session.rollback()
    result = maintain_repo(path)
    log.info("maintained device %s: objects %d -> %d bytes, %d stale temp file(s) removed",
             device_id, result.bytes_before, result.bytes_after, result.removed_temp)
    _set(device_id, maintained_at=utcnow(), pack_bytes=result.bytes_after)


@_job
def check_device(device_id: str) -> None:
    """`git fsck --strict`; a failure marks the device and alerts the team's admins and owners."""
    from flask_babel import gettext

    from app.services.mail import in_language_of, send_mail

    device = db.session.get(Device, device_id)
    if device is None:
        return
    path = repo_path(device)
    was_failing = device.integrity_error is not None
    team_id, name = device.team_id, device.name
    db.session.rollback()
    problem = check_repo(path)
    _set(device_id, integrity_error=problem[:ERROR_MAX] if problem else None, checked_at=utcnow())
    if problem is None:
        if was_failing:
            log.info("integrity check of device %s passes again", device_id)
        return
    log.error("integrity check of device %s failed: %s", device_id, problem)
    if was_failing:
        return  # already alerted for this failure
    recipients = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id, Membership.role.in_(("admin", "owner")))
        .order_by(User.email)
    ).all()
    for user in recipients:
        # Written in each recipient's language; git's own report and the command stay as they are.
        with in_language_of(user):
            send_mail(
                user.email,
                gettext("InfraTrace: repository integrity check failed for device %(device)s", device=name),
                gettext("The scheduled integrity check (git fsck) of device %(device)s (id %(id)s) failed.",
                        device=repr(name), id=device_id) + f"\n\n{problem[:ERROR_MAX]}\n\n"
                + gettext("Its history may be damaged. Restore it from the object-storage mirror with\n"
                          "%(command)s after moving the damaged repository aside.",
                          command=f"`infratrace restore --device {device_id} --verify`") + "\n",
            )
    db.session.commit()


@_job
def thumbnail_photo(sha: str) -> None:
    """Make the bounded thumbnail of photo `sha` in the local cache and object storage."""
    from app.storage.photo_files import make_thumbnail

    store = object_store()
    try:
        if make_thumbnail(current_app.config["INFRATRACE"].data_dir, store, sha) is None:
            # A worker on another host sees only the store, which the mirror job fills: retry later.
            raise FileNotFoundError(f"photo {sha} is in neither the local cache nor the object store yet")
    finally:
        store.close()


@_job
def export_user_data(export_id: str) -> None:
    """Build one user's data export (app/services/exports.py) and store it in object storage."""
    from app.services.exports import build_export

    build_export(export_id)


@_job
def send_password_reset(user_id: str) -> None:
    """Mail a password-reset link (sent after the response, so "Forgot password" times the same
    whether or not the address has an account)."""
    from app.services.credentials import send_password_reset as send

    send(user_id)


@_job
def purge_accounts() -> None:
    """Remove what accounts past their purge date left behind, and expired exports (daily)."""
    from app.services.purge import purge

    summary = purge()
    log.info("purge: %s", summary)


@_job
def billing_sync_team(team_id: str) -> None:
    """Re-read one team's subscription from Stripe (a tie between two events, or on demand)."""
    from app.models import Team
    from app.services import billing

    team = db.session.get(Team, team_id)
    if team is not None:
        log.info("billing sync of team %s: %s", team_id, billing.sync_team(team))


@_job
def billing_payment_failed(team_id: str) -> None:
    """Mail the owners of a team whose payment failed."""
    from app.services import billing

    billing.mail_payment_failed(team_id)


@_job
def billing_cancel_team(team_id: str) -> None:
    """Cancel the subscription of a deleted team at Stripe (retried until Stripe answers)."""
    from app.services import billing

    log.info("billing cancel of team %s: %s", team_id, billing.cancel_subscription(team_id))


@_job
def billing_reconcile() -> None:
    """Daily: re-read every paying team's subscription from Stripe and repair local state."""
    from app.services import billing

    log.info("billing reconcile: %s", billing.reconcile())


@_job
def analyse_device(device_id: str) -> None:
    """Block summaries of the device's new versions and its compliance at the head."""
    from app.services.version_analysis import analyse_device as analyse

    analyse(device_id)


@_job
def evaluate_project_compliance(project_id: str) -> None:
    """Compliance rules changed: evaluate every device of the project again."""
    from app.services.version_analysis import evaluate_project

    evaluate_project(project_id)


@_job
def deliver_webhook(delivery_id: str) -> None:
    """One attempt of a webhook delivery; a failed attempt is rescheduled by its own backoff."""
    from app.services.notifications import deliver

    status = deliver(delivery_id)
    log.info("webhook delivery %s: %s", delivery_id, status or "not due")


@_job
def mail_watchers(device_id: str, base: str, head: str) -> None:
    """One mail per watcher of the device or its project for the versions after base up to head."""
    from app.services.notifications import mail_watchers as send

    send(device_id, base, head)
