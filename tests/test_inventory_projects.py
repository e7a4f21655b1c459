"""Projects over the API: create, read, list, update, delete (409 with devices, cascade), audit."""

from __future__ import annotations

import pytest

from tests.client_support import assert_error
from tests.inventory_support import make_device, world_fixture  # noqa: F401  (the `world` fixture)


def test_create_get_update_delete(world):
    body = {"name": "Core Network", "description": "DC core", "status": "planning", "metadata": {"site": "par1"}}
    response = world.post("/api/v1/teams/net/projects", body)
    assert response.status_code == 201
    project = response.get_json()
    assert project["slug"] == "core-network" and project["status"] == "planning"
    assert project["metadata"] == {"site": "par1"} and isinstance(project["id"], str)
    assert project["web_url"] == f"http://localhost/projects/{project['id']}"
    assert project["created_by"] == "alice" and project["created_at"].endswith("Z")
    got = world.client.get(f"/api/v1/projects/{project['id']}", headers=world.alice).get_json()
    assert got == project
    patched = world.client.patch(f"/api/v1/projects/{project['id']}",
                                 json={"status": "active", "name": "Core"}, headers=world.bob)
    assert patched.status_code == 200
    assert patched.get_json()["status"] == "active" and patched.get_json()["name"] == "Core"
    assert patched.get_json()["slug"] == "core-network", "a rename keeps the slug (clone URLs use it)"
    assert patched.get_json()["updated_by"] == "bob"
    assert world.client.delete(f"/api/v1/projects/{project['id']}", headers=world.alice).status_code == 204
    assert_error(world.client.get(f"/api/v1/projects/{project['id']}", headers=world.alice), 404)


def test_slug_unique_per_team(world):
    first = world.project("Core")
    second = world.project("Core")
    assert first["slug"] == "core" and second["slug"] == "core-2"
    other = world.project("Core", team="other", who=world.carol)
    assert other["slug"] == "core"
    error = assert_error(world.client.patch(f"/api/v1/projects/{second['id']}", json={"slug": "core"},
                                            headers=world.alice), 409)
    assert error["field"] == "slug"
    error = assert_error(world.post("/api/v1/teams/net/projects", {"name": "x", "slug": "Bad Slug"}), 422)
    assert error["field"] == "slug"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "x", "colour": "red"}, "colour", "unknown_field"),
        ({}, "name", "required"),
        ({"name": "   "}, "name", "required"),
        ({"name": "x" * 101}, "name", "too_long"),
        ({"name": 5}, "name", "wrong_type"),
        ({"name": "x", "description": "d" * 10_001}, "description", "too_long"),
        ({"name": "x", "status": "paused"}, "status", "invalid_choice"),
        ({"name": "x", "metadata": ["a"]}, "metadata", "wrong_type"),
        ({"name": "x", "metadata": {"k" * 101: 1}}, "metadata", "too_long"),
        ({"name": "x", "metadata": {"big": "v" * 20_000}}, "metadata", "too_long"),
    ],
)
def test_create_validation(world, body, field, code):
    error = assert_error(world.post("/api/v1/teams/net/projects", body), 422, code)
    assert error["field"] == field


def test_patch_validation(world):
    project = world.project()
    url = f"/api/v1/projects/{project['id']}"
    assert_error(world.client.patch(url, json={"team_id": "x"}, headers=world.alice), 422, "unknown_field")
    assert_error(world.client.patch(url, json={"status": "nope"}, headers=world.alice), 422, "invalid_choice")
    assert_error(world.client.patch(url, json={"name": ""}, headers=world.alice), 422, "required")
    assert_error(world.client.patch(url, data="{bad", content_type="application/json", headers=world.alice), 400)
    assert_error(world.client.patch(url, json=[1], headers=world.alice), 400)


def test_unauthenticated_and_other_team(world):
    project = world.project()
    assert_error(world.client.get("/api/v1/teams/net/projects"), 401)
    assert_error(world.client.get(f"/api/v1/projects/{project['id']}"), 401)
    assert_error(world.client.post("/api/v1/teams/net/projects", json={"name": "x"}), 401)
    assert_error(world.client.get("/api/v1/teams/net/projects", headers=world.carol), 404)
    assert_error(world.client.post("/api/v1/teams/net/projects", json={"name": "x"}, headers=world.carol), 404)
    for method in ("GET", "PATCH", "DELETE"):
        assert_error(world.client.open(f"/api/v1/projects/{project['id']}", method=method,
                                       json={"name": "y"} if method == "PATCH" else None,
                                       headers=world.carol), 404, "not_found")
    assert_error(world.client.get("/api/v1/projects/" + "x" * 500, headers=world.alice), 404)


def test_pagination_has_no_gaps_or_duplicates(world):
    names = [f"P{i:02d}" for i in range(23)]
    for name in names:
        world.project(name)
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/teams/net/projects?limit=5" + (f"&cursor={cursor}" if cursor else "")
        page = world.client.get(url, headers=world.alice).get_json()
        seen += [p["name"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == names and pages == 5
    assert_error(world.client.get("/api/v1/teams/net/projects?cursor=garbage", headers=world.alice), 422)
    assert_error(world.client.get("/api/v1/teams/net/projects?limit=0", headers=world.alice), 422)


def test_delete_with_devices_is_409_unless_cascade(app, world):
    project = world.project()
    network = world.post(f"/api/v1/projects/{project['id']}/networks", {"name": "mgmt", "cidr": "10.0.0.0/24"})
    assert network.status_code == 201
    device_id, path = make_device(app, project["id"])
    assert path.exists()
    error = assert_error(world.client.delete(f"/api/v1/projects/{project['id']}", headers=world.alice), 409,
                         "has_devices")
    assert "cascade" in error["message"]
    assert world.client.get(f"/api/v1/projects/{project['id']}", headers=world.alice).status_code == 200
    assert path.exists()
    assert_error(world.client.delete(f"/api/v1/projects/{project['id']}?cascade=maybe", headers=world.alice), 422)
    assert world.client.delete(f"/api/v1/projects/{project['id']}?cascade=true",
                               headers=world.alice).status_code == 204
    assert not path.exists(), "the cascade removes the device's repository"
    assert_error(world.client.get(f"/api/v1/networks/{network.get_json()['id']}", headers=world.alice), 404)
    from app.extensions import db
    from app.models import Device

    with app.app_context():
        assert db.session.get(Device, device_id) is None
    events = world.client.get("/api/v1/teams/net/audit?object_type=device", headers=world.alice).get_json()
    assert [(e["action"], e["object_id"]) for e in events["items"]] == [("delete", device_id)]


def test_every_change_is_audited(world):
    project = world.project("Core")
    world.client.patch(f"/api/v1/projects/{project['id']}", json={"status": "done"}, headers=world.bob)
    world.client.patch(f"/api/v1/projects/{project['id']}", json={"status": "done"}, headers=world.bob)
    world.client.delete(f"/api/v1/projects/{project['id']}", headers=world.alice,
                        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    url = f"/api/v1/teams/net/audit?object_type=project&object_id={project['id']}"
    events = world.client.get(url, headers=world.alice).get_json()["items"]
    assert [e["action"] for e in events] == ["delete", "update", "create"], "newest first; a no-op writes nothing"
    delete, update, create = events
    assert update["actor"] == "bob" and update["changes"] == {"status": {"from": "active", "to": "done"}}
    assert create["changes"]["name"] == {"from": None, "to": "Core"}
    assert delete["changes"]["name"] == {"from": "Core", "to": None} and delete["ip"] == "192.0.2.7"
    assert all(e["request_id"] for e in events)
