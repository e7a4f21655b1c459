"""Device pages: list, create, detail with configs and history, upload, tag, compare, edit, delete."""

from __future__ import annotations

import io

from app.extensions import db
from app.models import Device
from tests.client_support import csrf_from
from tests.device_support import world_fixture  # noqa: F401  (fixture)


def _login(client, login, name: str):
    response = login(name)
    assert response.status_code == 302


def test_device_pages_flow(world, client, login, app):
    _login(client, login, "the-editor")
    empty = client.get(f"/projects/{world.project_id}/devices")
    assert empty.status_code == 200 and "No devices yet" in empty.get_data(as_text=True)

    page = client.get(f"/projects/{world.project_id}/devices/new")
    token = csrf_from(page.get_data(as_text=True))
    bad = client.post(f"/projects/{world.project_id}/devices/new",
                      data={"csrf_token": token, "name": "r1", "status": "active", "management_ips": "10.0.0.999"})
    assert bad.status_code == 422 and "not a valid IPv4 or IPv6" in bad.get_data(as_text=True)
    created = client.post(f"/projects/{world.project_id}/devices/new",
                          data={"csrf_token": token, "name": "r1", "vendor": "Juniper", "status": "active",
                                "management_ips": "10.0.0.1, 2001:db8::1", "custom_fields": "rack=A1"})
    assert created.status_code == 302
    with app.app_context():
        device_id = db.session.query(Device).one().id
    listing = client.get(f"/projects/{world.project_id}/devices").get_data(as_text=True)
    assert "r1" in listing and "Juniper" in listing
    overview = client.get(f"/projects/{world.project_id}").get_data(as_text=True)
    assert f"/devices/{device_id}" in overview and "No devices yet" not in overview

    detail = client.get(f"/devices/{device_id}")
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "git clone http://localhost/git/acme/core/r1.git" in html
    assert "git config user.email user-" in html and "@users.noreply.infratrace" in html
    token = csrf_from(html)
    response = client.post(f"/devices/{device_id}/versions",
                           data={"csrf_token": token, "config_name": "running.conf",
                                 "content": "set system host-name r1\r\n<script>alert(1)</script>\r\n",
                                 "message": "first config"})
    assert response.status_code == 302
    response = client.post(f"/devices/{device_id}/versions",
                           data={"csrf_token": token, "config_name": "running.conf", "message": "from a file",
                                 "upload": (io.BytesIO(b"set system host-name r1-new\n"), "r1.conf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    html = client.get(f"/devices/{device_id}").get_data(as_text=True)
    assert "r1-new" in html and "from a file" in html and "first config" in html
    assert "<script>alert(1)</script>" not in html
    assert 'class="hl"' in html

    assert client.post(f"/devices/{device_id}/tags", data={"csrf_token": token, "name": "golden", "rev": "HEAD"}
                       ).status_code == 302
    assert "golden" in client.get(f"/devices/{device_id}").get_data(as_text=True)

    filtered = client.get(f"/devices/{device_id}?path=configs").get_data(as_text=True)
    assert "first config" in filtered and "Create device" not in filtered

    compare = client.get(f"/devices/{device_id}/compare")
    text = compare.get_data(as_text=True)
    assert compare.status_code == 200 and "r1-new" in text and 'class="num"' in text
    split = client.get(f"/devices/{device_id}/compare?view=split").get_data(as_text=True)
    assert "diff split" in split
    patch = client.get(f"/devices/{device_id}/compare.patch?from=HEAD&to=HEAD")
    assert patch.status_code == 200 and patch.headers["X-Content-Type-Options"] == "nosniff"
    version = client.get(f"/devices/{device_id}/versions/golden")
    assert version.status_code == 200 and "from a file" in version.get_data(as_text=True)
    assert client.get(f"/devices/{device_id}/versions/nope").status_code == 404
    raw = client.get(f"/devices/{device_id}/raw/HEAD/configs/running.conf")
    assert raw.data == b"set system host-name r1-new\n"

    edit = client.get(f"/devices/{device_id}/edit")
    assert "10.0.0.1, 2001:db8::1" in edit.get_data(as_text=True)
    saved = client.post(f"/devices/{device_id}/edit",
                        data={"csrf_token": token, "name": "r1", "vendor": "Juniper", "model": "MX204",
                              "status": "active", "management_ips": "10.0.0.1"})
    assert saved.status_code == 302
    assert "MX204" in client.get(f"/devices/{device_id}").get_data(as_text=True)

    # Editors cannot delete; admins can, and the repo goes with the row.
    client.post(f"/devices/{device_id}/delete", data={"csrf_token": token})
    with app.app_context():
        device = db.session.get(Device, device_id)
        assert device is not None
        repo = app.config["INFRATRACE"].repos_dir / device.repo_path
    client.post("/logout", data={"csrf_token": token})
    _login(client, login, "the-admin")
    token = csrf_from(client.get(f"/devices/{device_id}").get_data(as_text=True))
    assert client.post(f"/devices/{device_id}/delete", data={"csrf_token": token}).status_code == 302
    assert not repo.exists()
    assert client.get(f"/devices/{device_id}").status_code == 404


def test_device_pages_are_404_for_other_teams(world, client, login):
    device = world.create_device("hidden")
    _login(client, login, "outsider")
    for path in (f"/devices/{device['id']}", f"/devices/{device['id']}/compare",
                 f"/projects/{world.project_id}/devices", f"/devices/{device['id']}/versions/HEAD"):
        assert client.get(path).status_code == 404


def test_viewer_sees_no_write_forms(world, client, login):
    device = world.create_device("ro")
    _login(client, login, "the-viewer")
    html = client.get(f"/devices/{device['id']}").get_data(as_text=True)
    assert "Upload a new config version" not in html and "Delete device" not in html
