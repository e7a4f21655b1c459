"""Photo pages: the gallery and its empty state, upload with the location choice, removal with
confirmation, the compare page's photo diff with thumbnails, and what a viewer may do."""

from __future__ import annotations

import io
import re

from tests.client_support import csrf_from
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.photo_support import GPS, gps_exif, image_bytes, stored_exif


def _post_photo(client, device_id: str, token: str, data: bytes, name: str, strip: bool = True, caption: str = ""):
    form = {"csrf_token": token, "caption": caption, "file": (io.BytesIO(data), name)}
    if strip:
        form["strip_location"] = "y"
    return client.post(f"/devices/{device_id}/photos", data=form, content_type="multipart/form-data")


def test_gallery_upload_remove_and_compare(world, client, login, app):
    device = world.create_device("sw1")
    assert login("the-editor").status_code == 302
    page = client.get(f"/devices/{device['id']}").get_data(as_text=True)
    assert "No photos yet." in page
    assert re.search(r'<input type="checkbox" name="strip_location" value="y" checked> Remove location data '
                     r'\(recommended\)', page), "the privacy choice is visible and on by default"
    token = csrf_from(page)
    geo = image_bytes("JPEG", exif=gps_exif())
    response = _post_photo(client, device["id"], token, geo, "front.jpg", caption="<b>Front</b> of rack")
    assert response.status_code == 302
    page = client.get(f"/devices/{device['id']}").get_data(as_text=True)
    assert "its location data was removed" in page
    assert "No photos yet." not in page and "&lt;b&gt;Front&lt;/b&gt; of rack" in page
    listed = client.get(f"/api/v1/devices/{device['id']}/photos").get_json()["items"]
    stripped = listed[0]["sha256"]
    assert f'src="/devices/{device["id"]}/photos/{stripped}/thumbnail"' in page
    original = client.get(f"/devices/{device['id']}/photos/{stripped}")
    assert original.status_code == 200 and GPS not in stored_exif(original.data)
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    thumb = client.get(f"/devices/{device['id']}/photos/{stripped}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"

    # Unticked: the location is kept, as the person chose.
    assert _post_photo(client, device["id"], token, geo, "geo.jpg", strip=False).status_code == 302
    items = client.get(f"/api/v1/devices/{device['id']}/photos").get_json()["items"]
    kept = items[1]["sha256"]
    assert GPS in stored_exif(client.get(f"/devices/{device['id']}/photos/{kept}").data)

    # Not an image: a message, no version.
    before = client.get(f"/api/v1/devices/{device['id']}/versions").get_json()["items"][0]["commit"]
    assert _post_photo(client, device["id"], token, b"not an image", "x.jpg").status_code == 302
    assert "Photo not added" in client.get(f"/devices/{device['id']}").get_data(as_text=True)
    assert client.get(f"/api/v1/devices/{device['id']}/versions").get_json()["items"][0]["commit"] == before

    # Remove asks first (data-confirm) and makes a new version.
    page = client.get(f"/devices/{device['id']}").get_data(as_text=True)
    action = f'action="/devices/{device["id"]}/photos/{kept}/delete"'
    assert f'{action} class="inline" data-confirm="Remove the photo' in page
    assert client.post(f"/devices/{device['id']}/photos/{kept}/delete", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/devices/{device['id']}/photos/{kept}/delete", data={}).status_code == 400, "CSRF"
    items = client.get(f"/api/v1/devices/{device['id']}/photos").get_json()["items"]
    assert [p["sha256"] for p in items] == [stripped]

    compare = client.get(f"/devices/{device['id']}/compare?from={before}&to=HEAD").get_data(as_text=True)
    assert "− removed: geo.jpg" in compare
    assert f'/devices/{device["id"]}/photos/{kept}/thumbnail?rev={before}' in compare
    first = client.get(f"/api/v1/devices/{device['id']}/versions").get_json()["items"][-1]["commit"]
    compare = client.get(f"/devices/{device['id']}/compare?from={first}&to={before}").get_data(as_text=True)
    assert "+ added: front.jpg" in compare and "+ added: geo.jpg" in compare
    assert client.get(f"/devices/{device['id']}/photos/{kept}/thumbnail?rev={before}").status_code == 200


def test_viewer_sees_the_gallery_without_forms_and_cannot_post(world, client, login, app):
    device = world.create_device("sw1")
    editor = app.test_client()
    assert login("the-editor", c=editor).status_code == 302
    token = csrf_from(editor.get(f"/devices/{device['id']}").get_data(as_text=True))
    assert _post_photo(editor, device["id"], token, image_bytes("PNG"), "a.png").status_code == 302
    sha = editor.get(f"/api/v1/devices/{device['id']}/photos").get_json()["items"][0]["sha256"]

    assert login("the-viewer").status_code == 302
    page = client.get(f"/devices/{device['id']}").get_data(as_text=True)
    assert f"/devices/{device['id']}/photos/{sha}/thumbnail" in page
    assert "Add a photo" not in page and "/delete" not in page.split('id="photos"')[1].split("</section>")[0]
    token = csrf_from(page)
    assert _post_photo(client, device["id"], token, image_bytes("JPEG"), "b.jpg").status_code == 302
    assert client.post(f"/devices/{device['id']}/photos/{sha}/delete", data={"csrf_token": token}).status_code == 302
    assert "does not allow" in client.get(f"/devices/{device['id']}").get_data(as_text=True)
    items = client.get(f"/api/v1/devices/{device['id']}/photos").get_json()["items"]
    assert [p["sha256"] for p in items] == [sha], "nothing added or removed"
