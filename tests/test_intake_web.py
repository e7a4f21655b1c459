"""The intake rules page: preview on a device's history, then save; refusals shown on the form."""

from __future__ import annotations

from tests.client_support import csrf_from
from tests.device_support import world_fixture  # noqa: F401  (fixture)


def _page(client, project_id: str) -> str:
    response = client.get(f"/projects/{project_id}/rules")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_preview_then_save_from_the_page(world, client, login):
    device = world.create_device("edge-1", custom_fields={"platform": "ios"})
    world.client.put(f"/api/v1/projects/{world.project_id}/rules", json={"noise_presets": "off"},
                     headers=world.headers["admin"])
    for stamp in ("T1", "T2"):
        world.write(device["id"], configs={"running-config": f"! Last configuration change at {stamp}\n"
                                                             "! uptime 1\nhostname e\n"})
    assert login("the-admin").status_code == 302
    html = _page(client, world.project_id)
    assert "Intake rules" in html and "Cisco IOS / IOS-XE" in html and "edge-1" in html
    form = {"csrf_token": csrf_from(html), "platform": "auto", "noise_presets": "all", "redaction": "y",
            "config_name": "running-config", "rules": "strip: ^! uptime ", "device": device["id"],
            "action": "preview"}
    preview = client.post(f"/projects/{world.project_id}/rules", data=form)
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "3 versions" in text and "2 of 3 versions kept, 1 skipped, 2 lines stripped" in text
    assert "skipped (ignored)" in text and "! uptime 1" in text
    # The preview saved nothing.
    rules = world.client.get(f"/api/v1/projects/{world.project_id}/rules", headers=world.headers["viewer"])
    assert rules.get_json()["noise_presets"] == "off" and rules.get_json()["rules"] == []

    saved = client.post(f"/projects/{world.project_id}/rules", data={**form, "action": "save"})
    assert saved.status_code == 302
    body = world.client.get(f"/api/v1/projects/{world.project_id}/rules", headers=world.headers["viewer"]).get_json()
    assert body["noise_presets"] == "all" and body["rules"] == [
        {"kind": "strip", "pattern": "^! uptime ", "description": ""}]
    assert "strip: ^! uptime " in _page(client, world.project_id)


def test_bad_rules_are_shown_on_the_form_and_editors_cannot_save(world, client, login):
    login("the-admin")
    html = _page(client, world.project_id)
    form = {"csrf_token": csrf_from(html), "platform": "auto", "noise_presets": "all", "redaction": "y",
            "config_name": "running-config", "rules": "strip: ([", "device": "", "action": "save"}
    response = client.post(f"/projects/{world.project_id}/rules", data=form)
    assert response.status_code == 422 and "not a valid regular expression" in response.get_data(as_text=True)
    response = client.post(f"/projects/{world.project_id}/rules", data={**form, "rules": "drop everything"})
    assert response.status_code == 422 and "Line 1" in response.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(html)})

    login("the-editor")
    html = _page(client, world.project_id)
    assert "Saving rules needs the admin role" in html
    response = client.post(f"/projects/{world.project_id}/rules",
                           data={**form, "csrf_token": csrf_from(html), "rules": "strip: x"})
    assert response.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(html)})
    login("outsider")
    assert client.get(f"/projects/{world.project_id}/rules").status_code == 404
