"""Data export: POST /api/v1/export builds a JSON document of everything the user can see."""

from __future__ import annotations

import base64
import json
import re

import pytest

from app.extensions import db
from app.models import DataExport, Network, Task, TaskComment, User, Vlan
from app.services import exports
from app.services.errors import NotFound
from tests.client_support import assert_error, bearer, csrf_from
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.privacy_support import drain, post_export, wait_export


def _add_network_and_task(app, world) -> None:
    with app.app_context():
        network = Network(team_id=world.team_id, project_id=world.project_id, name="Mgmt", cidr="10.0.0.0/24")
        network.vlans = [Vlan(vid=10, name="users"), Vlan(vid=20, name="voice")]
        task = Task(team_id=world.team_id, project_id=world.project_id, title="Replace PSU",
                    created_by_id=world.user_ids["owner"])
        db.session.add_all([network, task])
        db.session.flush()
        db.session.add(TaskComment(task_id=task.id, author_id=world.user_ids["editor"], body="ordered a spare"))
        db.session.commit()


def test_export_end_to_end_holds_every_version_and_no_secrets(world, app, client):
    device = world.create_device("sw1")
    world.write(device["id"], message="first", configs={"running-config": "hostname sw1\n"})
    world.write(device["id"], message="second", configs={"running-config": "hostname sw1-new\n"})
    world.write(device["id"], message="third", configs={"raw": "\u00e9t\u00e9\n"}, ports=[{"name": "Gi1/0/1"}])
    _add_network_and_task(app, world)
    headers = world.headers["owner"]
    owner_token = headers["Authorization"].split()[1]

    response = post_export(client, headers)
    assert response.status_code == 202
    started = response.get_json()
    assert started["status"] == "queued" and started["id"]
    body = wait_export(client, app, started["id"], headers)
    assert body["status"] == "done", body
    assert body["progress"] == {"devices_done": 1, "devices_total": 1}
    assert body["size"] > 0 and body["download_url"].endswith(f"/api/v1/export/{started['id']}/download")

    download = client.get(f"/api/v1/export/{started['id']}/download", headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    raw = download.get_data(as_text=True)
    assert len(raw.encode()) == body["size"]
    doc = json.loads(raw)

    # Account: profile, teams with roles, tokens without secrets, security events.
    assert doc["account"]["profile"]["username"] == "the-owner"
    assert {"slug": "acme", "role": "owner"}.items() <= doc["account"]["teams"][0].items()
    tokens = doc["account"]["tokens"]
    assert tokens and all("token" not in t and "token_hash" not in t for t in tokens)
    assert {e["kind"] for e in doc["account"]["security_events"]} >= {"signup", "token_created"}
    with app.app_context():
        user = db.session.get(User, world.user_ids["owner"])
        assert user.password_hash not in raw and "password_hash" not in raw
    assert owner_token not in raw, "a token secret leaked into the export"

    # Teams: only the caller's own (not the outsider's team), with every version of the device.
    assert [t["slug"] for t in doc["teams"]] == ["acme"]
    project = doc["teams"][0]["projects"][0]
    [dev] = project["devices"]
    assert dev["id"] == device["id"]
    versions = dev["versions"]
    assert [v["message"] for v in versions] == ["third", "second", "first", "Create device"]
    assert versions[2]["configs"]["running-config"] == {"encoding": "text", "content": "hostname sw1\n"}
    assert versions[1]["configs"]["running-config"]["content"] == "hostname sw1-new\n"
    assert versions[0]["configs"]["raw"] == {"encoding": "text", "content": "\u00e9t\u00e9\n"}
    assert versions[0]["ports"][0]["name"] == "Gi1/0/1"
    assert versions[0]["author"] == "the-editor" and versions[0]["author_pseudonym"].startswith("user-")
    assert versions[0]["photos"] == []
    [network] = project["networks"]
    assert network["cidr"] == "10.0.0.0/24" and [v["vid"] for v in network["vlans"]] == [10, 20]
    [task] = project["tasks"]
    assert task["title"] == "Replace PSU" and task["created_by"] == "the-owner"
    assert task["comments"] == [{"author": "the-editor", "body": "ordered a spare",
                                 "created_at": task["comments"][0]["created_at"]}]


def test_binary_config_is_base64(world, app, client):
    device = world.create_device("sw1")
    with app.app_context():
        from app.models import Device
        from app.services.commit_index import sync_device
        from app.services.gitstore_bridge import author_for, locked_repo
        from gitstore import Changes

        row = db.session.get(Device, device["id"])
        with locked_repo(row) as repo:
            repo.commit_version(Changes(configs={"startup.bin": b"\xff\xfe\x00binary"}),
                                author_for(db.session.get(User, world.user_ids["editor"])), "binary upload")
        sync_device(row)
        db.session.commit()
    headers = world.headers["editor"]
    export_id = post_export(client, headers).get_json()["id"]
    assert wait_export(client, app, export_id, headers)["status"] == "done"
    doc = client.get(f"/api/v1/export/{export_id}/download", headers=headers).get_json()
    config = doc["teams"][0]["projects"][0]["devices"][0]["versions"][0]["configs"]["startup.bin"]
    assert config == {"encoding": "base64", "content": base64.b64encode(b"\xff\xfe\x00binary").decode()}


def test_other_users_export_is_404_and_status_transitions(world, app, client):
    world.create_device("sw1")
    headers = world.headers["owner"]
    with app.app_context():
        # Queued before any job runs: made through the service without a request, then committed
        # with jobs held back, so the queued state can be observed.
        user = db.session.get(User, world.user_ids["owner"])
        export = exports.start_export(user)
        db.session.info.pop("infratrace_jobs", None)
        db.session.commit()
        export_id = export.id
    seen = client.get(f"/api/v1/export/{export_id}", headers=headers).get_json()
    assert seen["status"] == "queued" and "download_url" not in seen and seen["created_at"].endswith("Z")
    assert_error(client.get(f"/api/v1/export/{export_id}/download", headers=headers), 404, "not_ready")
    # A second export while one is pending is refused.
    assert_error(post_export(client, headers), 409, "export_running")

    statuses = []
    with app.app_context():
        original = exports._progress

        def spy(eid: str) -> None:
            statuses.append(db.session.get(DataExport, eid).status)
            original(eid)

        exports._progress = spy
        try:
            exports.build_export(export_id)
        finally:
            exports._progress = original
        db.session.remove()
    assert statuses == ["running"], "the export is 'running' while devices are written"
    done = client.get(f"/api/v1/export/{export_id}", headers=headers).get_json()
    assert done["status"] == "done" and done["download_url"]

    # Other users: another member of the same team, and an outsider, both get 404.
    for role in ("admin", "outsider"):
        other = world.headers[role]
        assert_error(client.get(f"/api/v1/export/{export_id}", headers=other), 404)
        assert_error(client.get(f"/api/v1/export/{export_id}/download", headers=other), 404)
    assert_error(client.get("/api/v1/export/nope", headers=headers), 404)
    assert [e["id"] for e in client.get("/api/v1/export", headers=headers).get_json()["items"]] == [export_id]
    assert client.get("/api/v1/export", headers=world.headers["admin"]).get_json()["items"] == []


def test_failed_export_is_reported(world, app, client, monkeypatch):
    headers = world.headers["viewer"]

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "_document", broken)
    export_id = post_export(client, headers).get_json()["id"]
    drain(app)  # with RQ, a retry is scheduled later; the status is 'failed' after the first attempt
    body = client.get(f"/api/v1/export/{export_id}", headers=headers).get_json()
    assert body["status"] == "failed" and "download_url" not in body and body["error"]
    # A failed export no longer blocks a new one.
    assert post_export(client, headers).status_code == 202


