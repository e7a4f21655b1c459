"""Every role x every inventory action, in the caller's own team and in another team (always 404)."""

from __future__ import annotations

import pytest

from tests.client_support import bearer

ROLES = ["viewer", "editor", "admin", "owner"]
READ = {"viewer": 200, "editor": 200, "admin": 200, "owner": 200}


def write(status: int) -> dict[str, int]:
    return {"viewer": 403, "editor": status, "admin": status, "owner": status}


def delete() -> dict[str, int]:
    return {"viewer": 403, "editor": 403, "admin": 204, "owner": 204}


# action -> (method, path template, body, expected status per role in own team)
ACTIONS = {
    "list projects": ("GET", "/api/v1/teams/{team}/projects", None, READ),
    "create project": ("POST", "/api/v1/teams/{team}/projects", {"name": "New"}, write(201)),
    "read project": ("GET", "/api/v1/projects/{project}", None, READ),
    "update project": ("PATCH", "/api/v1/projects/{project}", {"status": "done"}, write(200)),
    "delete project": ("DELETE", "/api/v1/projects/{project}", None, delete()),
    "list networks": ("GET", "/api/v1/projects/{project}/networks", None, READ),
    "create network": ("POST", "/api/v1/projects/{project}/networks", {"name": "n", "cidr": "10.1.0.0/16"},
                       write(201)),
    "read network": ("GET", "/api/v1/networks/{network}", None, READ),
    "update network": ("PATCH", "/api/v1/networks/{network}", {"vlans": [{"vid": 7}]}, write(200)),
    "delete network": ("DELETE", "/api/v1/networks/{network}", None, delete()),
    "list tasks": ("GET", "/api/v1/projects/{project}/tasks", None, READ),
    "create task": ("POST", "/api/v1/projects/{project}/tasks", {"title": "t"}, write(201)),
    "read task": ("GET", "/api/v1/tasks/{task}", None, READ),
    "update task": ("PATCH", "/api/v1/tasks/{task}", {"status": "done"}, write(200)),
    "delete task": ("DELETE", "/api/v1/tasks/{task}", None, delete()),
    "list comments": ("GET", "/api/v1/tasks/{task}/comments", None, READ),
    "add comment": ("POST", "/api/v1/tasks/{task}/comments", {"body": "hi"}, write(201)),
    "search": ("GET", "/api/v1/teams/{team}/search?q=a", None, READ),
    "read audit": ("GET", "/api/v1/teams/{team}/audit", None,
                   {"viewer": 403, "editor": 403, "admin": 200, "owner": 200}),
}


def _objects(client, token: dict[str, str], team: str) -> dict[str, str]:
    project = client.post(f"/api/v1/teams/{team}/projects", json={"name": "Core"}, headers=token).get_json()
    network = client.post(f"/api/v1/projects/{project['id']}/networks", json={"name": "n", "cidr": "10.0.0.0/8"},
                          headers=token).get_json()
    task = client.post(f"/api/v1/projects/{project['id']}/tasks", json={"title": "t"}, headers=token).get_json()
    return {"team": team, "project": project["id"], "network": network["id"], "task": task["id"]}


@pytest.fixture
def matrix(client, make_user, token_for):
    """Team 'own' (boss owner, the actor in each role) and team 'other' with the same objects."""
    boss, _ = make_user("boss")
    outsider, _ = make_user("outsider")
    boss_token, outsider_token = bearer(token_for(boss)), bearer(token_for(outsider))
    client.post("/api/v1/teams", json={"name": "own"}, headers=boss_token)
    client.post("/api/v1/teams", json={"name": "other"}, headers=outsider_token)
    actors = {}
    for role in ROLES:
        uid, name = make_user(f"actor-{role}")
        client.post("/api/v1/teams/own/members", json={"email": f"{name}@example.com", "role": role},
                    headers=boss_token)
        actors[role] = bearer(token_for(uid))
    return actors, _objects(client, boss_token, "own"), _objects(client, outsider_token, "other")


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_own_team(client, matrix, action, role):
    actors, own, _ = matrix
    method, path, body, expected = ACTIONS[action]
    response = client.open(path.format(**own), method=method, json=body, headers=actors[role])
    assert response.status_code == expected[role], response.get_data(as_text=True)


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_other_team_is_always_404(client, matrix, action, role):
    actors, _, other = matrix
    method, path, body, _ = ACTIONS[action]
    response = client.open(path.format(**other), method=method, json=body, headers=actors[role])
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("action", list(ACTIONS))
def test_unauthenticated_is_401(client, matrix, action):
    _, own, _ = matrix
    method, path, body, _ = ACTIONS[action]
    response = client.open(path.format(**own), method=method, json=body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_read_only_token_cannot_write(client, matrix, make_user, token_for):
    _, own, _ = matrix
    read_only = bearer(token_for(make_user("reader")[0], ("read",)))
    for action, (method, path, body, _) in ACTIONS.items():
        if method != "GET":
            response = client.open(path.format(**own), method=method, json=body, headers=read_only)
            assert response.status_code == 403, action


def test_every_inventory_permission_is_in_the_matrix():
    from app.services.permissions import ACTION_MIN_ROLE

    assert ACTION_MIN_ROLE["inventory.read"] == "viewer"
    assert ACTION_MIN_ROLE["inventory.write"] == "editor"
    assert ACTION_MIN_ROLE["inventory.delete"] == "admin"
    assert ACTION_MIN_ROLE["team.audit"] == "admin"
