"""Hostile input never gives a 500 (issue 9, finding 6): deep JSON, duplicate keys, lone
surrogates, control characters in names, oversized chunked bodies, and a version whose JSON
nobody can read (it is shown and exported as "unreadable", the rest keeps working)."""

from __future__ import annotations

import base64
import http.client
import json

import pygit2
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiToken, Device, Project, Task, Team, User
from app.services.commit_index import sync_device
from app.services.gitstore_bridge import author_for, locked_repo
from gitstore import MAX_JSON_DEPTH
from tests.client_support import assert_error, csrf_from
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.githttp_support import ThreadedServer
from tests.privacy_support import post_export, wait_export

DEEP = "[" * 10_000 + "]" * 10_000
JSON = {"Content-Type": "application/json"}


def _deep_object(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def _endpoints(world, device_id: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/api/v1/teams"),
        ("POST", "/api/v1/teams/acme/projects"),
        ("PATCH", f"/api/v1/projects/{world.project_id}"),
        ("POST", f"/api/v1/projects/{world.project_id}/devices"),
        ("PATCH", f"/api/v1/devices/{device_id}"),
        ("POST", f"/api/v1/devices/{device_id}/versions"),
        ("POST", f"/api/v1/devices/{device_id}/versions/import"),
        ("POST", f"/api/v1/devices/{device_id}/tags"),
        ("POST", f"/api/v1/projects/{world.project_id}/networks"),
        ("POST", f"/api/v1/projects/{world.project_id}/tasks"),
    ]


def test_deep_json_bodies_are_refused_on_every_endpoint(world, client):
    device = world.create_device("sw1")
    headers = {**world.headers["owner"], **JSON}
    # Past the recursion limit (json.loads raised RecursionError: a 500), and just past our limit
    # inside an otherwise valid object (parsed fine before, then walked recursively downstream).
    just_too_deep = '{"name": "x", "custom_fields": ' + _deep_object(MAX_JSON_DEPTH) + "}"
    for method, path in _endpoints(world, device["id"]):
        for body in (DEEP, just_too_deep):
            response = client.open(path, method=method, data=body, headers=headers)
            error = assert_error(response, 422, "too_deep")
            assert str(MAX_JSON_DEPTH) in error["message"], (method, path)


def test_json_within_the_depth_limit_is_still_accepted(world, client):
    device = world.create_device("sw1")
    ports = [{"name": "Gi1/0/1", "peer": {"device": "core", "port": "Gi1/0/48"}, "vlans": [10]}]
    body = {"versions": [{"message": "one", "configs": {"running": "a\n"}, "ports": ports}]}
    response = client.post(f"/api/v1/devices/{device['id']}/versions/import", json=body,
                           headers=world.headers["editor"])
    assert response.status_code == 201, response.get_data(as_text=True)


def test_duplicate_keys_are_refused(world, client, app):
    device = world.create_device("sw1")
    headers = {**world.headers["owner"], **JSON}
    error = assert_error(client.post("/api/v1/teams", data='{"name": "Alpha", "name": "Beta"}', headers=headers),
                         422, "duplicate_key")
    assert "'name'" in error["message"]
    body = '{"message": "m", "configs": {"running": "one\\n", "running": "two\\n"}}'
    assert_error(client.post(f"/api/v1/devices/{device['id']}/versions", data=body, headers=headers),
                 422, "duplicate_key")
    with app.app_context():
        assert db.session.scalar(select(func.count(Team.id)).where(Team.name.in_(("Alpha", "Beta")))) == 0
    assert client.get(f"/api/v1/devices/{device['id']}/versions", headers=headers).get_json()["items"][0][
        "message"] == "Create device"


LONE = "\\ud800"  # as the JSON escape: valid JSON text, but no character


@pytest.mark.parametrize("field", ["team.name", "project.name", "project.description", "device.name",
                                   "device.vendor", "version.message", "version.config", "version.config_name",
                                   "tag.name", "task.title", "network.description", "token.name"])
def test_lone_surrogates_are_refused_on_every_text_field(world, client, app, field):
    device = world.create_device("sw1")
    headers = {**world.headers["owner"], **JSON}
    value = f'"a{LONE}b"'
    requests = {
        "team.name": ("POST", "/api/v1/teams", '{"name": %s}'),
        "project.name": ("POST", "/api/v1/teams/acme/projects", '{"name": %s}'),
        "project.description": ("PATCH", f"/api/v1/projects/{world.project_id}", '{"description": %s}'),
        "device.name": ("POST", f"/api/v1/projects/{world.project_id}/devices", '{"name": %s}'),
        "device.vendor": ("PATCH", f"/api/v1/devices/{device['id']}", '{"vendor": %s}'),
        "version.message": ("POST", f"/api/v1/devices/{device['id']}/versions",
                            '{"message": %s, "configs": {"r": "x"}}'),
        "version.config": ("POST", f"/api/v1/devices/{device['id']}/versions",
                           '{"message": "m", "configs": {"r": %s}}'),
        "version.config_name": ("POST", f"/api/v1/devices/{device['id']}/versions",
                                '{"message": "m", "configs": {%s: "x"}}'),
        "tag.name": ("POST", f"/api/v1/devices/{device['id']}/tags", '{"name": %s}'),
        "task.title": ("POST", f"/api/v1/projects/{world.project_id}/tasks", '{"title": %s}'),
        "network.description": ("POST", f"/api/v1/projects/{world.project_id}/networks",
                                '{"name": "n", "cidr": "10.0.0.0/24", "description": %s}'),
    }
    if field == "token.name":
        with app.app_context():
            username = db.session.get(User, world.user_ids["owner"]).username
        basic = base64.b64encode(f"{username}:correct horse battery".encode()).decode()
        response = client.post("/api/v1/tokens", data='{"name": ' + value + "}",
                               headers={"Authorization": f"Basic {basic}", **JSON})
    else:
        method, path, template = requests[field]
        response = client.open(path, method=method, data=template % value, headers=headers)
    error = assert_error(response, 422, "invalid_text")
    assert "surrogate" in error["message"]


NAMES_WITH_CONTROLS = ["Ac\x00me", "Ac\x1bme", "Ac\nme", "Ac\tme", "Ac\x85me", "Ac\u2028me"]


@pytest.mark.parametrize("name", NAMES_WITH_CONTROLS, ids=["nul", "esc", "newline", "tab", "nel", "line-sep"])
def test_control_characters_are_refused_in_every_name_over_the_api(world, client, app, name):
    device = world.create_device("sw1")
    headers = world.headers["owner"]
    network = client.post(f"/api/v1/projects/{world.project_id}/networks",
                          json={"name": "mgmt", "cidr": "10.0.0.0/24"}, headers=headers).get_json()
    cases = [
        ("POST", "/api/v1/teams", {"name": name}, "name"),
        ("POST", "/api/v1/teams/acme/projects", {"name": name}, "name"),
        ("PATCH", f"/api/v1/projects/{world.project_id}", {"name": name}, "name"),
        ("POST", f"/api/v1/projects/{world.project_id}/devices", {"name": name}, "name"),
        ("PATCH", f"/api/v1/devices/{device['id']}", {"name": name}, "name"),
        ("PATCH", f"/api/v1/devices/{device['id']}", {"custom_fields": {name: "x"}}, f"custom_fields.{name}"),
        ("POST", f"/api/v1/devices/{device['id']}/tags", {"name": name}, "name"),
        ("POST", f"/api/v1/devices/{device['id']}/versions", {"message": "m", "configs": {name: "x"}},
         f"configs.{name}"),
        ("POST", f"/api/v1/projects/{world.project_id}/networks", {"name": name, "cidr": "10.1.0.0/24"}, "name"),
        ("PATCH", f"/api/v1/networks/{network['id']}", {"name": name}, "name"),
        ("PATCH", f"/api/v1/networks/{network['id']}", {"vlans": [{"vid": 10, "name": name}]}, "vlans[0].name"),
        ("POST", f"/api/v1/projects/{world.project_id}/tasks", {"title": name}, "title"),
    ]
    for method, path, body, field in cases:
        response = client.open(path, method=method, json=body, headers=headers)
        error = assert_error(response, 422)
        assert error.get("field") == field, (path, body, error)
    with app.app_context():
        # Compared in Python: PostgreSQL cannot even take NUL in a query parameter.
        assert [n for n in db.session.scalars(select(Team.name)) if n == name] == []
        assert [n for n in db.session.scalars(select(Project.name)) if n == name] == []
        assert db.session.scalar(select(func.count(Task.id))) == 0
        assert db.session.get(Device, device["id"]).name == "sw1"


def test_control_characters_are_refused_in_names_from_web_forms(client, make_user, login, app):
    make_user("alice")
    login("alice")
    page = client.get("/teams/new").get_data(as_text=True)
    response = client.post("/teams/new", data={"name": "Ac\x00me", "csrf_token": csrf_from(page)})
    assert response.status_code == 422
    assert "may not contain control characters" in response.get_data(as_text=True)
    page = client.get("/settings/tokens").get_data(as_text=True)
    response = client.post("/settings/tokens",
                           data={"name": "laptop\x00", "scopes": "read", "csrf_token": csrf_from(page)})
    assert "may not contain control characters" in response.get_data(as_text=True)
    page = client.get("/settings/profile").get_data(as_text=True)
    client.post("/settings/profile", data={"display_name": "Alice\x07", "email": "alice@example.com",
                                  "username": "alice", "csrf_token": csrf_from(page)})
    with app.app_context():
        assert db.session.scalar(select(func.count(Team.id))) == 0
        assert db.session.scalar(select(func.count(ApiToken.id))) == 0
        assert "\x07" not in (db.session.scalar(select(User.display_name)) or "")
    # Nothing stored, so no page shows a raw control character.
    assert "\x00" not in client.get("/").get_data(as_text=True)


def test_a_chunked_body_over_the_limit_is_413(world, app):
    """50 MB sent chunked (no Content-Length) through a real HTTP server: 413, not a cut body
    parsed as broken JSON (400)."""
    server = ThreadedServer(app)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        connection.putrequest("POST", "/api/v1/teams")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Authorization", world.headers["owner"]["Authorization"])
        connection.endheaders()
        chunk = b" " * 65536
        try:
            connection.send(b'%x\r\n{"name": "big",\r\n' % len(b'{"name": "big",'))
            for _ in range(50 * 16):
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 413, body
        assert body["error"]["code"] == "too_large"
    finally:
        server.stop()


def test_a_chunked_body_within_the_limit_still_works(world, app):
    server = ThreadedServer(app)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        data = json.dumps({"name": "Chunked"}).encode()
        connection.putrequest("POST", "/api/v1/teams")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Authorization", world.headers["owner"]["Authorization"])
        connection.endheaders()
        connection.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
        response = connection.getresponse()
        assert response.status == 201, response.read()
    finally:
        server.stop()


def test_a_deep_cursor_is_a_422(world, client):
    cursor = base64.urlsafe_b64encode(DEEP.encode()).decode().rstrip("=")
    response = client.get(f"/api/v1/projects/{world.project_id}/devices?cursor={cursor}",
                          headers=world.headers["owner"])
    assert_error(response, 422)


def test_deep_metadata_typed_into_the_project_form_is_a_form_error(world, client, login, app):
    with app.app_context():
        username = db.session.get(User, world.user_ids["owner"]).username
    login(username)
    url = f"/projects/{world.project_id}/edit"
    page = client.get(url)
    assert page.status_code == 200, url
    form = {"name": "Core", "description": "", "status": "active", "csrf_token": csrf_from(page.get_data(as_text=True))}
    for metadata, message in ((DEEP, "nested deeper"), ('{"a": 1, "a": 2}', "duplicate key")):
        response = client.post(url, data={**form, "metadata": metadata})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)


