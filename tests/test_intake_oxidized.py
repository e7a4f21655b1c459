"""Oxidized's http output, exactly as it posts, and the curl-able PUT upload."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CommitRecord, Device
from tests.client_support import assert_error
from tests.device_support import world_fixture  # noqa: F401  (fixture)

IOS = """!
! Last configuration change at 10:10:10 UTC Mon Nov 30 2026 by admin
!
hostname sw1
interface Gi0/1
 description uplink
end
"""


def oxidized_request(username: str, token: str, node: str, config: str, msg: str | None = None,
                     user: str | None = None, email: str | None = None, group: str | None = None):
    """Body and headers as Oxidized's output/http.rb sends them: JSON.pretty_generate of msg, user,
    email, group, node, config; Content-Type application/json; Net::HTTP's basic_auth; its defaults."""
    body = json.dumps({"msg": msg, "user": user, "email": email, "group": group, "node": node, "config": config},
                      indent=2, ensure_ascii=False).encode("utf-8")
    credentials = base64.b64encode(f"{username}:{token}".encode()).decode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Basic {credentials}",
        "Accept-Encoding": "gzip;q=1.0,deflate;q=0.6,identity;q=0.3",
        "Accept": "*/*",
        "User-Agent": "Ruby",
    }
    return body, headers


@pytest.fixture
def editor(world, token_for):
    return "the-editor", token_for(world.user_ids["editor"])


def _post(world, credentials, node, config, project_id=None, **extra):
    body, headers = oxidized_request(*credentials, node=node, config=config, **extra)
    return world.client.post(f"/api/v1/projects/{project_id or world.project_id}/oxidized", data=body,
                             headers=headers)


def _versions(app, device_id: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(CommitRecord.id)).where(CommitRecord.device_id == device_id))


def test_oxidized_post_creates_device_and_ignores_volatile_lines(world, editor, app):
    first = _post(world, editor, "SW1.example.net", IOS, msg="update SW1", user="oxidized",
                  email="noc-person@example.com", group="core")
    assert first.status_code == 200, first.get_data(as_text=True)
    data = first.get_json()
    assert data["changed"] is True and data["commit"] and data["device"]
    device_id = data["device"]
    with app.app_context():
        device = db.session.get(Device, device_id)
        assert device.name == "SW1.example.net" and device.project_id == world.project_id
    assert _versions(app, device_id) == 2  # the device's creation, then the config

    stored = world.client.get(f"/api/v1/devices/{device_id}/versions/HEAD/files/configs/running-config",
                              headers=world.headers["viewer"])
    assert stored.get_data(as_text=True) == IOS
    head = world.client.get(f"/api/v1/devices/{device_id}/versions/HEAD", headers=world.headers["viewer"]).get_json()
    assert head["message"] == "update SW1"
    # Oxidized's user and email never enter the repo: the author is the token's pseudonym.
    assert head["author"]["username"] == "the-editor"
    assert head["author"]["pseudonym"].startswith("user-")

    # The same config again (node named in another case): 200, no version.
    again = _post(world, editor, "sw1.EXAMPLE.net", IOS)
    assert again.status_code == 200
    assert again.get_json() | {"web_url": None, "version_url": None} == data | {
        "changed": False, "web_url": None, "version_url": None}
    assert _versions(app, device_id) == 2

    # Only the Cisco timestamp line differs: 200, no version.
    later = IOS.replace("10:10:10 UTC Mon Nov 30 2026", "11:11:11 UTC Tue Dec 1 2026")
    noise = _post(world, editor, "sw1.example.net", later)
    assert noise.status_code == 200 and noise.get_json()["changed"] is False
    assert noise.get_json()["commit"] == data["commit"]
    assert _versions(app, device_id) == 2

    # A real change: 200 with a new version, which keeps the timestamp line as collected.
    real = later.replace("description uplink", "description uplink to core-2")
    changed = _post(world, editor, "sw1.example.net", real)
    assert changed.status_code == 200 and changed.get_json()["changed"] is True
    assert changed.get_json()["commit"] != data["commit"]
    assert _versions(app, device_id) == 3
    stored = world.client.get(f"/api/v1/devices/{device_id}/versions/HEAD/files/configs/running-config",
                              headers=world.headers["viewer"])
    assert stored.get_data(as_text=True) == real
    head = world.client.get(f"/api/v1/devices/{device_id}/versions/HEAD", headers=world.headers["viewer"]).get_json()
    assert head["message"] == "Oxidized: update sw1.example.net"  # msg was null

    # Nothing Oxidized sent about its user reached git.
    with app.app_context():
        repo = app.config["INFRATRACE"].repos_dir / db.session.get(Device, device_id).repo_path
    import subprocess

    log = subprocess.run(["git", "--git-dir", str(repo), "log", "--format=%an %ae %cn %ce %B"],
                         capture_output=True, text=True, check=True).stdout
    assert "noc-person" not in log and "oxidized " not in log.lower().replace("oxidized: update", "")


