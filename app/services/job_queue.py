"""Background jobs from the app's side: `enqueue` now, run after the SQL transaction commits.

* With `REDIS_URL`: an RQ job on queue "default" naming a function of workers/jobs.py by its dotted path, with ids
  as its only arguments (a failed job keeps no personal data), retried with backoff.
  Coalescing: a Redis key per (job, ids) is set while a run is queued and not yet started; a
  second enqueue in that window is dropped, since the queued run will read the current state
  when it starts (the job deletes the key first thing). A burst of writes thus costs at most
  one running and one queued run per device.
* Without it: the same functions run in-process after the response is sent (outside a request,
  right after the commit), each in its own app context and session; errors are logged.

A rolled-back transaction drops its jobs. If Redis is down, the write still succeeds: the
failure is logged and the periodic sweep (workers/schedule.py) enqueues the device later.
"""

from __future__ import annotations

import importlib
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from flask import Flask, after_this_request, current_app, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

QUEUE = "default"
# name -> (dotted path of the function, job timeout s, retry intervals s)
JOBS: dict[str, tuple[str, int, list[int]]] = {
    "mirror_device": ("workers.jobs.mirror_device", 1800, [10, 60, 300, 900, 1800]),
    "delete_device_mirror": ("workers.jobs.delete_device_mirror", 600, [10, 60, 300, 900]),
    "maintain_device": ("workers.jobs.maintain_device", 3600, [300, 1800]),
    "check_device": ("workers.jobs.check_device", 3600, [300, 1800]),
    "thumbnail_photo": ("workers.jobs.thumbnail_photo", 300, [10, 60, 300]),
    "export_user_data": ("workers.jobs.export_user_data", 3600, [30, 300]),
    "purge_accounts": ("workers.jobs.purge_accounts", 3600, [600, 3600]),
    "billing_sync_team": ("workers.jobs.billing_sync_team", 300, [30, 300, 1800]),
    "billing_payment_failed": ("workers.jobs.billing_payment_failed", 300, [60, 600]),
    "billing_cancel_team": ("workers.jobs.billing_cancel_team", 300, [60, 600, 3600, 6 * 3600]),
    "billing_reconcile": ("workers.jobs.billing_reconcile", 3600, [600, 3600]),
    "analyse_device": ("workers.jobs.analyse_device", 1800, [30, 300, 1800]),
    "evaluate_project_compliance": ("workers.jobs.evaluate_project_compliance", 3600, [60, 600]),
    # A webhook's HTTP failures are retried by its own schedule (notifications.RETRY_DELAYS); these
    # intervals only cover a crashed job.
    "deliver_webhook": ("workers.jobs.deliver_webhook", 120, [30, 300]),
    "mail_watchers": ("workers.jobs.mail_watchers", 300, [60, 600]),
    "send_password_reset": ("workers.jobs.send_password_reset", 120, [10, 60]),
}
# A queued run that never started (lost job, flushed queue) must not block enqueues for long.
PENDING_TTL = 900
_ID = re.compile(r"^[0-9a-fA-F-]{1,64}$")
_SESSION_KEY = "infratrace_jobs"
# The in-process jobs still to run in this thread (set only while run_in_process runs them): a
# context variable, so each thread (each request's after-response work) has its own list.
_in_process_backlog: ContextVar[list[tuple[str, tuple[str, ...]]] | None] = ContextVar(
    "infratrace_in_process_backlog", default=None)
_ENVIRON_KEY = "infratrace.jobs"


def pending_key(job_name: str, ids: tuple[str, ...]) -> str:
    return f"infratrace:pending:{job_name}:{':'.join(ids)}"


def enqueue(job_name: str, *ids: str) -> None:
    """Schedule `job_name(*ids)` to run once the current SQL transaction commits.

    Only ids are accepted (hex/uuid strings), never objects or personal data.
    """
    if job_name not in JOBS:
        raise ValueError(f"unknown job {job_name!r}")
    for value in ids:
        if not isinstance(value, str) or not _ID.match(value):
            raise ValueError(f"job arguments must be ids, got {value!r}")
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback right after this still counts as one, and drops the job
    pending: list[tuple[str, tuple[str, ...]]] = session.info.setdefault(_SESSION_KEY, [])
    item = (job_name, tuple(ids))
    if item not in pending:
        pending.append(item)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    jobs = session.info.pop(_SESSION_KEY, None)
    if not jobs:
        return
    if not has_app_context():
        log.warning("jobs committed outside an app context were dropped (the sweep will catch up): %s", jobs)
        return
    dispatch(jobs)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(_SESSION_KEY, None)


