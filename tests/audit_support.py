"""Fills team `acme` (tests/githttp_support.py's world) with every kind of audit event: inventory
creates, updates and deletes, comments, a version, an import, a photo added and removed, a tag made
and deleted, and a git push. Shared by the audit page test and its browser test."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from tests.client_support import bearer
from tests.githttp_support import repo_url, run_git
from tests.photo_support import image_bytes, upload

# (action, object_type) pairs the page must show; every one is written by a real request below.
EVENT_KINDS = {
    ("create", "project"), ("update", "project"), ("delete", "project"),
    ("create", "device"), ("update", "device"), ("delete", "device"), ("push", "device"),
    ("create", "network"), ("update", "network"), ("delete", "network"),
    ("create", "task"), ("update", "task"), ("delete", "task"), ("create", "comment"),
    ("commit", "device_version"), ("import", "device_version"),
    ("create", "device_tag"), ("delete", "device_tag"),
}


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json() if response.is_json else {}


def fill_audit_log(app, client, world, server, git_home: Path, tmp_path: Path) -> set[tuple[str, str]]:
    """Makes one event of each kind through the API and git; returns the (action, type) pairs found."""
    owner = bearer(world.tokens["owner"])
    project = _ok(client.post("/api/v1/teams/acme/projects", json={"name": "Edge"}, headers=owner), 201)
    _ok(client.patch(f"/api/v1/projects/{project['id']}", json={"description": "edge sites"}, headers=owner))
    device = _ok(client.post(f"/api/v1/projects/{project['id']}/devices",
                             json={"name": "edge-1", "vendor": "cisco"}, headers=owner), 201)
    _ok(client.patch(f"/api/v1/devices/{device['id']}", json={"location": "rack 4"}, headers=owner))
    did = world.device_id
    _ok(client.post(f"/api/v1/devices/{did}/versions",
                    json={"message": "first config", "configs": {"running-config": "hostname sw1\n"}},
                    headers=owner), 201)
    _ok(client.post(f"/api/v1/devices/{did}/versions/import", json={"versions": [
        {"message": "old 1", "configs": {"running-config": "hostname sw1\nvlan 1\n"}},
        {"message": "old 2", "configs": {"running-config": "hostname sw1\nvlan 2\n"}},
    ]}, headers=owner), 201)
    photo = _ok(upload(client, did, owner, image_bytes(), caption="rack front"), 201)
    sha = photo.get("sha256") or photo["photo"]["sha256"]
    _ok(client.delete(f"/api/v1/devices/{did}/photos/{sha}", headers=owner), 200)
    _ok(client.post(f"/api/v1/devices/{did}/tags", json={"name": "before-upgrade", "rev": "HEAD"},
                    headers=owner), 201)
    _ok(client.delete(f"/api/v1/devices/{did}/tags/before-upgrade", headers=owner), 204)
    network = _ok(client.post(f"/api/v1/projects/{project['id']}/networks",
                              json={"name": "mgmt", "cidr": "10.0.0.0/24"}, headers=owner), 201)
    _ok(client.patch(f"/api/v1/networks/{network['id']}", json={"description": "oob"}, headers=owner))
    _ok(client.delete(f"/api/v1/networks/{network['id']}", headers=owner), 204)
    task = _ok(client.post(f"/api/v1/projects/{project['id']}/tasks", json={"title": "Swap PSU"},
                           headers=owner), 201)
    _ok(client.patch(f"/api/v1/tasks/{task['id']}", json={"status": "done"}, headers=owner))
    _ok(client.post(f"/api/v1/tasks/{task['id']}/comments", json={"body": "done, see photo"}, headers=owner), 201)
    _ok(client.delete(f"/api/v1/tasks/{task['id']}", headers=owner), 204)
    _ok(client.delete(f"/api/v1/devices/{device['id']}", headers=owner), 204)
    _ok(client.delete(f"/api/v1/projects/{project['id']}", headers=owner), 204)
    # A push over git smart HTTP, with refs and a tag in its changes.
    work = tmp_path / "clone"
    run_git(git_home, "clone", repo_url(server, "editor", world.tokens["editor"]), str(work))
    (work / "configs").mkdir(exist_ok=True)
    (work / "configs" / "running-config").write_text("hostname sw1\nvlan 3\n")
    run_git(git_home, "add", "-A", cwd=work)
    run_git(git_home, "commit", "-q", "-m", "pushed change", cwd=work)
    run_git(git_home, "tag", "-a", "v1", "-m", "named", cwd=work)
    run_git(git_home, "push", "origin", "main", "v1", cwd=work)
    with app.app_context():
        return {(e.action, e.object_type) for e in db.session.scalars(select(AuditEvent))}
