"""Issue 9's findings 1-3 and the door's share of 7, each as a test that failed before the door.

1. another team's photo named in a pushed photos.json; 2. a push carrying another user's
pseudonym, or a real name inside a nested annotated tag; 3. a push to an archived device;
7. no unique (device, seq); device deletion without the lock and with its mirror left behind;
a lock timeout answered 500 on the API (503 on push).
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import threading

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEvent, CommitRecord, Device, User
from app.services import devices, gitstore_bridge, photos
from app.storage.objectstore import open_object_store
from gitstore import DeviceRepo, canonical_json
from tests.client_support import bearer
from tests.githttp_support import (  # noqa: F401  (fixtures)
    device_path,
    git_env,
    git_home_fixture,
    repo_url,
    run_git,
    server_fixture,
    world_fixture,
)
from tests.jobs_support import make_device, make_env, make_team
from tests.photo_support import image_bytes


def _clone(git_home, server, world, tmp_path, who: str = "editor"):
    work = tmp_path / f"w-{who}"
    run_git(git_home, "clone", "-q", repo_url(server, who, world.tokens[who]), str(work))
    return work


def _commit(git_home, work, message: str, **identity: str) -> None:
    run_git(git_home, "add", "-A", cwd=work)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", message], cwd=work, check=True,
                   capture_output=True, env={**git_env(git_home), **identity})


def _identity(app, user_id: str) -> dict[str, str]:
    with app.app_context():
        user = db.session.get(User, user_id)
        name, email = user.author_name, user.author_email
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email}


def _head(app, world) -> str:
    with DeviceRepo.open(device_path(app, world.device_id)) as repo:
        return repo.head()


# -- finding 1: another team's photo -------------------------------------------------------------


def test_push_naming_another_teams_photo_is_refused(app, world, server, git_home, tmp_path, client):
    with app.app_context():
        outsider = db.session.get(User, world.users["outsider"])
        theirs, _ = photos.upload_photo(outsider, world.other_device_id, {}, "secret.jpg",
                                        io.BytesIO(image_bytes("JPEG", color=(250, 0, 0))))
    photo = theirs["photo"]
    work = _clone(git_home, server, world, tmp_path)
    (work / "photos.json").write_bytes(canonical_json([photo]))
    _commit(git_home, work, "steal a photo")
    before = _head(app, world)
    result = run_git(git_home, "push", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0
    assert f"photo {photo['sha256']} was not uploaded to this team" in result.stderr
    assert _head(app, world) == before
    # And the bytes are not served through the attacker's device.
    response = client.get(f"/api/v1/devices/{world.device_id}/photos/{photo['sha256']}",
                          headers=bearer(world.tokens["editor"]))
    assert response.status_code == 404


def test_push_of_the_teams_own_photo_and_of_history_photos_is_accepted(app, world, server, git_home, tmp_path):
    with app.app_context():
        owner = db.session.get(User, world.users["owner"])
        own, _ = photos.upload_photo(owner, world.device_id, {}, "ours.jpg", io.BytesIO(image_bytes("JPEG")))
    work = _clone(git_home, server, world, tmp_path)
    assert json.loads((work / "photos.json").read_text())[0]["sha256"] == own["photo"]["sha256"]
    (work / "photos.json").unlink()
    _commit(git_home, work, "remove the photo")
    run_git(git_home, "push", "-q", "origin", "main", cwd=work)
    (work / "photos.json").write_bytes(canonical_json([own["photo"]]))
    _commit(git_home, work, "put it back")
    run_git(git_home, "push", "-q", "origin", "main", cwd=work)


# -- finding 2: impersonation -------------------------------------------------------------------


def test_push_with_another_users_pseudonym_is_refused(app, world, server, git_home, tmp_path):
    work = _clone(git_home, server, world, tmp_path)
    (work / "configs").mkdir(exist_ok=True)
    (work / "configs" / "x").write_text("x\n")
    owner = _identity(app, world.users["owner"])
    _commit(git_home, work, "as the owner", **owner)
    before = _head(app, world)
    result = run_git(git_home, "push", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0
    assert f"the author '{owner['GIT_AUTHOR_NAME']} <{owner['GIT_AUTHOR_EMAIL']}>' is not you" in result.stderr
    assert _head(app, world) == before
    with app.app_context():
        assert db.session.scalar(select(CommitRecord).where(CommitRecord.author_id == world.users["owner"],
                                                            CommitRecord.message == "as the owner")) is None


def test_a_pseudonym_of_nobody_is_refused_too(app, world, server, git_home, tmp_path):
    work = _clone(git_home, server, world, tmp_path)
    fake = "user-ffffffffffff"
    _commit(git_home, work, "as nobody", GIT_AUTHOR_NAME=fake, GIT_AUTHOR_EMAIL=f"{fake}@users.noreply.infratrace")
    result = run_git(git_home, "push", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0 and "is not you" in result.stderr


def _tag_object(work, git_home, target: str, kind: str, name: str, tagger: str) -> str:
    body = f"object {target}\ntype {kind}\ntag {name}\ntagger {tagger} 1700000000 +0000\n\n{name}\n"
    made = subprocess.run(["git", "hash-object", "-t", "tag", "-w", "--stdin"], cwd=work, input=body.encode(),
                          capture_output=True, check=True, env=git_env(git_home))
    return made.stdout.decode().strip()


def test_a_real_name_inside_a_nested_annotated_tag_is_refused(app, world, server, git_home, tmp_path):
    work = _clone(git_home, server, world, tmp_path)
    head = run_git(git_home, "rev-parse", "HEAD", cwd=work).stdout.strip()
    me = _identity(app, world.users["editor"])
    inner = _tag_object(work, git_home, head, "commit", "inner", "Jane Realname <jane@example.com>")
    outer = _tag_object(work, git_home, inner, "tag", "outer",
                        f"{me['GIT_AUTHOR_NAME']} <{me['GIT_AUTHOR_EMAIL']}>")
    run_git(git_home, "update-ref", "refs/tags/outer", outer, cwd=work)
    result = run_git(git_home, "push", "origin", "refs/tags/outer", cwd=work, check=False)
    assert result.returncode != 0
    assert "Jane Realname <jane@example.com>" in result.stderr
    with DeviceRepo.open(device_path(app, world.device_id)) as repo:
        assert "refs/tags/outer" not in repo.refs()


# -- finding 3: archived devices ----------------------------------------------------------------


def test_archived_device_refuses_a_push_with_the_api_status(app, world, server, git_home, tmp_path, client):
    work = _clone(git_home, server, world, tmp_path)
    (work / "configs").mkdir(exist_ok=True)
    (work / "configs" / "x").write_text("x\n")
    _commit(git_home, work, "to an archived device")
    with app.app_context():
        devices.set_archived(db.session.get(User, world.users["owner"]), world.device_id, True)
    before = _head(app, world)
    result = run_git(git_home, "push", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0 and "409" in result.stderr
    assert _head(app, world) == before
    api = client.post(f"/api/v1/devices/{world.device_id}/versions", json={"message": "m", "configs": {"a": "b"}},
                      headers=bearer(world.tokens["editor"]))
    assert api.status_code == 409 and api.get_json()["error"]["code"] == "archived"


# -- finding 7 (the door's part) ----------------------------------------------------------------


def test_commit_sequence_is_unique_per_device(app, world):
    with app.app_context(), pytest.raises(IntegrityError):
        row = db.session.scalars(select(CommitRecord).where(CommitRecord.device_id == world.device_id)).first()
        db.session.execute(insert(CommitRecord), [{
            "device_id": world.device_id, "sha": "f" * 40, "parent_sha": row.sha, "seq": row.seq,
            "created_at": row.created_at, "author_pseudonym": "", "message": "", "files_changed": 0,
            "additions": 0, "deletions": 0}])
        db.session.commit()


def _hold_lock(app, device_id: str):
    """The device's write lock, held by another thread until the returned event is set."""
    path = device_path(app, device_id)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with DeviceRepo.open(path) as repo, repo.write_lock():
            held.set()
            release.wait(60)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(10)
    return release, thread


