"""The search page and the compliance dashboard in the web UI: same power as the API, same permissions."""

from __future__ import annotations

from app.extensions import db
from app.models import ComplianceRule
from tests.client_support import PASSWORD, get_csrf
from tests.device_support import World, world_fixture  # noqa: F401
from tests.fleet_config_support import IOS
from tests.privacy_support import drain


def _login(world: World, username: str) -> None:
    world.client = world.app.test_client()  # a new browser for each person
    token = get_csrf(world.client, "/login")
    response = world.client.post("/login", data={"login": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (302, 303)


def test_search_page_shows_highlighted_lines_with_links(world: World):
    device = world.create_device("access-sw-1", vendor="Cisco")
    world.write(device["id"], configs={"running-config": IOS}, message="c").close()
    _login(world, "the-viewer")
    page = world.client.get("/teams/acme/search", query_string={"q": "acl-servers-in", "kind": "config"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    line = IOS.split("\n").index("ip access-list extended ACL-SERVERS-IN") + 1
    assert "ip access-list extended <mark>ACL-SERVERS-IN</mark>" in html
    assert f"#L{line}" in html and "access-sw-1" in html
    absent = world.client.get("/teams/acme/search", query_string={"q": "^snmp-server", "regex": "1", "absent": "1"})
    assert "Devices without a matching line" in absent.get_data(as_text=True)
    bad = world.client.get("/teams/acme/search", query_string={"q": "(", "regex": "1", "kind": "config"})
    assert bad.status_code == 422 and "not a valid regular expression" in bad.get_data(as_text=True)
    assert world.client.get("/teams/other/search", query_string={"q": "x"}).status_code == 404


def test_compliance_dashboard_add_rule_and_status(world: World, app):
    device = world.create_device("access-sw-1", vendor="Cisco")
    world.write(device["id"], configs={"running-config": IOS}, message="c").close()
    _login(world, "the-editor")
    url = f"/projects/{world.project_id}/compliance"
    token = get_csrf(world.client, url)
    refused = world.client.post(url, data={"csrf_token": token, "name": "bad", "kind": "must_contain",
                                           "pattern": "(", "config_path": "running-config", "scope": "project"})
    assert refused.status_code == 422 and "not a valid regular expression" in refused.get_data(as_text=True)
    added = world.client.post(url, data={"csrf_token": token, "name": "No HTTP server", "kind": "must_not_contain",
                                         "pattern": "^ip http server", "config_path": "running-config",
                                         "scope": "project"})
    assert added.status_code == 302
    added.close()
    drain(app)
    page = world.client.get(url).get_data(as_text=True)
    assert "No HTTP server" in page and "status-failing" in page
    device_page = world.client.get(f"/devices/{device['id']}").get_data(as_text=True)
    assert 'id="compliance"' in device_page and "No HTTP server" in device_page
    world.write(device["id"], configs={"running-config": IOS.replace("ip http server\n", "")},
                message="fix").close()
    drain(app)
    device_page = world.client.get(f"/devices/{device['id']}").get_data(as_text=True)
    assert "status-compliant" in device_page and "Over its versions" in device_page
    csv_page = world.client.get(f"/projects/{world.project_id}/compliance.csv")
    assert csv_page.mimetype == "text/csv" and b"access-sw-1," in csv_page.data
    with app.app_context():
        rule_id = db.session.query(ComplianceRule).one().id
    _login(world, "the-viewer")
    viewer_page = world.client.get(url).get_data(as_text=True)
    assert "Add a rule" not in viewer_page
    token = get_csrf(world.client, url)
    assert world.client.post(f"/compliance/rules/{rule_id}/delete", data={"csrf_token": token}).status_code == 403
