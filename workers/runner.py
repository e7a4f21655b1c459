"""Runs an RQ worker whose jobs execute inside the Flask app's context.

Abandoned jobs (a worker killed mid-job) stay in RQ's StartedJobRegistry until their heartbeat
expires; the worker's registry clean-up then re-queues them while they have retries left
(every job is enqueued with `Retry`), and the mirror sweep re-enqueues any device still lagging.
"""

from __future__ import annotations

from flask import Flask

from app.config import Config

QUEUES = ("default",)


def run_worker(app: Flask, config: Config, burst: bool = False) -> int:
    """Work the queues inside `app`'s context (the work horses are forks, so they inherit it)."""
    from redis import Redis
    from rq import Queue, Worker

    import workers.jobs  # noqa: F401 - registers the after-fork hook before the first work horse

    connection = Redis.from_url(config.redis_url)
    queues = [Queue(name, connection=connection) for name in QUEUES]
    with app.app_context():
        worker = Worker(queues, connection=connection)
        worker.work(burst=burst, with_scheduler=True)
    return 0