def test_lock_timeout_is_503_with_retry_after_on_the_api_and_on_push(app, world, client, monkeypatch):
    monkeypatch.setattr(gitstore_bridge, "LOCK_TIMEOUT", 0.2, raising=False)
    release, thread = _hold_lock(app, world.device_id)
    try:
        api = client.post(f"/api/v1/devices/{world.device_id}/versions",
                          json={"message": "m", "configs": {"a": "b"}}, headers=bearer(world.tokens["editor"]))
        assert api.status_code == 503, api.get_data(as_text=True)
        assert api.get_json()["error"]["code"] == "repo_busy" and api.headers["Retry-After"].isdigit()
        basic = base64.b64encode(f"editor1:{world.tokens['editor']}".encode()).decode()
        push = client.post("/git/acme/core/sw1.git/git-receive-pack", data=b"0000",
                           headers={"Authorization": f"Basic {basic}",
                                    "Content-Type": "application/x-git-receive-pack-request"})
        assert push.status_code == 503 and push.headers["Retry-After"] == api.headers["Retry-After"]
    finally:
        release.set()
        thread.join(10)


def test_device_deletion_waits_for_the_lock(app, world, client, monkeypatch):
    monkeypatch.setattr(gitstore_bridge, "LOCK_TIMEOUT", 0.2, raising=False)
    path = device_path(app, world.device_id)
    release, thread = _hold_lock(app, world.device_id)
    try:
        response = client.delete(f"/api/v1/devices/{world.device_id}", headers=bearer(world.tokens["admin"]))
        assert response.status_code == 503
        assert path.exists()
        with app.app_context():
            assert db.session.get(Device, world.device_id) is not None
    finally:
        release.set()
        thread.join(10)
    assert client.delete(f"/api/v1/devices/{world.device_id}",
                         headers=bearer(world.tokens["admin"])).status_code == 204
    assert not path.exists()
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == world.device_id,
                                                            AuditEvent.action == "delete")).one()
        assert event.object_type == "device"


def test_device_deletion_removes_its_mirror_objects(app, config, tmp_path, monkeypatch, make_user):
    env = make_env("local", config, tmp_path, monkeypatch, None)
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    keep_id = make_device(env.app, team_id, project_id, owner, "sw2")
    env.drain()
    store = open_object_store(None, env.data_dir)
    try:
        assert list(store.list(f"mirrors/{device_id}/")), "the device was mirrored"
        with env.app.app_context():
            devices.delete_device(db.session.get(User, owner), device_id)
        env.drain()
        assert list(store.list(f"mirrors/{device_id}/")) == []
        assert list(store.list(f"mirrors/{keep_id}/")), "another device's mirror stays"
    finally:
        store.close()
