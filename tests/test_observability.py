"""Issue 12, policy promise "log data": structured request logs and Prometheus metrics."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.services.job_queue import run_in_process
from tests.client_support import config_changes
from tests.device_support import world_fixture  # noqa: F401  (fixture: world)

TOKEN = "metrics-secret-token"


def scrape(client) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def total(samples, name: str, **labels) -> float:
    return sum(value for key, value in samples.get(name, {}).items()
               if all((k, v) in key for k, v in labels.items()))


def test_metrics_are_off_unless_configured_and_token_protected(app, client):
    assert client.get("/metrics").status_code == 404
    with config_changes(app, metrics_token=TOKEN):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    with config_changes(app, metrics_public=True):
        assert client.get("/metrics").status_code == 200


def test_scrape_after_requests_and_jobs_shows_every_family(app, client, world, monkeypatch):
    device = world.create_device("sw1")
    world.write(device["id"], configs={"running-config": "hostname sw1\n"})
    with config_changes(app, metrics_token=TOKEN):
        before = scrape(client)
        for _ in range(3):
            assert client.get(f"/api/v1/devices/{device['id']}", headers=world.headers["viewer"]).status_code == 200
        run_in_process(app, "maintain_device", (device["id"],))  # a job that succeeds (and sizes the repo)

        import workers.jobs

        def broken(_path):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(workers.jobs, "maintain_repo", broken)
        run_in_process(app, "maintain_device", (device["id"],))  # and one that fails
        after = scrape(client)

    route = "/api/v1/devices/<device_id>"
    assert total(after, "infratrace_http_request_duration_seconds_count", route=route) - \
        total(before, "infratrace_http_request_duration_seconds_count", route=route) == 3
    assert total(after, "infratrace_http_request_duration_seconds_sum", route=route) > 0
    assert total(after, "infratrace_job_duration_seconds_count", job="maintain_device") - \
        total(before, "infratrace_job_duration_seconds_count", job="maintain_device") == 2
    assert total(after, "infratrace_job_failures_total", job="maintain_device") - \
        total(before, "infratrace_job_failures_total", job="maintain_device") == 1
    assert total(after, "infratrace_repositories") == 1
    assert total(after, "infratrace_repository_bytes") > 0
    assert total(after, "infratrace_repository_largest_bytes") > 0
    assert total(after, "infratrace_mirror_lagging_repositories") == 1  # no object store in this test
    assert total(after, "infratrace_mirror_lag_seconds") > 0
    assert "infratrace_queue_depth" in after  # in-process jobs: nothing ever waits in a queue
    # The concrete device id never becomes a label (no unbounded cardinality, no names).
    assert not any(device["id"] in str(key) for family in after.values() for key in family)


def test_request_log_is_structured_and_holds_no_secrets(app, client, world, caplog):
    device = world.create_device("sw1")
    token = world.headers["editor"]["Authorization"].split()[1]
    with caplog.at_level(logging.INFO, logger="infratrace.request"):
        client.post(f"/api/v1/devices/{device['id']}/versions",
                    json={"message": "m", "configs": {"running-config": "enable secret 5 $1$abc$SECRETHASH\n"}},
                    headers={**world.headers["editor"], "X-Request-Id": "req-42"})
        client.get("/login?next=/settings/tokens%3Ftoken%3Ditr_leak")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "infratrace.request"]
    write = next(line for line in lines if line["method"] == "POST")
    assert write["route"] == "/api/v1/devices/<device_id>/versions"
    assert write["status"] == 201 and write["duration_ms"] > 0
    assert write["user_id"] == world.user_ids["editor"] and write["request_id"] == "req-42"
    assert set(write) == {"event", "method", "route", "status", "duration_ms", "user_id", "request_id"}
    text = caplog.text
    for secret in (token, "SECRETHASH", "itr_leak", device["id"]):
        assert secret not in text


MULTIPROCESS_SCRIPT = """
import sys
from app import create_app
from app.config import Config
from app.migrate import upgrade
config = Config(data_dir=__import__('pathlib').Path(sys.argv[1]), database_url=sys.argv[2], secret_key='k',
                metrics_token='t', testing=True)
if sys.argv[3] == 'migrate':
    upgrade(config.database_url)
    sys.exit(0)
app = create_app(config)
client = app.test_client()
if sys.argv[3] == 'hit':
    for _ in range(int(sys.argv[4])):
        assert client.get('/login').status_code == 200
else:
    sys.stdout.write(client.get('/metrics', headers={'Authorization': 'Bearer t'}).get_data(as_text=True))
"""


@pytest.mark.slow
def test_metrics_are_summed_over_processes_with_a_multiprocess_dir(tmp_path):
    """As under gunicorn: two worker processes answer requests, a third serves /metrics."""
    import os
    import subprocess
    import sys

    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    database = f"sqlite:///{tmp_path / 'm.db'}"

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-c", MULTIPROCESS_SCRIPT, str(tmp_path), database, *args],
                              env=env, capture_output=True, text=True, timeout=120, check=True)
        return done.stdout

    run("migrate")
    run("hit", "2")
    run("hit", "3")
    samples = {}
    for family in text_string_to_metric_families(run("scrape")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    count = sum(value for (name, labels), value in samples.items()
                if name == "infratrace_http_request_duration_seconds_count" and ("route", "/login") in labels)
    assert count == 5
    assert any(name == "infratrace_repositories" for name, _ in samples)
