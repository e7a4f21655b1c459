"""Helpers of the privacy tests: run queued jobs, poll an export until it settles."""

from __future__ import annotations

import time

from flask import Flask


def drain(app: Flask) -> None:
    """Run every queued RQ job here and now (with REDIS_URL); in-process jobs have already run
    when the test client's response was closed."""
    redis_url = app.config["INFRATRACE"].redis_url
    if not redis_url:
        return
    from redis import Redis
    from rq import Queue, SimpleWorker

    from app.services.job_queue import QUEUE

    connection = Redis.from_url(redis_url)
    with app.app_context():
        SimpleWorker([Queue(QUEUE, connection=connection)], connection=connection).work(burst=True)


def wait_export(client, app: Flask, export_id: str, headers: dict[str, str], deadline: float = 30.0) -> dict:
    """Poll GET /api/v1/export/<id> until done or failed (never a fixed sleep)."""
    end = time.monotonic() + deadline
    while True:
        drain(app)
        body = client.get(f"/api/v1/export/{export_id}", headers=headers).get_json()
        if body["status"] in ("done", "failed") or time.monotonic() > end:
            return body
        time.sleep(0.05)


def post_export(client, headers: dict[str, str]):
    """POST /api/v1/export, closing the response: in-process jobs run when it is closed, as
    a WSGI server does once the body is sent."""
    return client.post("/api/v1/export", headers=headers, buffered=True)
