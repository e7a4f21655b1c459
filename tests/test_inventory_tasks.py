"""Tasks and comments over the API: validation, filters, my tasks, pagination, audit."""

from __future__ import annotations

import pytest

from tests.client_support import assert_error
from tests.inventory_support import make_device, world_fixture  # noqa: F401  (the `world` fixture)


@pytest.fixture
def project(world):
    return world.project()


def test_task_lifecycle(app, world, project):
    device_id, _ = make_device(app, project["id"], with_repo=False)
    body = {"title": "Replace PSU", "description": "PSU 2 failed", "status": "todo", "assignee": "bob",
            "due_date": "2030-02-28", "device_id": device_id}
    response = world.post(f"/api/v1/projects/{project['id']}/tasks", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    task = response.get_json()
    assert task["assignee"] == "bob" and task["due_date"] == "2030-02-28" and task["device_id"] == device_id
    assert task["web_url"] == f"http://localhost/tasks/{task['id']}" and task["status"] == "todo"
    url = f"/api/v1/tasks/{task['id']}"
    assert world.client.get(url, headers=world.bob).get_json() == task
    patched = world.client.patch(url, json={"status": "in_progress", "assignee": None, "due_date": None,
                                            "device_id": None}, headers=world.bob).get_json()
    assert patched["status"] == "in_progress" and patched["assignee"] is None
    assert patched["due_date"] is None and patched["device_id"] is None
    comment = world.post(f"{url}/comments", {"body": "Ordered the part."}, world.bob)
    assert comment.status_code == 201
    assert comment.get_json()["author"] == "bob" and comment.get_json()["created_at"].endswith("Z")
    comments = world.client.get(f"{url}/comments", headers=world.alice).get_json()
    assert [c["body"] for c in comments["items"]] == ["Ordered the part."]
    assert world.client.delete(url, headers=world.alice).status_code == 204
    assert_error(world.client.get(url, headers=world.alice), 404)
    assert_error(world.client.get(f"{url}/comments", headers=world.alice), 404)
    events = world.client.get(f"/api/v1/teams/net/audit?object_id={task['id']}", headers=world.alice).get_json()
    assert [e["action"] for e in events["items"]] == ["delete", "update", "create"]
    assert events["items"][1]["changes"]["assignee"] == {"from": "bob", "to": None}
    assert events["items"][1]["changes"]["due_date"] == {"from": "2030-02-28", "to": None}
    comment_events = world.client.get("/api/v1/teams/net/audit?object_type=comment",
                                       headers=world.alice).get_json()["items"]
    assert len(comment_events) == 1 and comment_events[0]["actor"] == "bob"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "title", "required"),
        ({"title": "t" * 201}, "title", "too_long"),
        ({"title": "t", "priority": 1}, "priority", "unknown_field"),
        ({"title": "t", "status": "doing"}, "status", "invalid_choice"),
        ({"title": "t", "assignee": "carol"}, "assignee", "not_a_member"),
        ({"title": "t", "assignee": "nobody"}, "assignee", "not_a_member"),
        ({"title": "t", "assignee": 7}, "assignee", "invalid"),
        ({"title": "t", "due_date": "28/02/2030"}, "due_date", "invalid"),
        ({"title": "t", "due_date": "2030-02-30"}, "due_date", "invalid"),
        ({"title": "t", "due_date": 20300101}, "due_date", "invalid"),
        ({"title": "t", "device_id": "nope"}, "device_id", "invalid"),
        ({"title": "t", "description": "d" * 20_001}, "description", "too_long"),
    ],
)
def test_create_validation(world, project, body, field, code):
    error = assert_error(world.post(f"/api/v1/projects/{project['id']}/tasks", body), 422, code)
    assert error["field"] == field


