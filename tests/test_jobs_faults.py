"""Faults: object store down then up, Redis down during writes, a worker killed mid-mirror."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid

from gitstore import Changes
from tests.jobs_support import ROOT, Env, device_row, make_device, make_env, make_team, repo_state, write
from tests.objectstore_support import free_port
from workers.mirror import PAUSE_ENV
from workers.schedule import sweep_mirrors


def _sweep(env: Env) -> None:
    with env.app.app_context():
        sweep_mirrors()
    env.drain()


def test_store_down_then_up_catches_up(app, config, tmp_path, monkeypatch, restartable_moto, make_user):
    env = make_env("s3", config, tmp_path, monkeypatch, restartable_moto)
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    assert device_row(env.app, device_id).mirror_error is None

    restartable_moto.stop()
    heads = [write(env.app, device_id, owner, f"while down {i}", Changes(configs={"c": f"{i}\n".encode()}))
             for i in range(3)]  # every write succeeds with the store down
    env.drain()
    row = device_row(env.app, device_id)
    assert row.head_commit == heads[-1] and row.version_count == 4
    assert row.mirror_error and row.mirrored_head != row.head_commit and row.mirror_attempts >= 1
    if env.config.redis_url:
        from redis import Redis
        from rq import Queue
        from rq.registry import ScheduledJobRegistry

        # The failed run is scheduled again with backoff (RQ Retry), not dropped.
        queue = Queue("default", connection=Redis.from_url(env.config.redis_url))
        assert ScheduledJobRegistry(queue=queue).count >= 1

    restartable_moto.start()
    restartable_moto.create_bucket()  # moto keeps nothing across a restart: an empty bucket
    _sweep(env)
    row = device_row(env.app, device_id)
    assert row.mirrored_head == row.head_commit and row.mirror_error is None and row.mirror_attempts == 0


def test_redis_down_during_writes_then_the_sweep_mirrors(env, make_user, caplog, monkeypatch):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    # Only the job path sees the dead Redis (a closed port); the app's rate limiter keeps its storage.
    monkeypatch.setitem(env.app.config, "INFRATRACE", env.config.with_changes(
        redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    monkeypatch.delitem(env.app.extensions, "infratrace_redis", raising=False)
    with caplog.at_level(logging.WARNING, logger="app.services.job_queue"):
        head = write(env.app, device_id, owner, "redis is down", Changes(configs={"c": b"x\n"}))
    assert "could not enqueue mirror_device" in caplog.text
    row = device_row(env.app, device_id)
    assert row.head_commit == head and row.version_count == 2  # the write is not lost
    assert row.mirrored_head != head
    monkeypatch.setitem(env.app.config, "INFRATRACE", env.config)
    env.app.extensions.pop("infratrace_redis", None)
    _sweep(env)
    assert device_row(env.app, device_id).mirrored_head == head


def _run_paused(env: Env, marker: str, args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app", *args], env=env.child_env(**{PAUSE_ENV: marker}),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_worker_killed_mid_mirror_converges(env, make_user, tmp_path):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    first_head = device_row(env.app, device_id).head_commit
    # With Redis the write enqueues the job the paused worker will run. In-process, the write is made
    # in a request whose response never closes, so its mirror is left to the sweep run below.
    with env.app.test_request_context("/"):
        new_head = write(env.app, device_id, owner, "to mirror", Changes(configs={"c": b"big\n" * 1000}))

    marker = str(tmp_path / f"pause-{uuid.uuid4().hex}")
    open(marker, "w").close()
    if env.config.redis_url:
        process = _run_paused(env, marker, ["worker", "--burst"])  # the job enqueued by the write
    else:
        process = _run_paused(env, marker, ["sweep"])  # runs the mirror in-process, right after commit
    deadline = time.monotonic() + 60
    while not os.path.exists(marker + ".reached") or not open(marker + ".reached").read():
        assert process.poll() is None, "the process ended before reaching the pause"
        assert time.monotonic() < deadline, "the mirror never reached the pause"
        time.sleep(0.05)
    # The RQ work horse runs in a session of its own: kill it (the process that paused) and the worker.
    doer = int(open(marker + ".reached").read() or 0)
    os.kill(doer, signal.SIGKILL)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    os.unlink(marker)

    store = env.store()
    try:
        manifest = json.loads(store.get_bytes(f"mirrors/{device_id}/manifest.json"))
        # The new pack was uploaded but no manifest names it: the mirror in force is the old one.
        assert manifest["head"] == first_head
        stray = [i.key for i in store.list(f"mirrors/{device_id}/packs/")]
        assert len(stray) == len(manifest["packs"]) + 1
        _sweep(env)
        manifest = json.loads(store.get_bytes(f"mirrors/{device_id}/manifest.json"))
        assert manifest["head"] == new_head
        assert sorted(i.key for i in store.list(f"mirrors/{device_id}/packs/")) == sorted(
            p["key"] for p in manifest["packs"])
    finally:
        store.close()
    row = device_row(env.app, device_id)
    assert row.mirrored_head == new_head and row.mirror_error is None

    before = repo_state(env.app, device_id)
    import shutil

    shutil.rmtree(env.config.repos_dir)
    result = env.cli("restore", "--verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert repo_state(env.app, device_id) == before
