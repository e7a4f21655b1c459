"""A push and an API write racing for the same device, 100 rounds: neither is ever lost."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CommitRecord, Device
from gitstore import DeviceRepo
from tests.githttp_support import (  # noqa: F401  (fixtures)
    PUSH_IDENTITY,
    device_path,
    git_home_fixture,
    repo_url,
    run_git,
    server_fixture,
    world_fixture,
)

ROUNDS = 100


def api_write(server, token: str, device_id: str, n: int) -> None:
    """The real API write: POST /api/v1/devices/<id>/versions over HTTP, through the door."""
    body = json.dumps({"message": f"API {n}", "configs": {f"api-{n}": f"api write {n}\n"}}).encode()
    request = urllib.request.Request(server.url(f"/api/v1/devices/{device_id}/versions"), data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201, response.read()


def _commit_on_origin(work, n: int) -> None:
    """Local main = origin/main plus one commit adding configs/push-<n> (what a rebase would make).

    Built in-process with pygit2 so each round costs one `git push` (and a `git fetch` when the
    API write won the race), which keeps 100 rounds fast.
    """
    import pygit2

    repo = pygit2.Repository(str(work))
    try:
        base = repo.references["refs/remotes/origin/main"].peel(pygit2.Commit)
        blob = repo.create_blob(f"pushed {n}\n".encode())
        configs = base.tree["configs"] if "configs" in base.tree else None
        builder = repo.TreeBuilder(repo[configs.id]) if configs is not None else repo.TreeBuilder()
        builder.insert(f"push-{n}", blob, pygit2.enums.FileMode.BLOB)
        root = repo.TreeBuilder(base.tree)
        root.insert("configs", builder.write(), pygit2.enums.FileMode.TREE)
        who = pygit2.Signature(*PUSH_IDENTITY)
        commit = repo.create_commit(None, who, who, f"Push {n}", root.write(), [base.id])
        repo.references.create("refs/heads/main", commit, force=True)
    finally:
        repo.free()


@pytest.mark.slow
def test_push_and_api_write_race_without_losses(app, world, server, git_home, tmp_path):
    work = tmp_path / "w"
    run_git(git_home, "clone", "-q", "--bare", repo_url(server, "editor", world.tokens["editor"]), str(work))
    run_git(git_home, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*", cwd=work)
    run_git(git_home, "fetch", "-q", "origin", cwd=work)
    retries = 0
    for n in range(ROUNDS):
        _commit_on_origin(work, n)
        writer = threading.Thread(target=api_write, args=(server, world.tokens["editor"], world.device_id, n))
        writer.start()
        pushed = run_git(git_home, "push", "-q", "origin", "main", cwd=work, check=False)
        writer.join(timeout=60)
        while pushed.returncode != 0:
            # Lost the race to the API write: the push was refused whole; rebuild on the new head.
            assert "rejected" in pushed.stderr, pushed.stderr
            retries += 1
            run_git(git_home, "fetch", "-q", "origin", cwd=work)
            _commit_on_origin(work, n)
            pushed = run_git(git_home, "push", "-q", "origin", "main", cwd=work, check=False)
        run_git(git_home, "fetch", "-q", "origin", cwd=work)

    with DeviceRepo.open(device_path(app, world.device_id)) as repo:
        snapshot = repo.read("main")
        head = repo.head()
        git_count = len(repo.commits_between(None, head))
    names = set(snapshot.configs)
    assert {f"push-{n}" for n in range(ROUNDS)} <= names
    assert {f"api-{n}" for n in range(ROUNDS)} <= names
    assert git_count == 1 + 2 * ROUNDS
    with app.app_context():
        device = db.session.get(Device, world.device_id)
        assert device.head_commit == head
        indexed = db.session.scalar(select(func.count(CommitRecord.id)).where(CommitRecord.device_id == device.id))
        assert indexed == git_count == device.version_count
