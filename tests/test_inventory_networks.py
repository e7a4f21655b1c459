"""Networks and VLANs over the API, and safe Markdown documentation."""

from __future__ import annotations

import pytest

from tests.client_support import assert_error
from tests.inventory_support import world_fixture  # noqa: F401  (the `world` fixture)


@pytest.fixture
def project(world):
    return world.project()


def test_network_lifecycle(world, project):
    body = {"name": "mgmt", "cidr": "10.10.0.0/16", "description": "management",
            "documentation": "# Mgmt\nSee *the* plan.", "topology_notes": "star",
            "vlans": [{"vid": 20, "name": "users", "description": "office"}, {"vid": 10, "name": "mgmt"}]}
    response = world.post(f"/api/v1/projects/{project['id']}/networks", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    network = response.get_json()
    assert network["cidr"] == "10.10.0.0/16" and network["family"] == 4
    assert [v["vid"] for v in network["vlans"]] == [10, 20]
    assert network["web_url"] == f"http://localhost/networks/{network['id']}"
    assert "<h1>Mgmt</h1>" in network["documentation_html"]
    url = f"/api/v1/networks/{network['id']}"
    assert world.client.get(url, headers=world.alice).get_json() == network
    kept_id = next(v["id"] for v in network["vlans"] if v["vid"] == 20)
    patched = world.client.patch(url, json={"cidr": "2001:db8::/48", "vlans": [{"vid": 20, "name": "staff"},
                                                                              {"vid": 30}]},
                                 headers=world.bob).get_json()
    assert patched["cidr"] == "2001:db8::/48" and patched["family"] == 6
    assert [(v["vid"], v["name"]) for v in patched["vlans"]] == [(20, "staff"), (30, "")]
    assert next(v["id"] for v in patched["vlans"] if v["vid"] == 20) == kept_id
    assert patched["description"] == "management", "PATCH leaves absent fields alone"
    same = world.client.patch(url, json={"name": "mgmt2"}, headers=world.bob).get_json()
    assert len(same["vlans"]) == 2, "PATCH without vlans keeps them"
    listed = world.client.get(f"/api/v1/projects/{project['id']}/networks", headers=world.alice).get_json()
    assert [n["id"] for n in listed["items"]] == [network["id"]] and listed["next_cursor"] is None
    assert world.client.delete(url, headers=world.alice).status_code == 204
    assert_error(world.client.get(url, headers=world.alice), 404)
    events = world.client.get(f"/api/v1/teams/net/audit?object_id={network['id']}",
                              headers=world.alice).get_json()["items"]
    assert [e["action"] for e in events] == ["delete", "update", "update", "create"]
    assert events[2]["changes"]["vlans"]["to"] == [{"vid": 20, "name": "staff", "description": ""},
                                                   {"vid": 30, "name": "", "description": ""}]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "n", "cidr": "10.0.0.1/24"}, "cidr", "invalid_cidr"),
        ({"name": "n", "cidr": "10.0.0.0/33"}, "cidr", "invalid_cidr"),
        ({"name": "n", "cidr": "banana"}, "cidr", "invalid_cidr"),
        ({"name": "n", "cidr": "2001:db8::1/64"}, "cidr", "invalid_cidr"),
        ({"name": "n", "cidr": 10}, "cidr", "wrong_type"),
        ({"name": "n"}, "cidr", "required"),
        ({"cidr": "10.0.0.0/8"}, "name", "required"),
        ({"name": "n" * 101, "cidr": "10.0.0.0/8"}, "name", "too_long"),
        ({"name": "n", "cidr": "10.0.0.0/8", "gateway": "x"}, "gateway", "unknown_field"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": [{"vid": 0}]}, "vlans[0].vid", "invalid_vid"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": [{"vid": 4095}]}, "vlans[0].vid", "invalid_vid"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": [{"vid": "10"}]}, "vlans[0].vid", "invalid_vid"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": [{"vid": True}]}, "vlans[0].vid", "invalid_vid"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": [{"vid": 5}, {"vid": 5}]}, "vlans[1].vid", "duplicate_vid"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": [{"vid": 5, "colour": 1}]}, "vlans[0].colour",
         "unknown_field"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": [{"vid": 5, "name": "x" * 101}]}, "vlans[0].name",
         "too_long"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": "10,20"}, "vlans", "wrong_type"),
        ({"name": "n", "cidr": "10.0.0.0/8", "vlans": [7]}, "vlans[0]", "wrong_type"),
        ({"name": "n", "cidr": "10.0.0.0/8", "documentation": "d" * 200_001}, "documentation", "too_long"),
    ],
)
def test_create_validation(world, project, body, field, code):
    error = assert_error(world.post(f"/api/v1/projects/{project['id']}/networks", body), 422, code)
    assert error["field"] == field
    assert "10.0.0.0/24" in error["message"] or code != "invalid_cidr", "the message shows a valid example"


