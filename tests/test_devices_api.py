"""Devices over the API: create (with its bare repo), read, list, edit (new device.json), archive, delete."""

from __future__ import annotations

import json
import subprocess

import pytest

from app.extensions import db
from app.models import AuditEvent, Device
from app.services import plans
from tests.client_support import assert_error
from tests.device_support import ROLES, world_fixture  # noqa: F401  (fixture)


def _repo_dir(app, device_id: str):
    with app.app_context():
        device = db.session.get(Device, device_id)
        return app.config["INFRATRACE"].repos_dir / device.repo_path


def _git(repo, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


def test_create_device_makes_a_valid_bare_repo(world, app, client):
    body = world.create_device("Core SW 1", vendor="Cisco", model="C9300", serial="FOC123",
                               management_ip="10.0.0.1", location="DC1 R4", status="active",
                               custom_fields={"rack_u": 12})
    assert body["slug"] == "core-sw-1"
    assert body["clone_url"] == "http://localhost/git/acme/core/core-sw-1.git"
    assert body["web_url"] == f"http://localhost/devices/{body['id']}"
    assert body["management_ip"] == "10.0.0.1" and body["management_ips"] == ["10.0.0.1"]
    assert body["version_count"] == 1 and len(body["head_commit"]) == 40 and body["last_changed_at"]
    for key in ("mirrored_head", "mirrored_at", "mirror_error"):
        assert key in body
    repo = _repo_dir(app, body["id"])
    hexed = body["id"]
    assert repo.parent.name == hexed[2:4] and repo.parent.parent.name == hexed[0:2]
    assert repo.name.endswith(".git") and "core" not in str(repo.relative_to(repo.parent.parent.parent))
    assert _git(repo, "rev-parse", "--is-bare-repository").strip() == "true"
    subprocess.run(["git", "--git-dir", str(repo), "fsck", "--strict"], check=True, capture_output=True)
    assert _git(repo, "ls-tree", "--name-only", "main").split() == ["device.json"]
    snapshot = json.loads(_git(repo, "show", "main:device.json"))
    assert snapshot == {"name": "Core SW 1", "vendor": "Cisco", "model": "C9300", "serial": "FOC123",
                        "management_ips": ["10.0.0.1"], "location": "DC1 R4", "status": "active",
                        "custom_fields": {"rack_u": 12}}
    assert _git(repo, "rev-parse", "main").strip() == body["head_commit"]
    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(object_id=body["id"]).all()
        assert [(e.action, e.object_type) for e in events] == [("create", "device")]


def test_get_list_and_pagination(world, client):
    ids = {world.create_device(f"sw-{i:02d}")["id"] for i in range(7)}
    seen: list[str] = []
    url = f"/api/v1/projects/{world.project_id}/devices?limit=3"
    cursor = None
    while True:
        page = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=world.headers["viewer"]).get_json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 and set(seen) == ids
    one = next(iter(ids))
    got = client.get(f"/api/v1/devices/{one}", headers=world.headers["viewer"])
    assert got.status_code == 200 and got.get_json()["id"] == one


def test_slug_uniqueness_and_explicit_slug(world, client):
    assert world.create_device("edge")["slug"] == "edge"
    assert world.create_device("Edge")["slug"] == "edge-2"
    assert world.create_device("x", slug="custom-one")["slug"] == "custom-one"
    response = client.post(f"/api/v1/projects/{world.project_id}/devices", json={"name": "y", "slug": "edge"},
                           headers=world.headers["editor"])
    assert_error(response, 409, "slug_taken")
    assert_error(client.post(f"/api/v1/projects/{world.project_id}/devices",
                             json={"name": "y", "slug": "Bad Slug"}, headers=world.headers["editor"]), 422)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a", "vendor": "v" * 101}, "vendor"),
        ({"name": "a", "location": "l" * 201}, "location"),
        ({"name": "a", "status": "broken"}, "status"),
        ({"name": "a", "management_ip": "10.0.0.300"}, "management_ip"),
        ({"name": "a", "management_ip": 5}, "management_ip"),
        ({"name": "a", "management_ips": ["10.0.0.1", "fe80::zz"]}, "management_ips[1]"),
        ({"name": "a", "management_ips": "10.0.0.1"}, "management_ips"),
        ({"name": "a", "custom_fields": []}, "custom_fields"),
        ({"name": "a", "custom_fields": {"k": {"nested": 1}}}, "custom_fields.k"),
        ({"name": "a", "color": "red"}, "color"),
        ({"name": 7}, "name"),
    ],
)
def test_create_validation(world, client, body, field):
    response = client.post(f"/api/v1/projects/{world.project_id}/devices", json=body, headers=world.headers["editor"])
    error = assert_error(response, 422)
    assert error["field"] == field


def test_ipv6_and_ip_list(world):
    body = world.create_device("v6", management_ips=["2001:DB8::0:1", "192.0.2.1"], management_ip="192.0.2.9")
    assert body["management_ips"] == ["192.0.2.9", "2001:db8::1", "192.0.2.1"]
    assert body["management_ip"] == "192.0.2.9"


def test_malformed_body(world, client):
    response = client.post(f"/api/v1/projects/{world.project_id}/devices", data="{nope",
                           content_type="application/json", headers=world.headers["editor"])
    assert_error(response, 400)


