"""The periodic schedule: reconcile git with SQL, re-mirror what lags, spread repo maintenance over
the week, purge daily.

`infratrace scheduler` runs `tick` in a loop (Procfile `scheduler`); `infratrace sweep` runs it
once, for cron. Both only enqueue (through app.services.job_queue), so they work with RQ or in-process.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Device
from app.services import job_queue, notifications
from app.services.reconcile import reconcile_recent

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 300  # s between mirror sweeps
MAINTENANCE_INTERVAL = 1200  # s between maintenance slices (git.sr.ht: every 20 minutes)
MAINTENANCE_PERIOD = timedelta(days=7)  # each repo is gc'd and fsck'd about weekly
PURGE_INTERVAL = 24 * 3600  # s between purges of deleted accounts and expired exports
WEBHOOK_INTERVAL = 30  # s between looks for webhook deliveries due for another attempt
DIGEST_INTERVAL = 24 * 3600  # s between watchers' daily digests
RECONCILE_WINDOW = 3600  # s: each sweep reconciles repos whose refs changed within the last hour


def sweep_mirrors() -> int:
    """Enqueue a mirror for every device whose mirror lags its head or whose last run failed."""
    ids = db.session.scalars(
        select(Device.id).where(
            Device.head_commit.is_not(None),
            or_(
                Device.mirrored_head.is_(None),
                Device.mirrored_head != Device.head_commit,
                Device.mirror_error.is_not(None),
            ),
        ).order_by(Device.id)
    ).all()
    for device_id in ids:
        job_queue.enqueue("mirror_device", device_id)
    db.session.commit()  # jobs go out after the commit
    if ids:
        log.info("sweep: %d device mirror(s) enqueued", len(ids))
    return len(ids)


def maintenance_slice_size(total: int) -> int:
    """How many repos one slice takes so that every repo comes round about once a period."""
    slices = max(1, int(MAINTENANCE_PERIOD.total_seconds() // MAINTENANCE_INTERVAL))
    return math.ceil(total / slices) if total else 0


def schedule_maintenance(limit: int | None = None) -> list[str]:
    """Enqueue gc and fsck for the devices least recently maintained (a rotating slice)."""
    total = db.session.scalar(select(func.count(Device.id))) or 0
    size = maintenance_slice_size(total) if limit is None else limit
    if not size:
        return []
    # Oldest first (never maintained before all): consecutive slices rotate through every repo.
    ids = db.session.scalars(
        select(Device.id)
        .order_by(Device.maintained_at.is_not(None), Device.maintained_at, Device.id)
        .limit(size)
    ).all()
    for device_id in ids:
        job_queue.enqueue("maintain_device", device_id)
        job_queue.enqueue("check_device", device_id)
    db.session.commit()
    return list(ids)


def tick(now: float, state: dict[str, float]) -> None:
    """Run whatever is due; `state` remembers when each task last ran."""
    if now - state.get("sweep", -math.inf) >= SWEEP_INTERVAL:
        state["sweep"] = now
        # Git is the truth: first repair what SQL missed (index, audit, mirror), then re-mirror.
        reconcile_recent("sweep", RECONCILE_WINDOW)
        sweep_mirrors()
    if now - state.get("maintenance", -math.inf) >= MAINTENANCE_INTERVAL:
        state["maintenance"] = now
        schedule_maintenance()
    if now - state.get("webhooks", -math.inf) >= WEBHOOK_INTERVAL:
        state["webhooks"] = now
        notifications.retry_due()
    if now - state.get("digests", -math.inf) >= DIGEST_INTERVAL:
        state["digests"] = now
        notifications.send_digests()
    if now - state.get("purge", -math.inf) >= PURGE_INTERVAL:
        state["purge"] = now
        job_queue.enqueue("purge_accounts")
        db.session.commit()  # the job goes out after the commit


def run_scheduler(stop_after: float | None = None) -> None:
    """Loop forever (or `stop_after` seconds); a failing task is logged and tried next time."""
    state: dict[str, float] = {}
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        try:
            tick(time.monotonic(), state)
        except Exception:  # noqa: BLE001 - the scheduler must outlive a database hiccup
            log.exception("scheduler tick failed")
            db.session.rollback()
        finally:
            db.session.remove()
        time.sleep(5)
