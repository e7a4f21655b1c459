"""Photo upload, listing and removal through the API: content checks, location removal, versions, roles."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess

import pytest
from PIL import Image

from app.extensions import db
from app.models import Device
from app.storage.blobs import blob_path
from tests.client_support import assert_error
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.photo_support import GPS, MIME, bomb_png, gps_exif, image_bytes, stored_exif, upload


@pytest.fixture
def device(world) -> dict:
    return world.create_device("sw1")


def _photos_json(app, device_id: str, rev: str = "main") -> list[dict]:
    with app.app_context():
        repo = app.config["INFRATRACE"].repos_dir / db.session.get(Device, device_id).repo_path
    out = subprocess.run(["git", "--git-dir", str(repo), "show", f"{rev}:photos.json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def _cached(app, sha: str) -> bytes:
    return blob_path(app.config["INFRATRACE"].data_dir, sha).read_bytes()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_upload_each_format_commits_the_reference(world, client, app, device, fmt):
    data = image_bytes(fmt, size=(400, 300))
    response = upload(client, device["id"], world.headers["editor"], data, f"../../etc/rack {fmt}.img",
                      caption="Rack A, front")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    sha = hashlib.sha256(data).hexdigest()
    photo = body["photo"]
    assert photo["sha256"] == sha, "nothing to strip: the bytes are stored as sent"
    assert photo["filename"] == f"rack {fmt}.img", "no path survives"
    assert (photo["content_type"], photo["size"], photo["width"], photo["height"]) == (MIME[fmt], len(data), 400, 300)
    assert photo["caption"] == "Rack A, front"
    assert len(body["commit"]) == 40 and body["parent"] == device["head_commit"] and body["created_at"].endswith("Z")
    reference = {k: photo[k] for k in ("sha256", "filename", "content_type", "size", "caption", "width", "height")}
    assert _photos_json(app, device["id"]) == [reference]
    assert _cached(app, sha) == data, "content-addressed in the local blob cache"
    history = client.get(f"/api/v1/devices/{device['id']}/versions", headers=world.headers["viewer"]).get_json()
    assert history["items"][0]["message"] == f"Add photo rack {fmt}.img"
    listed = client.get(f"/api/v1/devices/{device['id']}/photos", headers=world.headers["viewer"]).get_json()
    assert [p["sha256"] for p in listed["items"]] == [sha] and listed["commit"] == body["commit"]


def test_rejections_are_by_content(world, client, device, app):
    h = world.headers["editor"]
    jpeg = image_bytes("JPEG")
    gif = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(gif, "GIF")
    cases = [
        (b"hello, I am text\n" * 20, "notes.jpg", "unsupported_image"),
        (gif.getvalue(), "anim.png", "unsupported_image"),
        (jpeg[: len(jpeg) // 2], "cut.jpg", "unsupported_image"),
        (bomb_png(), "bomb.png", "image_too_large"),
        (b"", "empty.jpg", "unsupported_image"),
    ]
    for data, name, code in cases:
        response = upload(client, device["id"], h, data, name)
        assert_error(response, 422, code)
        assert response.get_json()["error"]["field"] == "file"
    versions = client.get(f"/api/v1/devices/{device['id']}/versions", headers=h).get_json()["items"]
    assert len(versions) == 1, "no rejected upload made a version"


def test_size_limit_is_413(world, client, device, app, monkeypatch):
    config = app.config["INFRATRACE"]
    assert config.max_photo_bytes == 20 * 1024 * 1024, "the documented default"
    data = image_bytes("PNG", size=(300, 300))
    monkeypatch.setitem(app.config, "INFRATRACE", config.with_changes(max_photo_bytes=len(data) - 1))
    assert_error(upload(client, device["id"], world.headers["editor"], data, "big.png"), 413, "too_large")
    monkeypatch.setitem(app.config, "INFRATRACE", config.with_changes(max_photo_bytes=len(data)))
    assert upload(client, device["id"], world.headers["editor"], data, "big.png").status_code == 201


def test_default_size_limit_refuses_20_mib_and_one_byte(world, client, device):
    data = image_bytes("JPEG", size=(64, 64))
    data += b"\0" * (20 * 1024 * 1024 + 1 - len(data))
    assert_error(upload(client, device["id"], world.headers["editor"], data, "huge.jpg"), 413, "too_large")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_is_removed_by_default_and_kept_on_request(world, client, app, device, fmt):
    data = image_bytes(fmt, exif=gps_exif())
    assert GPS in stored_exif(data)
    response = upload(client, device["id"], world.headers["editor"], data, "geo.img")
    assert response.status_code == 201
    body = response.get_json()
    assert body["location_removed"] is True
    stored = _cached(app, body["photo"]["sha256"])
    assert body["photo"]["sha256"] == hashlib.sha256(stored).hexdigest() != hashlib.sha256(data).hexdigest()
    exif = stored_exif(stored)
    assert GPS not in exif and not exif.get_ifd(GPS), "no GPS IFD in the stored bytes"
    assert exif[0x0112] == 6 and exif[0x010F] == "RackCam", "orientation and the other tags are kept"
    assert b"RackCam" in stored and len(stored) < len(data)
    with Image.open(io.BytesIO(stored)) as a, Image.open(io.BytesIO(data)) as b:
        assert a.tobytes() == b.tobytes(), "pixels untouched: only the metadata was edited"
    served = client.get(f"/api/v1/devices/{device['id']}/photos/{body['photo']['sha256']}",
                        headers=world.headers["viewer"])
    assert GPS not in stored_exif(served.data)

    kept = upload(client, device["id"], world.headers["editor"], data, "geo-kept.img", strip_location="false")
    assert kept.status_code == 201 and kept.get_json()["location_removed"] is False
    sha = kept.get_json()["photo"]["sha256"]
    assert sha == hashlib.sha256(data).hexdigest()
    gps = stored_exif(_cached(app, sha)).get_ifd(GPS)
    assert gps[2] == (52.0, 22.0, 7.5) and gps[1] == "N"


def test_same_photo_twice_changes_nothing(world, client, app, device):
    data = image_bytes("PNG")
    first = upload(client, device["id"], world.headers["editor"], data, "a.png", caption="one")
    again = upload(client, device["id"], world.headers["editor"], data, "b.png", caption="two")
    assert again.status_code == 200
    body = again.get_json()
    assert body["changed"] is False and body["commit"] == first.get_json()["commit"]
    assert body["photo"]["filename"] == "a.png" and body["photo"]["caption"] == "one"
    assert len(_photos_json(app, device["id"])) == 1


def test_bad_fields_are_422_naming_the_field(world, client, device):
    h = world.headers["editor"]
    url = f"/api/v1/devices/{device['id']}/photos"
    data = image_bytes("PNG")
    assert_error(upload(client, device["id"], h, data, "a.png", colour="red"), 422, "unknown_field")
    assert_error(upload(client, device["id"], h, data, "a.png", strip_location="maybe"), 422, "invalid")
    assert_error(upload(client, device["id"], h, data, "a.png", caption="x" * 1001), 422, "too_long")
    assert_error(upload(client, device["id"], h, data, "a.png", parent="f" * 40), 422, "unknown_parent")
    assert_error(client.post(url, data={"caption": "no file"}, headers=h, content_type="multipart/form-data"),
                 422, "required")
    assert_error(client.post(url, json={"file": "x"}, headers=h), 422, "required")
    stale = upload(client, device["id"], h, data, "a.png", parent=device["head_commit"])
    assert stale.status_code == 201
    assert_error(upload(client, device["id"], h, image_bytes("JPEG"), "b.jpg", parent=device["head_commit"]),
                 409, "conflict")


def test_removal_is_a_new_version_and_old_versions_keep_the_bytes(world, client, app, device):
    h = world.headers["editor"]
    keep = upload(client, device["id"], h, image_bytes("PNG", color=(1, 1, 1)), "keep.png").get_json()
    gone = upload(client, device["id"], h, image_bytes("JPEG", color=(9, 9, 9)), "gone.jpg").get_json()
    sha = gone["photo"]["sha256"]
    removed = client.delete(f"/api/v1/devices/{device['id']}/photos/{sha}", headers=h)
    assert removed.status_code == 200, removed.get_data(as_text=True)
    body = removed.get_json()
    assert body["parent"] == gone["commit"] and body["photo"]["sha256"] == sha
    assert [p["sha256"] for p in _photos_json(app, device["id"])] == [keep["photo"]["sha256"]]
    assert [p["sha256"] for p in _photos_json(app, device["id"], gone["commit"])] == [keep["photo"]["sha256"], sha]
    versions = client.get(f"/api/v1/devices/{device['id']}/versions", headers=h).get_json()["items"]
    assert versions[0]["message"] == "Remove photo gone.jpg"
    old = client.get(f"/api/v1/devices/{device['id']}/photos?rev={gone['commit']}", headers=h).get_json()
    assert sha in [p["sha256"] for p in old["items"]]
    now = client.get(f"/api/v1/devices/{device['id']}/photos", headers=h).get_json()
    assert sha not in [p["sha256"] for p in now["items"]]
    assert blob_path(app.config["INFRATRACE"].data_dir, sha).is_file(), "bytes are never deleted on removal"
    for query in (f"?rev={gone['commit']}", ""):
        served = client.get(f"/api/v1/devices/{device['id']}/photos/{sha}{query}", headers=world.headers["viewer"])
        assert served.status_code == 200 and hashlib.sha256(served.data).hexdigest() == sha
    assert_error(client.get(f"/api/v1/devices/{device['id']}/photos/{sha}?rev=HEAD", headers=h), 404, "not_found")
    assert_error(client.delete(f"/api/v1/devices/{device['id']}/photos/{sha}", headers=h), 404, "not_found")
    diff = client.get(f"/api/v1/devices/{device['id']}/diff?from={gone['commit']}&to=HEAD", headers=h).get_json()
    assert [p["sha256"] for p in diff["photos"]["removed"]] == [sha] and diff["photos"]["added"] == []


def test_viewer_reads_but_cannot_upload_or_remove(world, client, device):
    first = upload(client, device["id"], world.headers["editor"], image_bytes("PNG"), "a.png")
    sha = first.get_json()["photo"]["sha256"]
    viewer = world.headers["viewer"]
    assert_error(upload(client, device["id"], viewer, image_bytes("JPEG"), "b.jpg"), 403, "forbidden")
    assert_error(client.delete(f"/api/v1/devices/{device['id']}/photos/{sha}", headers=viewer), 403, "forbidden")
    assert client.get(f"/api/v1/devices/{device['id']}/photos", headers=viewer).status_code == 200
    assert client.get(f"/api/v1/devices/{device['id']}/photos/{sha}", headers=viewer).status_code == 200
    assert client.get(f"/api/v1/devices/{device['id']}/photos/{sha}/thumbnail", headers=viewer).status_code == 200
    for index, role in enumerate(("editor", "admin", "owner")):
        assert upload(client, device["id"], world.headers[role], image_bytes("PNG", color=(index, 0, 0)),
                      f"{role}.png").status_code == 201


def test_archived_device_refuses_uploads_and_removals(world, client, device):
    h = world.headers["editor"]
    sha = upload(client, device["id"], h, image_bytes("PNG"), "a.png").get_json()["photo"]["sha256"]
    assert client.post(f"/api/v1/devices/{device['id']}/archive", headers=world.headers["admin"]).status_code == 200
    assert_error(upload(client, device["id"], h, image_bytes("JPEG"), "b.jpg"), 409, "archived")
    assert_error(client.delete(f"/api/v1/devices/{device['id']}/photos/{sha}", headers=h), 409, "archived")
    assert client.get(f"/api/v1/devices/{device['id']}/photos/{sha}", headers=h).status_code == 200


def test_serving_headers(world, client, device):
    data = image_bytes("WEBP")
    sha = upload(client, device["id"], world.headers["editor"], data, "Rack ü;1.webp").get_json()["photo"]["sha256"]
    response = client.get(f"/api/v1/devices/{device['id']}/photos/{sha}", headers=world.headers["viewer"])
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition == "inline; filename=\"Rack _1.webp\"; filename*=UTF-8''Rack%20%C3%BC1.webp"
    assert "immutable" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    again = client.get(f"/api/v1/devices/{device['id']}/photos/{sha}",
                       headers={**world.headers["viewer"], "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
