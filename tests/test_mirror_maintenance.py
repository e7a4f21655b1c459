"""Maintenance jobs: gc + commit-graph under the lock, stale temp clean-up, fsck with alerts."""

from __future__ import annotations

import os
import time

from app.extensions import db
from app.models import Device, OutboxMail
from app.services import job_queue
from gitstore import Changes
from tests.jobs_support import device_row, make_device, make_team, write
from workers.schedule import maintenance_slice_size, schedule_maintenance


def _path(env, device_id):
    with env.app.app_context():
        return env.config.repos_dir / db.session.get(Device, device_id).repo_path


def test_gc_commit_graph_and_stale_temp_cleanup(env, make_user):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    for i in range(5):
        write(env.app, device_id, owner, f"v{i}", Changes(configs={"c": f"{i}\n".encode() * 50}))
    path = _path(env, device_id)
    old_tmp = path.parent / f".{path.name}.tmp-deadbeef"
    old_tmp.mkdir()
    fresh_tmp = path.parent / f".{path.name}.tmp-cafebabe"
    fresh_tmp.mkdir()
    old_obj = path / "objects" / "tmp_object_git2_abc"
    old_obj.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old_tmp, (past, past))
    os.utime(old_obj, (past, past))
    with env.app.app_context():
        job_queue.enqueue("maintain_device", device_id)
        db.session.commit()
    env.drain()
    row = device_row(env.app, device_id)
    assert row.maintained_at is not None and row.pack_bytes and row.pack_bytes > 0
    assert (path / "objects" / "info" / "commit-graph").is_file()
    assert list((path / "objects" / "pack").glob("*.pack"))
    assert not old_tmp.exists() and not old_obj.exists() and fresh_tmp.exists()


def test_fsck_failure_marks_the_device_and_alerts_admins_once(env, make_user):
    owner, _ = make_user("owner")
    admin, _ = make_user("boss", "admin@example.com")
    editor, _ = make_user("editor")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner", admin: "admin", editor: "editor"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    path = _path(env, device_id)
    loose = sorted(p for p in (path / "objects").glob("??/*"))[0]
    saved = loose.read_bytes()
    os.chmod(loose, 0o644)
    loose.unlink()

    for _ in range(2):  # the second failing run does not alert again
        with env.app.app_context():
            job_queue.enqueue("check_device", device_id)
            db.session.commit()
        env.drain()
    row = device_row(env.app, device_id)
    assert row.integrity_error and "fsck" in row.integrity_error and row.checked_at
    with env.app.app_context():
        mails = db.session.query(OutboxMail).all()
    assert sorted(m.to for m in mails) == ["admin@example.com", "owner@example.com"]
    assert all("sw1" in m.subject for m in mails)

    loose.write_bytes(saved)
    with env.app.app_context():
        job_queue.enqueue("check_device", device_id)
        db.session.commit()
    env.drain()
    assert device_row(env.app, device_id).integrity_error is None


def test_maintenance_slices_rotate_through_every_device(env, make_user):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    ids = {make_device(env.app, team_id, project_id, owner, f"sw{i}") for i in range(3)}
    assert maintenance_slice_size(504) == 1 and maintenance_slice_size(1000) == 2
    seen = set()
    for _ in range(3):
        with env.app.app_context():
            picked = schedule_maintenance(limit=1)
        env.drain()
        seen.update(picked)
    assert seen == ids  # least recently maintained first: three slices of one cover all three
