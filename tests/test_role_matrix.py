"""Every role x every team/member action, in the caller's own team and in another team."""

from __future__ import annotations

import pytest

from tests.client_support import bearer

ROLES = ["viewer", "editor", "admin", "owner"]

# action -> (method, path template, body, expected status per role in own team)
ACTIONS = {
    "read team": ("GET", "/api/v1/teams/{team}", None, {"viewer": 200, "editor": 200, "admin": 200, "owner": 200}),
    "list members": ("GET", "/api/v1/teams/{team}/members", None,
                     {"viewer": 200, "editor": 200, "admin": 200, "owner": 200}),
    "add member": ("POST", "/api/v1/teams/{team}/members", {"email": "target@example.com", "role": "viewer"},
                   {"viewer": 403, "editor": 403, "admin": 201, "owner": 201}),
    "invite owner": ("POST", "/api/v1/teams/{team}/members", {"email": "target@example.com", "role": "owner"},
                     {"viewer": 403, "editor": 403, "admin": 403, "owner": 201}),
    "change role": ("PATCH", "/api/v1/teams/{team}/members/member", {"role": "editor"},
                    {"viewer": 403, "editor": 403, "admin": 200, "owner": 200}),
    "promote to owner": ("PATCH", "/api/v1/teams/{team}/members/member", {"role": "owner"},
                         {"viewer": 403, "editor": 403, "admin": 403, "owner": 200}),
    "demote an owner": ("PATCH", "/api/v1/teams/{team}/members/boss", {"role": "viewer"},
                        {"viewer": 403, "editor": 403, "admin": 403, "owner": 200}),
    "remove member": ("DELETE", "/api/v1/teams/{team}/members/member", None,
                      {"viewer": 403, "editor": 403, "admin": 204, "owner": 204}),
    "remove an owner": ("DELETE", "/api/v1/teams/{team}/members/boss", None,
                        {"viewer": 403, "editor": 403, "admin": 403, "owner": 204}),
}


@pytest.fixture
def teams_setup(client, make_user, token_for):
    """Team 'own' with boss (owner), member (viewer), and the actor in each role; team 'other' apart."""
    boss, _ = make_user("boss")
    make_user("member")
    make_user("target")
    outsider, _ = make_user("outsider")
    boss_token = bearer(token_for(boss))
    client.post("/api/v1/teams", json={"name": "own"}, headers=boss_token)
    client.post("/api/v1/teams/own/members", json={"email": "member@example.com", "role": "viewer"},
                headers=boss_token)
    client.post("/api/v1/teams", json={"name": "other"}, headers=bearer(token_for(outsider)))
    client.post("/api/v1/teams/other/members", json={"email": "member@example.com", "role": "viewer"},
                headers=bearer(token_for(outsider)))
    actors = {}
    for role in ROLES:
        uid, name = make_user(f"actor-{role}")
        client.post("/api/v1/teams/own/members", json={"email": f"{name}@example.com", "role": role},
                    headers=boss_token)
        actors[role] = bearer(token_for(uid))
    return actors


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_own_team(client, teams_setup, action, role):
    method, path, body, expected = ACTIONS[action]
    response = client.open(path.format(team="own"), method=method, json=body, headers=teams_setup[role])
    assert response.status_code == expected[role], response.get_data(as_text=True)


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_other_team_is_always_404(client, teams_setup, action, role):
    method, path, body, _ = ACTIONS[action]
    response = client.open(path.format(team="other"), method=method, json=body, headers=teams_setup[role])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_permission_function_table():
    from app.services.permissions import ACTION_MIN_ROLE, role_allows

    for action, needed in ACTION_MIN_ROLE.items():
        for role in ROLES:
            assert role_allows(role, action) == (ROLES.index(role) >= ROLES.index(needed))
        assert not role_allows(None, action)
    assert not role_allows("owner", "no.such.action")
