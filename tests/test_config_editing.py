"""Editing a config in the browser: line endings kept, preview, refused submits keep the text,
stale edits shown as conflicts."""

from __future__ import annotations

import base64

from app.services.editing import match_line_endings
from tests.client_support import csrf_from
from tests.device_support import world_fixture  # noqa: F401  (fixture)

CONFIG = "".join(f"interface Gi1/0/{n}\n description port {n}\n!\n" for n in range(1, 300))


def _edit_page(client, device_id: str) -> str:
    response = client.get(f"/devices/{device_id}/configs/edit?name=run")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _parent(html: str) -> str:
    return html.split('name="parent" type="hidden" value="')[1].split('"')[0]


def test_match_line_endings():
    assert match_line_endings(b"a\nb\n", b"a\r\nc", True) == b"a\nc\n"
    assert match_line_endings(b"a\r\nb\r\n", b"a\nc\n", False) == b"a\r\nc\r\n"
    assert match_line_endings(None, b"a\r\nb\r\n", True) == b"a\nb\n"
    assert match_line_endings(None, b"a\r\nb\r\n", False) == b"a\r\nb\r\n"  # a new uploaded file: as is
    assert match_line_endings(b"a\r\nb\n", b"x\r\n", True) == b"x\r\n"  # mixed: left as sent


def test_pasted_one_line_change_is_a_one_line_diff(world, client, login):
    device = world.create_device("sw1")
    world.write(device["id"], configs={"run": CONFIG})
    assert login("the-editor").status_code == 302
    html = _edit_page(client, device["id"])
    pasted = CONFIG.replace("port 150\n", "port 150 uplink\n").replace("\n", "\r\n")
    response = client.post(f"/devices/{device['id']}/configs/edit",
                           data={"csrf_token": csrf_from(html), "config_name": "run", "content": pasted,
                                 "message": "uplink", "parent": _parent(html), "action": "save"})
    assert response.status_code == 302
    body = world.client.get(f"/api/v1/devices/{device['id']}/diff", headers=world.headers["viewer"]).get_json()
    assert [(f["additions"], f["deletions"]) for f in body["files"]] == [(1, 1)]
    raw = world.client.get(f"/api/v1/devices/{device['id']}/versions/HEAD/files/configs/run",
                           headers=world.headers["viewer"])
    assert b"\r" not in raw.data


def test_preview_then_refused_submit_keeps_the_text(world, client, login):
    device = world.create_device("sw2")
    world.write(device["id"], configs={"run": CONFIG})
    assert login("the-editor").status_code == 302
    html = _edit_page(client, device["id"])
    token, parent = csrf_from(html), _parent(html)
    edited = CONFIG.replace("port 7\n", "port 7 to-core\n")
    preview = client.post(f"/devices/{device['id']}/configs/edit",
                          data={"csrf_token": token, "config_name": "run", "content": edited, "message": "x",
                                "parent": parent, "action": "preview"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Preview: what saving changes" in page
    assert "port 7<mark> to-core</mark>" in page and "port 7 to-core" in page.split("<textarea")[1]
    assert world.client.get(f"/api/v1/devices/{device['id']}/versions",
                            headers=world.headers["viewer"]).get_json()["items"][0]["commit"] == parent
    refused = client.post(f"/devices/{device['id']}/configs/edit",
                          data={"csrf_token": token, "config_name": "run", "content": edited, "message": "",
                                "parent": parent, "action": "save"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'data-field="message">A message is required.' in page
    assert "port 7 to-core" in page.split("<textarea")[1].split("</textarea>")[0]
    # The device page's own upload form answers the same way.
    refused = client.post(f"/devices/{device['id']}/versions",
                          data={"csrf_token": token, "config_name": "run", "content": edited, "message": ""})
    assert refused.status_code == 422 and "port 7 to-core" in refused.get_data(as_text=True)
    bad_name = client.post(f"/devices/{device['id']}/configs/edit",
                           data={"csrf_token": token, "config_name": "../x", "content": edited, "message": "m",
                                 "parent": parent, "action": "save"})
    assert bad_name.status_code == 422 and "port 7 to-core" in bad_name.get_data(as_text=True)
    assert 'data-field="config_name"' in bad_name.get_data(as_text=True)


def test_stale_edit_shows_the_conflict(world, client, login):
    device = world.create_device("sw3")
    world.write(device["id"], configs={"run": CONFIG})
    assert login("the-editor").status_code == 302
    html = _edit_page(client, device["id"])
    world.write(device["id"], configs={"run": CONFIG.replace("port 9\n", "port 9 meanwhile\n")})
    mine = CONFIG.replace("port 2\n", "port 2 mine\n")
    response = client.post(f"/devices/{device['id']}/configs/edit",
                           data={"csrf_token": csrf_from(html), "config_name": "run", "content": mine,
                                 "message": "mine", "parent": _parent(html), "action": "save"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone saved a new version while you were editing" in page
    assert "port 9<mark> meanwhile</mark>" in page and "port 2 mine" in page.split("<textarea")[1]
    assert _parent(page) != _parent(html)  # saving again is a deliberate overwrite


def test_crlf_config_stays_crlf_and_bad_parent_is_a_field_error(world, client, login):
    device = world.create_device("sw4")
    world.write(device["id"], configs_base64={"run": base64.b64encode(b"a\r\nb\r\n").decode()})
    assert login("the-editor").status_code == 302
    html = _edit_page(client, device["id"])
    response = client.post(f"/devices/{device['id']}/configs/edit",
                           data={"csrf_token": csrf_from(html), "config_name": "run", "content": "a\nc",
                                 "message": "m", "parent": _parent(html), "action": "save"})
    assert response.status_code == 302
    raw = world.client.get(f"/api/v1/devices/{device['id']}/versions/HEAD/files/configs/run",
                           headers=world.headers["viewer"])
    assert raw.data == b"a\r\nc\r\n"
    bad = client.post(f"/devices/{device['id']}/configs/edit",
                      data={"csrf_token": csrf_from(html), "config_name": "run", "content": "z",
                            "message": "m", "parent": "nope", "action": "save"})
    assert bad.status_code == 422 and 'data-field="parent"' in bad.get_data(as_text=True)
    assert client.get(f"/devices/{device['id']}/configs/edit").status_code == 200


def test_viewers_cannot_open_the_editor(world, client, login):
    device = world.create_device("sw5")
    assert login("the-viewer").status_code == 302
    assert client.get(f"/devices/{device['id']}/configs/edit").status_code == 403