def test_oxidized_uses_the_projects_config_name(world, editor):
    response = world.client.put(f"/api/v1/projects/{world.project_id}/rules", json={"config_name": "oxidized/ios"},
                                headers=world.headers["admin"])
    assert response.status_code == 200, response.get_data(as_text=True)
    posted = _post(world, editor, "r1", "hostname r1\n")
    assert posted.status_code == 200 and posted.get_json()["path"] == "configs/oxidized/ios"
    device_id = posted.get_json()["device"]
    file = world.client.get(f"/api/v1/devices/{device_id}/versions/HEAD/files/configs/oxidized/ios",
                            headers=world.headers["viewer"])
    assert file.status_code == 200 and file.get_data(as_text=True) == "hostname r1\n"


def test_oxidized_refusals(world, editor, token_for, app):
    url = f"/api/v1/projects/{world.project_id}/oxidized"
    body, headers = oxidized_request(*editor, node="sw9", config=IOS)
    # Wrong token, unknown user, no credentials.
    bad = dict(headers, Authorization="Basic " + base64.b64encode(b"the-editor:itr_wrong").decode())
    assert_error(world.client.post(url, data=body, headers=bad), 401)
    other = dict(headers, Authorization="Basic " + base64.b64encode(
        f"the-viewer:{editor[1]}".encode()).decode())
    assert_error(world.client.post(url, data=body, headers=other), 401)
    assert_error(world.client.post(url, data=body, headers={"Content-Type": "application/json"}), 401)
    # A read-only token, a viewer, an outsider's project.
    read_only = token_for(world.user_ids["editor"], scopes=("read",))
    body_ro, headers_ro = oxidized_request("the-editor", read_only, node="sw9", config=IOS)
    assert_error(world.client.post(url, data=body_ro, headers=headers_ro), 403, "insufficient_scope")
    viewer = ("the-viewer", token_for(world.user_ids["viewer"]))
    assert_error(_post(world, viewer, "sw9", IOS), 403)
    assert_error(_post(world, editor, "sw9", IOS, project_id=world.other_project_id), 404)
    # Bad bodies: not JSON, missing node or config, wrong types, unknown fields, empty config.
    assert_error(world.client.post(url, data=b"{not json", headers=headers), 400)
    for payload, field in (({"config": IOS}, "node"), ({"node": "sw9"}, "config"),
                           ({"node": 5, "config": IOS}, "node"), ({"node": "sw9", "config": ["x"]}, "config"),
                           ({"node": "sw9", "config": IOS, "extra": 1}, "extra"),
                           ({"node": "", "config": IOS}, "node"), ({"node": "sw9", "config": "  \n"}, "config"),
                           ({"node": "x" * 101, "config": IOS}, "node")):
        response = world.client.post(url, data=json.dumps(payload), headers=headers)
        error = assert_error(response, 422)
        assert error["field"] == field, (payload, error)
    with app.app_context():
        assert db.session.scalar(select(func.count(Device.id)).where(Device.name == "sw9")) == 0


