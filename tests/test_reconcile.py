"""The reconciler runs where the issue says: the scheduled sweep, the start-up of serve/worker, and
`infratrace reindex`; it compares every ref (tags too, through the refs digest), not only main."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.cli import _reconcile_at_startup
from app.extensions import db
from app.models import AuditEvent, CommitRecord, Device, User
from app.services.gitstore_bridge import author_for, repo_path
from gitstore import Changes, DeviceRepo
from tests.jobs_support import device_row, make_device, make_env, make_team, repo_state
from workers.schedule import tick


def _drift(env, device_id: str, user_id: str, tag: str | None = None) -> str:
    """Move a ref in git only, as a process killed before its SQL commit leaves it."""
    with env.app.app_context():
        device = db.session.get(Device, device_id)
        author = author_for(db.session.get(User, user_id))
        with DeviceRepo.open(repo_path(device)) as repo:
            if tag:
                repo.create_tag(tag, "main", "named behind SQL's back", author)
                return repo.head()
            return repo.commit_version(Changes(configs={"drift": b"x\n"}), author, "behind SQL's back").commit


def _recovered(env, device_id: str) -> list[dict]:
    with env.app.app_context():
        return [e.changes for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == device_id, AuditEvent.action == "recover"))]


def _setup(env, make_user):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    return owner, device_id


def test_the_scheduled_sweep_repairs_index_audit_and_mirror(app, config, tmp_path, monkeypatch, make_user):
    env = make_env("local", config, tmp_path, monkeypatch, None)
    owner, device_id = _setup(env, make_user)
    head = _drift(env, device_id, owner)
    assert device_row(env.app, device_id).head_commit != head
    with env.app.app_context():
        tick(time.monotonic(), {})
    env.drain()
    row = device_row(env.app, device_id)
    assert row.head_commit == head and row.version_count == 2 and row.mirrored_head == head
    assert [c["reason"] for c in _recovered(env, device_id)] == ["sweep"]


def test_serve_and_worker_startup_reconcile_recent_repos(app, config, tmp_path, monkeypatch, make_user):
    env = make_env("local", config, tmp_path, monkeypatch, None)
    owner, device_id = _setup(env, make_user)
    head = _drift(env, device_id, owner)
    _reconcile_at_startup(env.config)
    env.drain()
    row = device_row(env.app, device_id)
    assert row.head_commit == head and row.mirrored_head == head
    assert [c["reason"] for c in _recovered(env, device_id)] == ["startup"]


def test_a_tag_moved_behind_sqls_back_is_found_by_the_refs_digest(app, config, tmp_path, monkeypatch, make_user):
    env = make_env("local", config, tmp_path, monkeypatch, None)
    owner, device_id = _setup(env, make_user)
    head = _drift(env, device_id, owner, tag="v1")
    # main did not move: only the digest of all refs can tell.
    assert device_row(env.app, device_id).head_commit == head
    _reconcile_at_startup(env.config)
    env.drain()
    recovered = _recovered(env, device_id)
    assert len(recovered) == 1 and "refs/tags/v1" in recovered[0]["refs"]
    refs, _ = repo_state(env.app, device_id)
    assert "refs/tags/v1" in refs


def test_reindex_command_repairs_and_records_the_recovery(app, config, tmp_path, monkeypatch, make_user):
    env = make_env("local", config, tmp_path, monkeypatch, None)
    owner, device_id = _setup(env, make_user)
    head = _drift(env, device_id, owner)
    result = env.cli("reindex")
    assert result.returncode == 0, result.stderr
    assert "1 device(s), 2 commit(s)" in result.stdout
    with env.app.app_context():
        shas = list(db.session.scalars(select(CommitRecord.sha).where(CommitRecord.device_id == device_id)
                                       .order_by(CommitRecord.seq)))
    assert shas[-1] == head
    assert [c["reason"] for c in _recovered(env, device_id)] == ["reindex"]
    # A second run rebuilds the rows again but finds no drift to record.
    assert env.cli("reindex").returncode == 0
    assert len(_recovered(env, device_id)) == 1
