"""Git and SQL never drift for good (issue 9, finding 4): a process SIGKILLed between the ref move
and the SQL commit, at the door's documented fault-injection point (INFRATRACE_FAULT), leaves a
commit git has and SQL lacks; the reconciler repairs the index, the audit trail and the mirror
without another write. Restore rebuilds the index too.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.models import AuditEvent, CommitPath, CommitRecord, Device, User
from app.services.reconcile import reconcile_recent
from gitstore import Changes
from tests.jobs_support import ROOT, device_row, make_device, make_env, make_team, repo_state, write

API_WRITE = """
import sys
from app import create_app
from app.config import Config
from app.extensions import db
from app.models import User
from app.services import versions

app = create_app(Config.from_env())
with app.app_context():
    user = db.session.get(User, sys.argv[1])
    versions.write_version(user, sys.argv[2], {"message": "killed after the ref move",
                                               "configs": {"running-config": "after\\n"}})
print("the fault point did not fire", flush=True)
"""

SERVER = """
from werkzeug.serving import make_server
from app import create_app
from app.config import Config

server = make_server("127.0.0.1", 0, create_app(Config.from_env()), threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _events(app, device_id: str, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == device_id,
                                                           AuditEvent.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def _indexed(app, device_id: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(CommitRecord.sha).where(CommitRecord.device_id == device_id)
                                       .order_by(CommitRecord.seq)))


def _reconcile_and_check(env, device_id: str, drifted_head: str, reason: str) -> None:
    """Start-up reconciliation repairs index, audit and mirror; a second run finds nothing."""
    with env.app.app_context():
        repairs = reconcile_recent(reason)
    assert [r.device_id for r in repairs] == [device_id]
    env.drain()
    refs, log = repo_state(env.app, device_id)
    row = device_row(env.app, device_id)
    assert log[0] == drifted_head
    assert row.head_commit == drifted_head and row.version_count == len(log)
    assert _indexed(env.app, device_id) == list(reversed(log))
    recovered = _events(env.app, device_id, "recover")
    assert len(recovered) == 1 and recovered[0].changes["recovered"] is True
    assert recovered[0].changes["head"] == drifted_head and recovered[0].changes["reason"] == reason
    assert row.mirrored_head == drifted_head and row.mirror_error is None
    with env.app.app_context():
        assert reconcile_recent(reason) == []  # converged: nothing more to repair


@pytest.mark.slow
def test_api_write_killed_between_ref_move_and_sql_commit_is_repaired(app, config, tmp_path, monkeypatch,
                                                                      make_user):
    env = make_env("local", config, tmp_path, monkeypatch, None)
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    before = device_row(env.app, device_id)

    child = subprocess.run([sys.executable, "-c", API_WRITE, owner, device_id], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, env=env.child_env(INFRATRACE_FAULT="door.after_ref_move"))
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr

    # The drift: git moved main; SQL (index, head, audit) and the mirror never heard of it.
    _, log = repo_state(env.app, device_id)
    assert len(log) == 2 and log[1] == before.head_commit
    row = device_row(env.app, device_id)
    assert row.head_commit == before.head_commit and _indexed(env.app, device_id) == [before.head_commit]
    assert _events(env.app, device_id, "commit") == [] and row.mirrored_head == before.head_commit

    _reconcile_and_check(env, device_id, log[0], "startup")


@pytest.mark.slow
def test_push_whose_worker_dies_after_git_moved_main_is_repaired(app, config, tmp_path, monkeypatch, make_user,
                                                                 token_for):
    from tests.githttp_support import git_env

    git_home = tmp_path / "home"
    git_home.mkdir()
    env = make_env("local", config, tmp_path, monkeypatch, None)
    owner, username = make_user("pusher")
    token = token_for(owner)
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    before = device_row(env.app, device_id)
    with env.app.app_context():
        who = db.session.get(User, owner)
        identity = {"GIT_AUTHOR_NAME": who.author_name, "GIT_AUTHOR_EMAIL": who.author_email,
                    "GIT_COMMITTER_NAME": who.author_name, "GIT_COMMITTER_EMAIL": who.author_email}
    server = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL,
                              env=env.child_env(INFRATRACE_FAULT="door.after_ref_move"))
    try:
        port = int(server.stdout.readline())
        url = f"http://{username}:{token}@127.0.0.1:{port}/git/netops/core/sw1.git"
        genv = {**git_env(git_home), **identity}
        work = tmp_path / "w"
        subprocess.run(["git", "clone", "-q", url, str(work)], env=genv, check=True, capture_output=True,
                       timeout=60)
        (work / "configs").mkdir()
        (work / "configs" / "pushed").write_text("pushed\n")
        subprocess.run(["git", "add", "-A"], cwd=work, env=genv, check=True)
        subprocess.run(["git", "commit", "-q", "-m", "pushed then killed"], cwd=work, env=genv, check=True)
        pushed = subprocess.run(["git", "push", "origin", "main"], cwd=work, env=genv, capture_output=True,
                                text=True, timeout=60)
        # The client was told the push failed: the worker died before it could answer.
        assert pushed.returncode != 0
        assert server.wait(timeout=30) == -signal.SIGKILL
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)

    _, log = repo_state(env.app, device_id)
    assert len(log) == 2, "git moved main"
    row = device_row(env.app, device_id)
    assert row.head_commit == before.head_commit and _events(env.app, device_id, "push") == []

    _reconcile_and_check(env, device_id, log[0], "startup")


def test_restore_rebuilds_the_index_from_the_restored_repo(app, config, tmp_path, monkeypatch, make_user):
    """Finding 4: restore from object storage brought the repo back but never the SQL index."""
    env = make_env("local", config, tmp_path, monkeypatch, None)
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    head = write(env.app, device_id, owner, "second", Changes(configs={"c": b"2\n"}))
    env.drain()
    assert device_row(env.app, device_id).mirrored_head == head
    # The host is lost: no repository, and SQL restored from a backup taken before these versions.
    with env.app.app_context():
        device = db.session.get(Device, device_id)
        path = env.data_dir / "repos" / device.repo_path
        db.session.execute(delete(CommitPath).where(CommitPath.device_id == device_id))
        db.session.execute(delete(CommitRecord).where(CommitRecord.device_id == device_id))
        device.head_commit, device.version_count, device.refs_digest = None, 0, None
        db.session.commit()
    shutil.rmtree(path)

    result = env.cli("restore", "--device", device_id)
    assert result.returncode == 0, result.stdout + result.stderr
    _, log = repo_state(env.app, device_id)
    assert log[0] == head
    assert _indexed(env.app, device_id) == list(reversed(log))
    row = device_row(env.app, device_id)
    assert row.head_commit == head and row.version_count == 2
    recovered = _events(env.app, device_id, "recover")
    assert recovered and recovered[-1].changes["reason"] == "restore"