def dispatch(jobs: list[tuple[str, tuple[str, ...]]]) -> None:
    """Hand committed jobs to RQ, or run them in-process (after the response, in a request)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["INFRATRACE"].redis_url:
        for name, ids in jobs:
            try:
                send_to_rq(app, name, ids)
            except Exception as exc:  # noqa: BLE001 - Redis down must never fail the write
                log.warning("could not enqueue %s for %s (the sweep will retry): %s", name, ",".join(ids), exc)
        return
    if has_request_context():
        # Kept on the request (not on `g`, which belongs to an app context that may be nested), so
        # every commit of one request adds to a single list that runs once after the response.
        queued: list[tuple[str, tuple[str, ...]]] | None = request.environ.get(_ENVIRON_KEY)
        if queued is None:
            queued = request.environ[_ENVIRON_KEY] = []

            @after_this_request
            def _run_after_response(response: Any) -> Any:
                response.call_on_close(lambda: run_all(app, list(queued)))
                return response

        for item in jobs:
            if item not in queued:
                queued.append(item)
        return
    run_all(app, jobs)


def run_all(app: Flask, jobs: list[tuple[str, tuple[str, ...]]]) -> None:
    for name, ids in jobs:
        run_in_process(app, name, ids)


def job_function(name: str) -> Callable[..., Any]:
    """The function a job name stands for, found by its dotted path as RQ's worker finds it.

    By name, not by import: jobs call services, so the services must not import the jobs back
    (the import-linter contracts in .importlinter hold that).
    """
    module, _, attribute = JOBS[name][0].rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def run_in_process(app: Flask, name: str, ids: tuple[str, ...]) -> None:
    """Run one job now in this process; exceptions are logged, never raised to the caller.

    A job that enqueues another (an analysis continuing its backlog in a new run) gets it run
    AFTER itself, not inside it: nested, each run held its app context and a pooled connection
    until the innermost returned, and a 10,000-commit history (50 analysis runs) exhausted the
    pool and waited 30 s for a connection that could never come back.
    """
    backlog = _in_process_backlog.get()
    if backlog is not None:
        if (name, ids) not in backlog:
            backlog.append((name, ids))
        return
    backlog = [(name, ids)]
    token = _in_process_backlog.set(backlog)
    try:
        while backlog:
            name, ids = backlog.pop(0)
            with app.app_context():
                try:
                    job_function(name)(*ids)
                except Exception:  # noqa: BLE001 - logged; state (e.g. mirror_error) is on the row
                    log.exception("in-process job %s(%s) failed", name, ",".join(ids))
    finally:
        _in_process_backlog.reset(token)


def redis_connection(app: Flask) -> Any:
    """One client per app: short timeouts, so a dead Redis costs a write a second, not a minute."""
    connection = app.extensions.get("infratrace_redis")
    if connection is None:
        from redis import Redis

        connection = Redis.from_url(
            app.config["INFRATRACE"].redis_url, socket_connect_timeout=1, socket_timeout=5
        )
        app.extensions["infratrace_redis"] = connection
    return connection


def send_to_rq(app: Flask, name: str, ids: tuple[str, ...]) -> bool:
    """Enqueue on RQ unless a run for the same (job, ids) is already waiting; True if enqueued."""
    from rq import Queue, Retry

    path, timeout, intervals = JOBS[name]
    connection = redis_connection(app)
    key = pending_key(name, ids)
    if not connection.set(key, "1", nx=True, ex=PENDING_TTL):
        return False
    try:
        Queue(QUEUE, connection=connection).enqueue(
            path,
            *ids,
            job_id=f"{name}-{'-'.join(ids)}-{uuid.uuid4().hex[:12]}",
            retry=Retry(max=len(intervals), interval=intervals),
            job_timeout=timeout,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"{name}({','.join(ids)})",
        )
    except Exception:
        try:
            connection.delete(key)
        except Exception:  # noqa: BLE001 - the key expires on its own
            pass
        raise
    return True
