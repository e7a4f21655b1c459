"""Jobs go out after the commit (dropped on rollback) and bursts of writes coalesce."""

from __future__ import annotations

import json

from flask import Response

from app.extensions import db
from app.models import Device
from app.services import job_queue
from app.services.commit_index import sync_device
from app.services.mirrors import mirror_state
from app.storage.objectstore import ObjectStore
from gitstore import Changes
from tests.jobs_support import device_row, make_device, make_team, write


def _pack_uploads(store: ObjectStore, device_id: str) -> int:
    manifest = json.loads(store.get_bytes(f"mirrors/{device_id}/manifest.json"))
    return len(manifest["packs"])


def test_hundred_writes_coalesce_into_few_mirror_runs(env, make_user):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    store = env.store()
    try:
        assert _pack_uploads(store, device_id) == 1
        # One request's worth of writes in the in-process mode (jobs run after the response); with
        # Redis, 100 separately committed writes before a worker picks anything up.
        with env.app.test_request_context("/"):
            for index in range(100):
                write(env.app, device_id, owner, f"change {index}", Changes(configs={"c": f"v{index}\n".encode()}))
            response = env.app.process_response(Response("ok"))
            assert _pack_uploads(store, device_id) == 1, "a mirror ran before the response was closed"
            response.close()
        env.drain()
        # Each mirror run that found new objects appended one pack to the chain.
        assert 2 <= _pack_uploads(store, device_id) <= 3
    finally:
        store.close()
    row = device_row(env.app, device_id)
    assert row.mirrored_head == row.head_commit and row.version_count == 101
    assert mirror_state(row)["in_sync"] is True


def test_rollback_drops_jobs_and_commit_sends_them(env, make_user):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    with env.app.app_context():
        job_queue.enqueue("mirror_device", device_id)
        db.session.rollback()
        # Nothing pending survives the rollback, so this commit sends nothing.
        assert not db.session.info.get("infratrace_jobs")
        db.session.commit()
    with env.app.app_context():
        try:
            job_queue.enqueue("mirror_device", "alice@example.com")
        except ValueError:
            pass
        else:
            raise AssertionError("personal data accepted as a job argument")


def test_mirror_state_shows_lag_until_the_mirror_runs(env, make_user):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    with env.app.app_context():
        device = db.session.get(Device, device_id)
        state = mirror_state(device)
        assert state["in_sync"] and state["mirrored_at"] and state["error"] is None
        # A ref that moved without a mirror yet (e.g. the job is queued): the lag is visible.
        device.head_commit = "f" * 40
        state = mirror_state(device)
        assert state["in_sync"] is False and state["lag_seconds"] is not None
        db.session.rollback()
        sync_device(db.session.get(Device, device_id))
        db.session.commit()
