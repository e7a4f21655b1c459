"""The purge: nothing goes before 30 days; after them every row, repo, mirror and unshared blob does."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ApiToken,
    CommitRecord,
    DataExport,
    Device,
    Membership,
    Project,
    SecurityEvent,
    Team,
    User,
    utcnow,
)
from app.services.gitstore_bridge import repo_path
from app.services.purge import purge
from app.storage.blobs import blob_path, photo_key
from app.storage.objectstore import open_object_store
from gitstore import Changes
from tests.client_support import PASSWORD, csrf_from
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.jobs_support import add_photo, write
from tests.privacy_support import drain, post_export, wait_export
from workers import jobs as job_functions

ROOT = Path(__file__).resolve().parent.parent


def _store(app):
    config = app.config["INFRATRACE"]
    return open_object_store(config.object_store_url, config.data_dir)


def _mirror(app, device_id: str) -> None:
    with app.app_context():
        job_functions.mirror_device(device_id)


def _build(world, app, client):
    """acme (stays): sw1 with a shared photo, edited by the-editor (who leaves).
    other (goes with the outsider): their-sw with the shared photo and one of its own."""
    data_dir = app.config["INFRATRACE"].data_dir
    shared = add_photo(data_dir, b"shared rack photo", "rack.jpg")
    unique = add_photo(data_dir, b"outsider's own photo", "mine.jpg")
    sw1 = world.create_device("sw1")["id"]
    world.write(sw1, message="by the editor", configs={"running-config": "hostname sw1\n"})
    write(app, sw1, world.user_ids["editor"], "photo", Changes(photos=[shared]))
    response = client.post(f"/api/v1/projects/{world.other_project_id}/devices", json={"name": "their-sw"},
                           headers=world.headers["outsider"])
    theirs = response.get_json()["id"]
    with app.app_context():
        outsider_id = db.session.scalar(select(User.id).where(User.username == "outsider"))
    write(app, theirs, outsider_id, "photos", Changes(photos=[shared, unique]))
    # Removed from the head, but still in history: it must still count as referenced there.
    write(app, theirs, outsider_id, "drop photos", Changes(photos=[]))
    for device_id in (sw1, theirs):
        _mirror(app, device_id)
    export_id = post_export(client, world.headers["outsider"]).get_json()["id"]
    assert wait_export(client, app, export_id, world.headers["outsider"])["status"] == "done"
    for role in ("outsider", "editor"):
        response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers[role])
        assert response.status_code == 202
    return sw1, theirs, outsider_id, shared["sha256"], unique["sha256"], export_id


def _counts(app, user_ids: list[str]) -> dict[str, int]:
    columns = {"users": User.id, "memberships": Membership.user_id, "tokens": ApiToken.user_id,
               "events": SecurityEvent.user_id, "exports": DataExport.user_id, "authored": CommitRecord.author_id}
    with app.app_context():
        return {name: db.session.scalar(select(func.count()).where(column.in_(user_ids)))
                for name, column in columns.items()}


def test_purge_waits_30_days_then_removes_everything_but_shared_data(world, app, client):
    sw1, theirs, outsider_id, shared, unique, export_id = _build(world, app, client)
    editor_id = world.user_ids["editor"]
    data_dir = app.config["INFRATRACE"].data_dir
    with app.app_context():
        their_repo = repo_path(db.session.get(Device, theirs))
        sw1_repo = repo_path(db.session.get(Device, sw1))
    store = _store(app)
    try:
        assert list(store.list(f"mirrors/{theirs}/")) and store.head(photo_key(unique)) is not None
        assert list(store.list(f"exports/{outsider_id}/"))

        # Day 29: nothing is removed.
        with app.app_context():
            summary = purge(now=utcnow() + timedelta(days=29))
        assert summary.users == summary.teams == summary.repos == summary.blobs == 0
        assert summary.expired_exports == 1, "only the export, 7 days old by then, is gone"
        before = _counts(app, [outsider_id, editor_id])
        assert before["users"] == 2 and before["memberships"] == 2 and before["authored"] >= 2
        before["exports"] = 0
        assert their_repo.is_dir() and blob_path(data_dir, unique).exists()

        # Day 31: the accounts, the outsider's team and everything in it go.
        with app.app_context():
            summary = purge(now=utcnow() + timedelta(days=31))
        assert (summary.users, summary.teams, summary.devices, summary.repos) == (2, 1, 1, 1)
        assert summary.blobs == 1 and summary.shared_blobs_kept == 1 and summary.mirror_objects > 0
        assert summary.commits_anonymised >= 2
        assert _counts(app, [outsider_id, editor_id]) == dict.fromkeys(before, 0)
        with app.app_context():
            assert db.session.scalar(select(Team.id).where(Team.slug == "other")) is None
            assert db.session.get(Device, theirs) is None
            assert db.session.scalar(select(func.count(Project.id)).where(Project.id == world.other_project_id)) == 0
            assert db.session.get(DataExport, export_id) is None
            # The commit index keeps the editor's commits on sw1, without the link to a person.
            rows = list(db.session.scalars(select(CommitRecord).where(CommitRecord.device_id == sw1)))
            by_editor = [r for r in rows if r.message in ("by the editor", "photo")]
            assert len(by_editor) == 2 and all(r.author_id is None and r.author_pseudonym.startswith("user-")
                                               for r in by_editor)
        assert not their_repo.exists()
        assert not list(store.list(f"mirrors/{theirs}/"))
        assert not list(store.list(f"exports/{outsider_id}/"))
        assert not blob_path(data_dir, unique).exists() and store.head(photo_key(unique)) is None
        # Shared with acme's device, and acme's own data, stay.
        assert blob_path(data_dir, shared).exists() and store.head(photo_key(shared)) is not None
        assert sw1_repo.is_dir() and list(store.list(f"mirrors/{sw1}/"))
        history = client.get(f"/api/v1/devices/{sw1}/versions", headers=world.headers["owner"]).get_json()
        editor_commit = next(v for v in history["items"] if v["message"] == "by the editor")
        assert editor_commit["author"]["username"] is None
        assert editor_commit["author"]["display_name"].startswith("user-")

        # Twice is harmless.
        with app.app_context():
            again = purge(now=utcnow() + timedelta(days=31))
        assert again.users == again.teams == again.repos == again.blobs == again.mirror_objects == 0
        assert blob_path(data_dir, shared).exists() and sw1_repo.is_dir()
    finally:
        store.close()

    # The email and username are free again.
    signup = app.test_client()
    page = signup.get("/signup").get_data(as_text=True)
    response = signup.post("/signup", data={"email": "the-editor@example.com", "username": "the-editor",
                                            "password": "a brand new password", "age_confirmed": "y",
                                            "csrf_token": csrf_from(page)})
    assert response.status_code == 302


def test_a_team_left_without_members_is_purged_too(world, app, client):
    # The editor is alone in a second team when deleted; the team is scheduled and purged with them.
    assert client.post("/api/v1/teams", json={"name": "Lab"}, headers=world.headers["editor"]).status_code == 201
    assert client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers["editor"]).status_code == 202
    with app.app_context():
        assert db.session.scalar(select(Team.deleted_at).where(Team.slug == "lab")) is not None
        summary = purge(now=utcnow() + timedelta(days=30, seconds=1))
        assert summary.teams == 1
        assert db.session.scalar(select(Team.id).where(Team.slug == "lab")) is None
        assert db.session.scalar(select(Team.id).where(Team.slug == "acme")) is not None


def test_expired_exports_are_removed(world, app, client):
    headers = world.headers["viewer"]
    export_id = post_export(client, headers).get_json()["id"]
    assert wait_export(client, app, export_id, headers)["status"] == "done"
    with app.app_context():
        key = db.session.get(DataExport, export_id).object_key
        assert purge(now=utcnow() + timedelta(days=6)).expired_exports == 0
        assert purge(now=utcnow() + timedelta(days=7, seconds=5)).expired_exports == 1
        assert db.session.get(DataExport, export_id) is None
    store = _store(app)
    try:
        assert store.head(key) is None
    finally:
        store.close()


def test_purge_command_prints_a_summary(app, config, tmp_path):
    env = {"DATABASE_URL": config.database_url, "INFRATRACE_DATA": str(config.data_dir),
           "SECRET_KEY": config.secret_key, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "app", "purge"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Purged users: 0" in result.stdout


def test_the_scheduler_runs_the_purge_daily(world, app, client):
    from workers.schedule import PURGE_INTERVAL, tick

    assert client.delete("/api/v1/me", json={"password": PASSWORD}, headers=world.headers["viewer"]).status_code == 202
    with app.app_context():
        user = db.session.get(User, world.user_ids["viewer"])
        user.purge_after = utcnow() - timedelta(seconds=1)  # as if the 30 days were over
        db.session.commit()
    state: dict[str, float] = {}
    with app.app_context():
        tick(1000.0, state)
    drain(app)
    assert state["purge"] == 1000.0
    with app.app_context():
        assert db.session.get(User, world.user_ids["viewer"]) is None
        db.session.remove()
    # Not again within the day.
    with app.app_context():
        tick(1000.0 + PURGE_INTERVAL - 1, state)
    assert state["purge"] == 1000.0