def test_export_expires_after_seven_days(world, app, client):
    headers = world.headers["viewer"]
    export_id = post_export(client, headers).get_json()["id"]
    assert wait_export(client, app, export_id, headers)["status"] == "done"
    with app.app_context():
        export = db.session.get(DataExport, export_id)
        assert (export.expires_at - export.created_at).days == 7
        user = db.session.get(User, world.user_ids["viewer"])
        exports.get_export(user, export_id)
        with pytest.raises(NotFound):
            exports.get_export(user, export_id, now=export.expires_at)


def test_export_needs_authentication_and_write_scope(world, app, client, token_for):
    assert_error(client.post("/api/v1/export"), 401)
    read_only = bearer(token_for(world.user_ids["viewer"], ("read",)))
    assert_error(client.post("/api/v1/export", headers=read_only), 403, "insufficient_scope")
    assert_error(client.post("/api/v1/export", json={"all": True}, headers=world.headers["viewer"]), 422,
                 "unknown_field")


def test_export_from_the_settings_page(world, app, login):
    c = app.test_client()
    login("the-viewer", c=c)
    html = c.get("/settings/privacy").get_data(as_text=True)
    assert "No exports yet." in html
    response = c.post("/settings/privacy/export", data={"csrf_token": csrf_from(html)}, buffered=True)
    assert response.status_code == 302
    drain(app)
    html = c.get("/settings/privacy").get_data(as_text=True)
    assert 'data-status="done"' in html and "Download" in html
    link = re.search(r'href="(/api/v1/export/[0-9a-f]+/download)"', html).group(1)
    download = c.get(link)
    assert download.status_code == 200
    assert download.get_json()["account"]["profile"]["username"] == "the-viewer"
