"""Runs an RQ worker whose jobs execute inside the Flask app's context."""

from __future__ import annotations

from app.config import Config

QUEUES = ("default",)


def run_worker(config: Config, burst: bool = False) -> int:
    from redis import Redis
    from rq import Queue, Worker

    from app import create_app

    app = create_app(config)
    connection = Redis.from_url(config.redis_url)
    queues = [Queue(name, connection=connection) for name in QUEUES]
    with app.app_context():
        worker = Worker(queues, connection=connection)
        worker.work(burst=burst, with_scheduler=True)
    return 0
