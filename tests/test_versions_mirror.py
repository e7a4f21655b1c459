"""Every kind of ref move through the API schedules the mirror: versions, metadata edits and tags."""

from __future__ import annotations

from tests.client_support import bearer
from tests.jobs_support import device_row, make_device, make_team


def test_api_writes_and_tags_are_mirrored(env, make_user, token_for):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    client = env.app.test_client()
    headers = bearer(token_for(owner))
    response = client.post(f"/api/v1/devices/{device_id}/versions",
                           json={"message": "first config", "configs": {"running": "hostname sw1\n"}}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    response.close()  # as a WSGI server does: in-process jobs run once the response is closed
    env.drain()
    row = device_row(env.app, device_id)
    assert row.head_commit == response.get_json()["commit"]
    assert row.mirrored_head == row.head_commit, "an API version write must be mirrored"
    state = client.get(f"/api/v1/devices/{device_id}", headers=headers).get_json()["mirror"]
    assert state["in_sync"] is True and state["mirrored_head"] == row.head_commit and state["error"] is None
    tagged = client.post(f"/api/v1/devices/{device_id}/tags", json={"name": "golden", "rev": "HEAD"}, headers=headers)
    assert tagged.status_code == 201
    tagged.close()
    env.drain()
    store = env.store()
    try:
        import json

        manifest = json.loads(store.get_bytes(f"mirrors/{device_id}/manifest.json"))
    finally:
        store.close()
    assert any("golden" in ref for ref in manifest["refs"]), manifest["refs"]