def test_patch_validation_and_replacing_vlans_atomically(world, project):
    network = world.post(f"/api/v1/projects/{project['id']}/networks",
                         {"name": "n", "cidr": "10.0.0.0/8", "vlans": [{"vid": 1}]}).get_json()
    url = f"/api/v1/networks/{network['id']}"
    assert_error(world.client.patch(url, json={"cidr": "10.0.0.1/8"}, headers=world.alice), 422, "invalid_cidr")
    assert_error(world.client.patch(url, json={"vlans": [{"vid": 2}, {"vid": 2}]}, headers=world.alice), 422,
                 "duplicate_vid")
    assert_error(world.client.patch(url, json={"vlans": None}, headers=world.alice), 422, "wrong_type")
    assert_error(world.client.patch(url, json={"name": None}, headers=world.alice), 422, "required")
    unchanged = world.client.get(url, headers=world.alice).get_json()
    assert [v["vid"] for v in unchanged["vlans"]] == [1] and unchanged["cidr"] == "10.0.0.0/8"
    cleared = world.client.patch(url, json={"vlans": []}, headers=world.alice).get_json()
    assert cleared["vlans"] == []


def test_other_team_and_unauthenticated(world, project):
    network = world.post(f"/api/v1/projects/{project['id']}/networks", {"name": "n", "cidr": "10.0.0.0/8"}).get_json()
    assert_error(world.client.get(f"/api/v1/projects/{project['id']}/networks"), 401)
    assert_error(world.client.get(f"/api/v1/networks/{network['id']}"), 401)
    assert_error(world.client.get(f"/api/v1/projects/{project['id']}/networks", headers=world.carol), 404)
    assert_error(world.post(f"/api/v1/projects/{project['id']}/networks", {"name": "n", "cidr": "10.0.0.0/8"},
                            world.carol), 404)
    for method in ("GET", "PATCH", "DELETE"):
        assert_error(world.client.open(f"/api/v1/networks/{network['id']}", method=method, headers=world.carol,
                                       json={"name": "x"} if method == "PATCH" else None), 404)


def test_pagination(world, project):
    ids = [world.post(f"/api/v1/projects/{project['id']}/networks",
                      {"name": f"net{i:02d}", "cidr": f"10.{i}.0.0/16"}).get_json()["id"] for i in range(7)]
    seen, cursor = [], None
    while True:
        page = world.client.get(f"/api/v1/projects/{project['id']}/networks?limit=3"
                                + (f"&cursor={cursor}" if cursor else ""), headers=world.alice).get_json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids


def test_markdown_is_rendered_inert(world, project, client):
    doc = ("<script>alert('x')</script>\n\n[click](javascript:alert(1)) [mixed](JaVaScRiPt:alert(2))\n\n"
           "<a href=\"javascript:alert(3)\">raw</a> <img src=x onerror=alert(4)>\n\n"
           "![img](javascript:alert(5)) [ok](https://example.com/docs)")
    network = world.post(f"/api/v1/projects/{project['id']}/networks",
                         {"name": "n", "cidr": "10.0.0.0/8", "documentation": doc}).get_json()
    html = network["documentation_html"]
    assert "<script" not in html and "<img" not in html and "<a href=\"javascript" not in html.lower()
    assert "href=\"javascript" not in html.lower() and "src=\"javascript" not in html.lower()
    assert "onerror=" not in html.replace("onerror=alert(4)&gt;", "")
    assert "&lt;script&gt;" in html, "raw HTML is shown as text, not run"
    assert '<a href="https://example.com/docs" rel="nofollow noopener noreferrer">ok</a>' in html


def test_markdown_function_directly():
    from app.services.markdown import render_markdown

    html = str(render_markdown("<iframe src=x></iframe> [a](vbscript:x) [b](data:text/html,<b>x</b>) **bold**"))
    assert "<iframe" not in html and "href=\"vbscript" not in html and "href=\"data:" not in html
    assert "<strong>bold</strong>" in html
    assert str(render_markdown("")) == "" and str(render_markdown(None)) == ""
