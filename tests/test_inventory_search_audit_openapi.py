"""Team search, the audit API's access and pagination, and the OpenAPI document's completeness."""

from __future__ import annotations

import re

from tests.client_support import assert_error
from tests.inventory_support import make_device, world_fixture  # noqa: F401  (the `world` fixture)


def test_search_groups_by_type(app, world):
    project = world.project("Backbone")
    pid = project["id"]
    make_device(app, pid, name="core-sw1", serial="FOC1234X", ips=["192.0.2.10", "2001:db8::10"], with_repo=False)
    make_device(app, pid, name="edge-rt1", serial="JN99", ips=["198.51.100.1"], with_repo=False)
    world.post(f"/api/v1/projects/{pid}/networks", {"name": "office", "cidr": "192.0.2.0/24",
                                                    "vlans": [{"vid": 120, "name": "printers"}]})
    world.post(f"/api/v1/projects/{pid}/networks", {"name": "lab", "cidr": "10.9.0.0/16"})
    world.post(f"/api/v1/projects/{pid}/tasks", {"title": "Upgrade backbone firmware"})
    other = world.project("Backbone", team="other", who=world.carol)
    make_device(app, other["id"], name="core-sw9", serial="FOC1234Y", with_repo=False)

    def search(q, who=world.alice):
        response = world.client.get(f"/api/v1/teams/net/search?q={q}", headers=who)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        return {kind: [item["name"] if "name" in item else item["title"] for item in items]
                for kind, items in body["results"].items()}

    found = search("backbone")
    assert found["projects"] == ["Backbone"] and found["tasks"] == ["Upgrade backbone firmware"]
    assert search("foc1234")["devices"] == ["core-sw1"], "serial, case-insensitive, own team only"
    assert search("192.0.2.10")["devices"] == ["core-sw1"], "management IP"
    assert search("2001:db8::10")["devices"] == ["core-sw1"]
    assert search("192.0.2")["networks"] == ["office"], "CIDR"
    assert search("printers")["networks"] == ["office"], "VLAN name"
    assert search("120")["networks"] == ["office"], "VLAN id"
    assert search("lab")["networks"] == ["lab"]
    assert search("%") == {"projects": [], "devices": [], "networks": [], "tasks": []}, "LIKE wildcards are literal"
    body = world.client.get("/api/v1/teams/net/search?q=core", headers=world.alice).get_json()
    device = body["results"]["devices"][0]
    assert device["web_url"].startswith("http://localhost/devices/") and body["truncated"] == []
    assert body["results"]["projects"] == [] or body["results"]["projects"][0]["web_url"]
    assert_error(world.client.get("/api/v1/teams/net/search?q=", headers=world.alice), 422, "required")
    assert_error(world.client.get("/api/v1/teams/net/search?q=" + "x" * 101, headers=world.alice), 422, "too_long")
    assert_error(world.client.get("/api/v1/teams/net/search?q=core", headers=world.carol), 404)
    assert_error(world.client.get("/api/v1/teams/net/search?q=core"), 401)


def test_search_truncates_per_type(world):
    for i in range(4):
        world.project(f"Site {i}")
    body = world.client.get("/api/v1/teams/net/search?q=site&limit=3", headers=world.alice).get_json()
    assert len(body["results"]["projects"]) == 3 and body["truncated"] == ["projects"]


def test_audit_is_for_admins_and_owners(world, client, make_user, token_for):
    from tests.client_support import bearer

    world.project("Core")
    uid, _ = make_user("vic")
    world.client.post("/api/v1/teams/net/members", json={"email": "vic@example.com", "role": "admin"},
                      headers=world.alice)
    assert world.client.get("/api/v1/teams/net/audit", headers=bearer(token_for(uid))).status_code == 200
    assert_error(world.client.get("/api/v1/teams/net/audit", headers=world.bob), 403)
    assert_error(world.client.get("/api/v1/teams/net/audit", headers=world.carol), 404)
    assert_error(world.client.get("/api/v1/teams/net/audit"), 401)
    assert_error(world.client.get("/api/v1/teams/net/audit?object_type=No%20Such", headers=world.alice), 422)
    assert_error(world.client.get("/api/v1/teams/net/audit?object_id=" + "x" * 65, headers=world.alice), 422)
    tag_events = world.client.get("/api/v1/teams/net/audit?object_type=tag", headers=world.alice).get_json()
    assert tag_events == {"items": [], "next_cursor": None, "web_url": "http://localhost/teams/net/audit"}


def test_audit_pagination_and_request_id(world):
    project = world.project("Core")
    for i in range(6):
        world.client.patch(f"/api/v1/projects/{project['id']}", json={"description": f"v{i}"}, headers=world.alice,
                           environ_base={"HTTP_X_REQUEST_ID": f"req-{i}"})
    seen, cursor = [], None
    while True:
        page = world.client.get("/api/v1/teams/net/audit?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                                headers=world.alice).get_json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 and len({e["id"] for e in seen}) == 7
    assert [e["request_id"] for e in seen[:6]] == [f"req-{i}" for i in reversed(range(6))]


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_openapi_lists_every_route_with_its_methods(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200, "the document is public"
    document = response.get_json()
    documented: dict[str, set[str]] = {}
    for path, operations in document["paths"].items():
        documented.setdefault(_normalise(path), set()).update(m.upper() for m in operations)
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = _normalise(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method not in documented.get(path, set()):
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"routes missing from openapi.json: {missing}"


def test_openapi_covers_the_whole_contract_and_validates(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    paths = {_normalise(p): set(ops) for p, ops in document["paths"].items()}
    # Routes of the contract that other parts of the service provide.
    for method, path in [
        ("post", "/api/v1/projects/{}/devices"), ("delete", "/api/v1/devices/{}"),
        ("post", "/api/v1/devices/{}/versions"), ("get", "/api/v1/devices/{}/versions/{}/files/{}"),
        ("get", "/api/v1/devices/{}/diff"), ("post", "/api/v1/devices/{}/photos"),
        ("get", "/api/v1/devices/{}/tags"), ("post", "/api/v1/export"), ("get", "/api/v1/export/{}"),
        ("delete", "/api/v1/me"), ("get", "/api/v1/teams/{}/search"), ("get", "/api/v1/me/tasks"),
    ]:
        assert method in paths.get(path, set()), f"{method.upper()} {path}"