def test_device_must_be_in_the_same_project(app, world, project):
    other_project = world.project("Edge")
    device_id, _ = make_device(app, other_project["id"], with_repo=False)
    carol_project = world.project("Theirs", team="other", who=world.carol)
    carol_device, _ = make_device(app, carol_project["id"], name="x", with_repo=False)
    for value in (device_id, carol_device):
        error = assert_error(world.post(f"/api/v1/projects/{project['id']}/tasks", {"title": "t", "device_id": value}),
                             422)
        assert error["field"] == "device_id"


def test_comment_validation(world, project):
    task = world.post(f"/api/v1/projects/{project['id']}/tasks", {"title": "t"}).get_json()
    url = f"/api/v1/tasks/{task['id']}/comments"
    assert_error(world.post(url, {}), 422, "required")
    assert_error(world.post(url, {"body": "  "}), 422, "required")
    assert_error(world.post(url, {"body": "x", "author": "eve"}), 422, "unknown_field")
    assert_error(world.post(url, {"body": "x" * 20_001}), 422, "too_long")
    assert_error(world.post(url, {"body": "x"}, world.carol), 404)
    assert_error(world.client.get(url, headers=world.carol), 404)
    assert_error(world.client.get(url), 401)


def test_filters_and_my_tasks(world, project):
    base = f"/api/v1/projects/{project['id']}/tasks"
    world.post(base, {"title": "a", "assignee": "bob", "status": "todo"})
    world.post(base, {"title": "b", "assignee": "bob", "status": "done"})
    world.post(base, {"title": "c", "assignee": "alice", "status": "todo"})
    world.post(base, {"title": "d", "status": "blocked"})
    carol_project = world.project("Theirs", team="other", who=world.carol)
    world.client.post("/api/v1/teams/other/members", json={"email": "bob@example.com", "role": "viewer"},
                      headers=world.carol)
    world.post(f"/api/v1/projects/{carol_project['id']}/tasks", {"title": "e", "assignee": "bob"}, world.carol)

    def titles(url, who=world.alice):
        response = world.client.get(url, headers=who)
        assert response.status_code == 200, response.get_data(as_text=True)
        return sorted(t["title"] for t in response.get_json()["items"])

    assert titles(base) == ["a", "b", "c", "d"]
    assert titles(base + "?status=todo") == ["a", "c"]
    assert titles(base + "?assignee=bob") == ["a", "b"]
    assert titles(base + "?assignee=BOB&status=done") == ["b"]
    assert titles(base + "?assignee=nobody") == []
    assert_error(world.client.get(base + "?status=later", headers=world.alice), 422, "invalid_choice")
    assert titles("/api/v1/me/tasks", world.bob) == ["a", "b", "e"], "my tasks span teams"
    assert titles("/api/v1/me/tasks?status=done", world.bob) == ["b"]
    # Leaving a team hides its tasks from "my tasks".
    world.client.delete("/api/v1/teams/other/members/bob", headers=world.carol)
    assert titles("/api/v1/me/tasks", world.bob) == ["a", "b"]
    assert_error(world.client.get("/api/v1/me/tasks"), 401)


def test_pagination_and_other_team(world, project):
    base = f"/api/v1/projects/{project['id']}/tasks"
    ids = [world.post(base, {"title": f"t{i}"}).get_json()["id"] for i in range(11)]
    seen, cursor = [], None
    while True:
        page = world.client.get(base + "?limit=4" + (f"&cursor={cursor}" if cursor else ""),
                                headers=world.alice).get_json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen)) == 11
    assert_error(world.client.get(base, headers=world.carol), 404)
    assert_error(world.client.get(base), 401)
    for method in ("GET", "PATCH", "DELETE"):
        assert_error(world.client.open(f"/api/v1/tasks/{ids[0]}", method=method, headers=world.carol,
                                       json={"title": "x"} if method == "PATCH" else None), 404)
    comments = f"/api/v1/tasks/{ids[0]}/comments"
    posted = [world.post(comments, {"body": f"c{i}"}).get_json()["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        page = world.client.get(comments + "?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                                headers=world.alice).get_json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(posted) and len(seen) == 5
