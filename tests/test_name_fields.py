"""Every name and text field added with intake, compliance and notifications refuses bad input
the way the older ones do (app/services/validation.py): control characters, NUL, line separators,
lone surrogates, overlong values and wrong types answer 400/422 with the API's error shape or a
form message, never a 500 (PostgreSQL cannot even store a NUL: unchecked, it was a 500 there).
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from tests.client_support import get_csrf
from tests.device_support import world_fixture  # noqa: F401  (fixture)

# (label, value) pairs every name refuses, whatever its length limit.
BAD_CHARACTERS = [
    ("NUL", "core\x00sw"),
    ("escape", "core\x1b[31msw"),
    ("newline", "core\nsw"),
    ("DEL", "core\x7fsw"),
    ("C1 control", "core\x85sw"),
    ("line separator", "core\u2028sw"),
]
WRONG_TYPES = [5, ["x"], {"x": 1}, True]


def _assert_refused(response, field: str | None, what) -> None:
    assert response.status_code in (400, 422), (what, response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json", what
    error = response.get_json()["error"]
    assert error["code"] and error["message"], (what, error)
    if field is not None:
        assert error.get("field") == field, (what, error)


def _bad_values(limit: int) -> list[tuple[str, object]]:
    return [*BAD_CHARACTERS, ("too long", "x" * (limit + 1)), *(("wrong type", v) for v in WRONG_TYPES)]


# -- webhooks ------------------------------------------------------------------------------------

def test_webhook_url_and_description(world):
    url = f"/api/v1/projects/{world.project_id}/webhooks"
    admin = world.headers["admin"]
    for label, value in [*BAD_CHARACTERS, ("too long", "https://example.net/" + "x" * 2000),
                         *(("wrong type", v) for v in WRONG_TYPES)]:
        target = f"https://example.net/{value}" if isinstance(value, str) and label != "too long" else value
        _assert_refused(world.client.post(url, json={"url": target}, headers=admin), "url", (label, "url"))
    for label, value in _bad_values(200):
        _assert_refused(world.client.post(url, json={"url": "https://93.184.216.34/h", "description": value},
                                          headers=admin), "description", (label, "description"))
    created = world.client.post(url, json={"url": "https://93.184.216.34/h", "description": "  Chat ops  "},
                                headers=admin)
    assert created.status_code == 201 and created.get_json()["description"] == "Chat ops"
    hook = f"/api/v1/webhooks/{created.get_json()['id']}"
    for label, value in _bad_values(200):
        _assert_refused(world.client.patch(hook, json={"description": value}, headers=admin), "description", label)
        _assert_refused(world.client.patch(hook, json={"url": value}, headers=admin), "url", label)
    assert world.client.get(hook, headers=admin).get_json()["description"] == "Chat ops"


def test_webhook_form_shows_a_message(world, login, client):
    login("the-admin")
    page = f"/projects/{world.project_id}/webhooks"
    for label, value in [*BAD_CHARACTERS[1:], ("too long", "x" * 201)]:  # browsers cannot send a NUL in a form
        token = get_csrf(client, page)
        response = client.post(page, data={"csrf_token": token, "url": "https://93.184.216.34/h",
                                           "events": ["version.created"], "description": value})
        assert response.status_code == 422, (label, response.get_data(as_text=True)[:300])
        assert "description" in response.get_data(as_text=True), label
    token = get_csrf(client, page)
    response = client.post(page, data={"csrf_token": token, "url": "https://example.net/a\x1bb",
                                       "events": ["version.created"]})
    assert response.status_code == 422 and "control characters" in response.get_data(as_text=True)


# -- noise rules and intake settings -------------------------------------------------------------

def test_noise_rule_fields_and_settings(world):
    url = f"/api/v1/projects/{world.project_id}/rules"
    admin = world.headers["admin"]
    for label, value in _bad_values(500):
        _assert_refused(world.client.put(url, json={"rules": [{"kind": "ignore", "pattern": value}]}, headers=admin),
                        "rules[0].pattern", (label, "pattern"))
    for label, value in _bad_values(200):
        _assert_refused(world.client.put(url, json={"rules": [{"kind": "ignore", "pattern": "^x",
                                                               "description": value}]}, headers=admin),
                        "rules[0].description", (label, "description"))
    for label, value in _bad_values(200):
        _assert_refused(world.client.put(url, json={"config_name": value}, headers=admin), "config_name", label)
    for choice in ("platform", "noise_presets"):
        for value in (["ios"], {"ios": 1}, 5, None):  # a list was a 500 (unhashable in the presets' dict)
            _assert_refused(world.client.put(url, json={choice: value}, headers=admin), choice, (choice, value))
    # A pattern keeps its blanks (a trailing space can be the point); a description is trimmed.
    saved = world.client.put(url, json={"rules": [{"kind": "strip", "pattern": "^! uptime ", "description": " up "}]},
                             headers=admin)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["rules"] == [{"kind": "strip", "pattern": "^! uptime ", "description": "up"}]
    device = world.create_device("sw1")
    preview = f"/api/v1/projects/{world.project_id}/rules/preview"
    for label, value in BAD_CHARACTERS:
        response = world.client.post(preview, json={"device_id": device["id"],
                                                    "rules": [{"kind": "ignore", "pattern": value}]}, headers=admin)
        _assert_refused(response, "rules[0].pattern", label)


def test_noise_rules_form_shows_a_message(world, login, client):
    login("the-admin")
    page = f"/projects/{world.project_id}/rules"
    for label, text in [("escape", "ignore: ^a\x1bb"), ("C1 control", "strip: ^a\x9bb"),
                        ("too long", "ignore: " + "x" * 501)]:
        token = get_csrf(client, page)
        response = client.post(page, data={"csrf_token": token, "action": "save", "platform": "auto",
                                           "config_name": "running-config", "noise_presets": "all",
                                           "redaction": "y", "rules": text})
        body = response.get_data(as_text=True)
        assert response.status_code == 422, (label, body[:300])
        assert "rules[0].pattern" in body, label
    for label, value in [("escape", "run\x1bning"), ("too long", "x" * 300)]:
        token = get_csrf(client, page)
        response = client.post(page, data={"csrf_token": token, "action": "save", "platform": "auto",
                                           "noise_presets": "all", "config_name": value})
        assert response.status_code == 422, (label, response.get_data(as_text=True)[:300])


# -- compliance rules ----------------------------------------------------------------------------

COMPLIANCE_LIMITS = {"name": 100, "pattern": 500, "block": 500, "block_filter": 500, "config_path": 300,
                     "platform": 50, "tag": 50, "name_pattern": 200}


@pytest.mark.parametrize("field", [*COMPLIANCE_LIMITS, "description"])
def test_compliance_rule_fields(world, field):
    url = f"/api/v1/projects/{world.project_id}/compliance/rules"
    editor = world.headers["editor"]
    base = {"name": "NTP", "kind": "must_contain", "pattern": "^ntp server"}
    limit = COMPLIANCE_LIMITS.get(field, 2000)
    bad = _bad_values(limit)
    if field == "description":  # free text (validation.check_text): line breaks are fine, C0 controls are not
        bad = [(label, value) for label, value in bad if label not in ("newline", "C1 control", "line separator")]
    for label, value in bad:
        _assert_refused(world.client.post(url, json={**base, field: value}, headers=editor), field, (label, field))
    created = world.client.post(url, json={**base, "description": "Line one\nline two"}, headers=editor)
    assert created.status_code == 201, created.get_data(as_text=True)
    rule = f"/api/v1/compliance/rules/{created.get_json()['id']}"
    for label, value in bad:
        _assert_refused(world.client.patch(rule, json={field: value}, headers=editor), field, (label, field))
    assert world.client.get(rule, headers=editor).get_json()["name"] == "NTP"


def test_compliance_form_shows_a_message(world, login, client):
    login("the-editor")
    page = f"/projects/{world.project_id}/compliance"
    for field in ("name", "pattern", "tag", "name_pattern"):
        for label, value in BAD_CHARACTERS[1:]:
            token = get_csrf(client, page)
            data = {"csrf_token": token, "name": "NTP", "kind": "must_contain", "pattern": "^ntp", "scope": "project",
                    field: value}
            response = client.post(page, data=data)
            body = response.get_data(as_text=True)
            assert response.status_code == 422, (field, label, body[:300])
            assert "control characters" in body, (field, label)


# -- collectors: Oxidized and the curl upload ----------------------------------------------------

def _basic(world) -> str:
    token = world.headers["editor"]["Authorization"].split(" ", 1)[1]
    return "Basic " + base64.b64encode(f"the-editor:{token}".encode()).decode()


def test_oxidized_node_and_message(world):
    url = f"/api/v1/projects/{world.project_id}/oxidized"
    headers = {"Authorization": _basic(world), "Content-Type": "application/json"}
    body = {"msg": "update", "user": None, "email": None, "group": "core", "node": "sw1",
            "config": "hostname sw1\n"}
    for label, value in _bad_values(100):
        response = world.client.post(url, data=json.dumps({**body, "node": value}), headers=headers)
        _assert_refused(response, "node", (label, "node"))
    for label, value in [("NUL", "up\x00date"), ("escape", "up\x1bdate"), ("wrong type", 5)]:
        response = world.client.post(url, data=json.dumps({**body, "msg": value}), headers=headers)
        _assert_refused(response, "msg", (label, "msg"))
    response = world.client.post(url, data=json.dumps(body), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    devices = world.client.get(f"/api/v1/projects/{world.project_id}/devices", headers=world.headers["viewer"])
    assert [d["name"] for d in devices.get_json()["items"]] == ["sw1"]


def test_upload_device_name_and_message(world):
    base = f"/api/v1/projects/{world.project_id}/devices/by-name"
    editor = world.headers["editor"]
    for label, value in [*BAD_CHARACTERS, ("too long", "x" * 101)]:
        response = world.client.put(f"{base}/{quote(value, safe='')}/configs/running-config", data=b"hostname x\n",
                                    headers=editor)
        _assert_refused(response, "name", (label, "name"))
    for label, value in [("NUL", "a\x00b"), ("escape", "a\x1bb"), ("too long", "x" * 10_001)]:
        response = world.client.put(f"{base}/sw1/configs/running-config?message={quote(value)}",
                                    data=b"hostname x\n", headers=editor)
        _assert_refused(response, "message", (label, "message"))
    response = world.client.put(f"{base}/sw1/configs/running-config?message=ok", data=b"hostname x\n", headers=editor)
    assert response.status_code == 201, response.get_data(as_text=True)


# -- ids from URLs and bodies --------------------------------------------------------------------

def test_an_id_with_a_nul_is_not_found_never_a_query(world, login, client):
    """Unchecked, PostgreSQL refused the lookup itself (a 500); such an id names nothing."""
    admin, editor = world.headers["admin"], world.headers["editor"]
    device = world.create_device("sw1")
    bad = "a%00b"
    for method, url, body in [
        ("get", f"/api/v1/webhooks/{bad}", None),
        ("patch", f"/api/v1/webhooks/{bad}", {"active": False}),
        ("delete", f"/api/v1/webhooks/{bad}", None),
        ("get", f"/api/v1/webhooks/{bad}/deliveries", None),
        ("post", f"/api/v1/webhooks/{bad}/test", None),
        ("get", f"/api/v1/projects/{bad}/webhooks", None),
        ("get", f"/api/v1/compliance/rules/{bad}", None),
        ("patch", f"/api/v1/compliance/rules/{bad}", {"name": "x"}),
        ("get", f"/api/v1/projects/{bad}/compliance/rules", None),
        ("put", f"/api/v1/devices/{bad}/watch", {"mode": "each"}),
        ("put", f"/api/v1/projects/{bad}/watch", {"mode": "each"}),
        ("get", f"/api/v1/projects/{bad}/rules", None),
        ("post", f"/api/v1/projects/{world.project_id}/rules/preview", {"device_id": "a\x00b"}),
    ]:
        kwargs = {"json": body} if body is not None else {}
        response = getattr(world.client, method)(url, headers=admin, **kwargs)
        assert response.status_code == 404, (method, url, response.get_data(as_text=True)[:300])
        assert response.get_json()["error"]["code"]
    response = world.client.post(f"/api/v1/projects/{world.project_id}/tasks",
                                 json={"title": "t", "assignee": "the-\x00editor", "device_id": device["id"]},
                                 headers=editor)
    _assert_refused(response, "assignee", "assignee")
    response = world.client.post(f"/api/v1/projects/{world.project_id}/tasks",
                                 json={"title": "t", "device_id": "a\x00b"}, headers=editor)
    _assert_refused(response, "device_id", "device_id")
    login("the-admin")
    for url in (f"/projects/{bad}/webhooks", f"/projects/{bad}/compliance", f"/projects/{bad}/rules"):
        assert client.get(url).status_code == 404, url