def test_oxidized_cannot_create_beyond_the_plan_or_write_an_archived_device(world, editor, app, monkeypatch):
    from app.services import plans

    created = _post(world, editor, "edge-1", IOS).get_json()
    with app.app_context():
        plan = db.session.get(Device, created["device"]).team.plan
    # Limits apply only when billing is on (with no Stripe key every team is unlimited).
    monkeypatch.setitem(app.config, "INFRATRACE", app.config["INFRATRACE"].with_changes(stripe_secret_key="sk_test"))
    monkeypatch.setitem(plans.PLAN_LIMITS, plan, {"devices": 1, "members": None})
    error = assert_error(_post(world, editor, "edge-2", IOS), 402, "plan_limit")
    assert "devices" in error["message"]
    # An existing device still takes its configs.
    assert _post(world, editor, "EDGE-1", IOS.replace("uplink", "up")).status_code == 200
    world.client.patch(f"/api/v1/devices/{created['device']}", json={"archived": True},
                       headers=world.headers["editor"])
    assert_error(_post(world, editor, "edge-1", IOS.replace("uplink", "other")), 409, "archived")


def test_put_upload_creates_device_and_answers_201_then_200(world, editor):
    url = f"/api/v1/projects/{world.project_id}/devices/by-name/fw-1/configs/running-config"
    raw = b"hostname fw-1\n\xff\xfe binary tail\n"
    credentials = base64.b64encode(f"{editor[0]}:{editor[1]}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}", "Content-Type": "application/octet-stream"}
    first = world.client.put(url + "?message=nightly%20backup", data=raw, headers=headers)
    assert first.status_code == 201, first.get_data(as_text=True)
    device_id = first.get_json()["device"]
    same = world.client.put(url, data=raw, headers=headers)
    assert same.status_code == 200 and same.get_json()["changed"] is False
    changed = world.client.put(url, data=raw + b"ntp server 10.0.0.1\n",
                               headers=dict(headers, **{"X-InfraTrace-Message": "from cron"}))
    assert changed.status_code == 201
    stored = world.client.get(f"/api/v1/devices/{device_id}/versions/HEAD/files/configs/running-config",
                              headers=world.headers["viewer"])
    assert stored.data == raw + b"ntp server 10.0.0.1\n"
    history = world.client.get(f"/api/v1/devices/{device_id}/versions", headers=world.headers["viewer"]).get_json()
    assert [item["message"] for item in history["items"][:2]] == ["from cron", "nightly backup"]
    # Bearer works too; bad config names, empty bodies, too-long messages are refused.
    ok = world.client.put(url.replace("running-config", "startup-config"), data=b"x\n", headers=world.headers["editor"])
    assert ok.status_code == 201
    base = f"/api/v1/projects/{world.project_id}/devices/by-name/fw-1/configs/"
    assert_error(world.client.put(base + "a/../b", data=b"x\n", headers=headers), 422)
    assert_error(world.client.put(url, data=b"", headers=headers), 422, "empty_config")
    assert_error(world.client.put(url + "?message=" + "m" * 10_001, data=b"y\n", headers=headers), 422)
    assert_error(world.client.put(url, data=b"y\n", headers=world.headers["viewer"]), 403)


def test_too_large_configs_are_413_on_both_doors(world, app, editor):
    limit = app.config["INFRATRACE"].max_config_bytes
    url = f"/api/v1/projects/{world.project_id}/devices/by-name/big/configs/running-config"
    assert_error(world.client.put(url, data=b"x" * (limit + 1), headers=world.headers["editor"]), 413)
    assert_error(_post(world, editor, "big", "\u00e9" * (limit // 2 + 1)), 413)
    with app.app_context():
        assert db.session.scalar(select(func.count(Device.id)).where(Device.name == "big")) == 0


def test_failed_basic_logins_are_rate_limited_like_the_login_form(world, editor):
    url = f"/api/v1/projects/{world.project_id}/oxidized"
    body, headers = oxidized_request("the-editor", "itr_not-a-token", node="sw1", config=IOS)
    statuses = [world.client.post(url, data=body, headers=headers).status_code for _ in range(8)]
    assert statuses[0] == 401 and statuses[-1] == 429
    limited = world.client.post(url, data=body, headers=headers)
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