# -- a version nobody can read ----------------------------------------------------------------


def _poison(app, device_id: str, user_id: str, files: dict[str, bytes], message: str = "poisoned") -> str:
    """Commit `files` on main straight through pygit2, past every check (as a push accepted by an
    older release, or an imported history, could have), and index it."""
    with app.app_context():
        row = db.session.get(Device, device_id)
        author = author_for(db.session.get(User, user_id))
        with locked_repo(row) as repo:
            raw = repo.raw
            head = raw.references["refs/heads/main"].target
            builder = raw.TreeBuilder(raw[head].tree)
            for name, data in files.items():
                builder.insert(name, raw.create_blob(data), pygit2.enums.FileMode.BLOB)
            signature = pygit2.Signature(author.name, author.email)
            sha = str(raw.create_commit("refs/heads/main", signature, signature, message, builder.write(), [head]))
        sync_device(row)
        db.session.commit()
        return sha


def test_an_unreadable_version_is_shown_and_exported_without_failing_the_rest(world, client, app, login):
    device = world.create_device("sw1")
    device_id = device["id"]
    world.write(device_id, message="good", configs={"running": "hostname sw1\n"},
                ports=[{"name": "Gi1/0/1"}])
    # ~985 levels: json.loads made it (so an older push check let it in), but any recursive reader
    # inside a request or a job then hit the recursion limit: the page, API and export all failed.
    bad = _poison(app, device_id, world.user_ids["editor"], {
        "device.json": _deep_object(985).encode(),
        "ports.json": b'[{"name": "Gi1/0/1", "name": "Gi1/0/2"}]',
    })
    headers = world.headers["editor"]

    version = client.get(f"/api/v1/devices/{device_id}/versions/{bad}", headers=headers)
    assert version.status_code == 200, version.get_data(as_text=True)
    body = version.get_json()
    assert body["unreadable"] == ["device.json", "ports.json"]
    assert body["device"] == {} and body["ports"] == []
    assert body["configs"] == {"running": "hostname sw1\n"}
    good = client.get(f"/api/v1/devices/{device_id}/versions/HEAD~1", headers=headers).get_json()
    assert good["unreadable"] == [] and good["ports"] == [{"name": "Gi1/0/1"}]
    assert client.get(f"/api/v1/devices/{device_id}/versions", headers=headers).status_code == 200
    diff = client.get(f"/api/v1/devices/{device_id}/diff?from=HEAD~1&to=HEAD", headers=headers)
    assert diff.status_code == 200, diff.get_data(as_text=True)
    assert client.get(f"/api/v1/devices/{device_id}", headers=headers).status_code == 200

    with app.app_context():
        username = db.session.get(User, world.user_ids["editor"]).username
    login(username)
    for url in (f"/devices/{device_id}", f"/devices/{device_id}/versions/{bad}"):
        page = client.get(url)
        assert page.status_code == 200, (url, page.get_data(as_text=True)[-2000:])
        html = page.get_data(as_text=True)
        assert "Unreadable in this version" in html and "device.json" in html

    export_id = post_export(client, headers).get_json()["id"]
    status = wait_export(client, app, export_id, headers)
    assert status["status"] == "done", status
    doc = client.get(f"/api/v1/export/{export_id}/download", headers=headers).get_json()
    versions = doc["teams"][0]["projects"][0]["devices"][0]["versions"]
    assert versions[0]["commit"] == bad
    assert versions[0]["device"] == "unreadable" and versions[0]["ports"] == "unreadable"
    assert versions[0]["unreadable"] == ["device.json", "ports.json"]
    assert versions[0]["configs"]["running"]["content"] == "hostname sw1\n"
    assert versions[1]["message"] == "good" and versions[1]["ports"] == [{"name": "Gi1/0/1"}]
