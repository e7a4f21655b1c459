"""Operational data: one structured log line per request, and Prometheus metrics at /metrics.

Request log (logger `infratrace.request`, JSON): method, route (the URL rule, never the concrete
path or query string, which can carry tokens or names), status, duration, user id and request
id. Nothing from headers, bodies or config text is logged.

Metrics: request latency by route, background-job durations and failures (recorded by the
worker, see workers/jobs.py), and at scrape time queue depth, mirror lag, repo count and sizes.
Under gunicorn (several processes) set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by the
web and worker processes: prometheus-client then keeps each process's values in files there and
/metrics sums them. The endpoint is off unless METRICS_TOKEN (Bearer) or METRICS_PUBLIC=1 is set.

The metric objects are process-wide by nature (prometheus-client's registry), like the Flask
extensions; they hold numbers only.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, abort, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

request_log = logging.getLogger("infratrace.request")

REQUEST_LATENCY = Histogram(
    "infratrace_http_request_duration_seconds", "Time to answer an HTTP request, by route.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)
JOB_DURATION = Histogram(
    "infratrace_job_duration_seconds", "Time a background job ran, by job.", ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
)
JOB_FAILURES = Counter("infratrace_job_failures_total", "Background job runs that raised, by job.", ["job"])


def observe_job(name: str, seconds: float, failed: bool) -> None:
    JOB_DURATION.labels(job=name).observe(seconds)
    if failed:
        JOB_FAILURES.labels(job=name).inc()


class StateCollector(Collector):
    """Read at scrape time from SQL and Redis: never stale, nothing to keep in sync."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import func, or_, select

        from app.extensions import db
        from app.models import Device, utcnow

        with self.app.app_context():
            repos, pack_bytes = db.session.execute(
                select(func.count(Device.id), func.coalesce(func.sum(Device.pack_bytes), 0))
            ).one()
            lagging = or_(Device.mirrored_head.is_(None), Device.mirrored_head != Device.head_commit)
            lag_count, oldest = db.session.execute(
                select(func.count(Device.id), func.min(Device.last_changed_at))
                .where(Device.head_commit.is_not(None), lagging)
            ).one()
            largest = db.session.scalar(select(func.max(Device.pack_bytes))) or 0
            db.session.remove()
            depth = _queue_depth(self.app)
        yield GaugeMetricFamily("infratrace_repositories", "Device repositories.", value=repos)
        yield GaugeMetricFamily("infratrace_repository_bytes", "Packed size of all device repositories.",
                                value=int(pack_bytes or 0))
        yield GaugeMetricFamily("infratrace_repository_largest_bytes", "Packed size of the largest repository.",
                                value=int(largest))
        yield GaugeMetricFamily("infratrace_mirror_lagging_repositories",
                                "Repositories whose object-store mirror is behind their head.", value=lag_count)
        lag = 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())
        yield GaugeMetricFamily("infratrace_mirror_lag_seconds",
                                "Age of the oldest change not yet mirrored (0 when all are).", value=lag)
        yield GaugeMetricFamily("infratrace_queue_depth", "Jobs waiting in the RQ queue (0 with in-process jobs).",
                                value=depth)


def _queue_depth(app: Flask) -> int:
    if not app.config["INFRATRACE"].redis_url:
        return 0
    from rq import Queue

    from app.services.job_queue import QUEUE, redis_connection

    try:
        return len(Queue(QUEUE, connection=redis_connection(app)))
    except Exception:  # noqa: BLE001 - a scrape must not fail because Redis is briefly away
        return -1


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_and_measure(response: Response) -> Response:
        started = g.pop("request_started", None)
        if started is None:
            return response
        duration = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        if route != "/metrics":
            REQUEST_LATENCY.labels(method=request.method, route=route, status=str(response.status_code)).observe(
                duration)
        if not request_log.isEnabledFor(logging.INFO):
            return response  # nobody reads the line: don't build it (the metric above is kept)
        request_log.info(json.dumps({
            "event": "request",
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "user_id": _user_id(),
            "request_id": g.get("request_id"),
        }, separators=(",", ":")))
        return response

    app.add_url_rule("/metrics", "metrics", _metrics_view(app))


def _user_id() -> str | None:
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user.id
    from flask_login import current_user

    try:
        return current_user.id if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - logging must never break a response
        return None


def _metrics_view(app: Flask):  # type: ignore[no-untyped-def]
    state = StateCollector(app)

    def metrics() -> Response:
        config = app.config["INFRATRACE"]
        if not (config.metrics_public or config.metrics_token):
            abort(404)
        if not config.metrics_public:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                     config.metrics_token.encode()):
                return Response("Send 'Authorization: Bearer <METRICS_TOKEN>'.\n", 401,
                                {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(registry)
        else:
            from prometheus_client import REGISTRY

            return Response(generate_latest(_WithState(REGISTRY, state)), mimetype=CONTENT_TYPE_LATEST)
        registry.register(state)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return metrics


class _WithState:
    """The default registry plus the scrape-time collector, without registering it globally."""

    def __init__(self, base, state: StateCollector) -> None:  # type: ignore[no-untyped-def]
        self.base, self.state = base, state

    def collect(self):  # type: ignore[no-untyped-def]
        yield from self.base.collect()
        yield from self.state.collect()