def test_plan_limit(world, app, client, monkeypatch):
    # Limits apply only when billing is on (with no Stripe key every team is unlimited).
    monkeypatch.setitem(app.config, "INFRATRACE", app.config["INFRATRACE"].with_changes(stripe_secret_key="sk_test"))
    monkeypatch.setitem(plans.PLAN_LIMITS, "free", {"devices": 1, "members": None})
    world.create_device("one")
    response = client.post(f"/api/v1/projects/{world.project_id}/devices", json={"name": "two"},
                           headers=world.headers["editor"])
    assert_error(response, 402, "plan_limit")


def test_failed_sql_commit_leaves_no_repo(world, app, client, monkeypatch):
    from app.services import devices as devices_service

    def boom(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(devices_service.audit, "record", boom)
    repos = app.config["INFRATRACE"].repos_dir
    before = sorted(p for p in repos.rglob("*.git"))
    with pytest.raises(RuntimeError):
        client.post(f"/api/v1/projects/{world.project_id}/devices", json={"name": "ghost"},
                    headers=world.headers["editor"])
    assert sorted(p for p in repos.rglob("*.git")) == before
    with app.app_context():
        assert db.session.query(Device).count() == 0


def test_patch_commits_new_device_json(world, app, client):
    device = world.create_device("sw", vendor="Cisco")
    response = client.patch(f"/api/v1/devices/{device['id']}", json={"vendor": "Arista", "management_ip": "10.1.1.1"},
                            headers=world.headers["editor"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["vendor"] == "Arista" and body["management_ips"] == ["10.1.1.1"]
    assert body["version_count"] == 2 and body["head_commit"] != device["head_commit"]
    repo = _repo_dir(app, device["id"])
    assert _git(repo, "log", "-1", "--format=%s", "main").strip() == "Update device metadata"
    assert json.loads(_git(repo, "show", "main:device.json"))["vendor"] == "Arista"
    # A PATCH that changes nothing makes no commit.
    same = client.patch(f"/api/v1/devices/{device['id']}", json={"vendor": "Arista"}, headers=world.headers["editor"])
    assert same.get_json()["version_count"] == 2
    assert_error(client.patch(f"/api/v1/devices/{device['id']}", json={"serial": ["x"]},
                              headers=world.headers["editor"]), 422)
    assert_error(client.patch(f"/api/v1/devices/{device['id']}", json={"id": "x"},
                              headers=world.headers["editor"]), 422, "unknown_field")
    with app.app_context():
        updates = db.session.query(AuditEvent).filter_by(object_id=device["id"], action="update").all()
        assert len(updates) == 1 and updates[0].changes["vendor"] == {"from": "Cisco", "to": "Arista"}


def test_archive_makes_history_read_only(world, client):
    device = world.create_device("old")
    dev_url = f"/api/v1/devices/{device['id']}"
    response = client.patch(dev_url, json={"status": "decommissioned", "archived": True},
                            headers=world.headers["editor"])
    assert response.status_code == 200 and response.get_json()["archived"] is True
    assert_error(world.write(device["id"], expect=None, configs={"a": "b"}), 409, "archived")
    assert_error(client.patch(dev_url, json={"vendor": "x"}, headers=world.headers["editor"]), 409, "archived")
    assert_error(client.post(f"{dev_url}/tags", json={"name": "v1"}, headers=world.headers["editor"]), 409, "archived")
    # History stays readable.
    assert client.get(f"{dev_url}/versions", headers=world.headers["viewer"]).status_code == 200
    assert client.post(f"{dev_url}/unarchive", headers=world.headers["editor"]).get_json()["archived"] is False
    world.write(device["id"], configs={"a": "b"})
    assert client.post(f"{dev_url}/archive", headers=world.headers["editor"]).get_json()["archived"] is True


def test_delete_removes_row_and_repo(world, app, client):
    device = world.create_device("gone")
    repo = _repo_dir(app, device["id"])
    assert repo.exists()
    assert_error(client.delete(f"/api/v1/devices/{device['id']}", headers=world.headers["editor"]), 403)
    assert client.delete(f"/api/v1/devices/{device['id']}", headers=world.headers["admin"]).status_code == 204
    assert not repo.exists()
    assert_error(client.get(f"/api/v1/devices/{device['id']}", headers=world.headers["admin"]), 404)
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(object_id=device["id"], action="delete").count() == 1


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_device_role_matrix(world, client, role):
    device = world.create_device("m")
    dev = f"/api/v1/devices/{device['id']}"
    project = f"/api/v1/projects/{world.project_id}/devices"
    expected = {
        "viewer": (200, 200, 403, 403, 403),
        "editor": (200, 200, 201, 200, 403),
        "admin": (200, 200, 201, 200, 204),
        "owner": (200, 200, 201, 200, 204),
        "outsider": (404, 404, 404, 404, 404),
    }[role]
    headers = world.headers[role]
    got = (
        client.get(dev, headers=headers).status_code,
        client.get(project, headers=headers).status_code,
        client.post(project, json={"name": f"new-{role}"}, headers=headers).status_code,
        client.patch(dev, json={"location": role}, headers=headers).status_code,
        client.delete(dev, headers=headers).status_code,
    )
    assert got == expected


def test_other_team_project_is_404(world, client):
    response = client.post(f"/api/v1/projects/{world.other_project_id}/devices", json={"name": "x"},
                           headers=world.headers["owner"])
    assert_error(response, 404)


def test_unauthenticated_is_401(world, client):
    assert_error(client.get(f"/api/v1/projects/{world.project_id}/devices"), 401)
