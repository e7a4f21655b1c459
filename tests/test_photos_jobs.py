"""Photos and the job system: the thumbnail job, the mirror's upload of photo bytes, and serving
from object storage when the local cache is gone. Runs over the local store and moto's S3 (the
`env` fixture), with a real `rq worker --burst` when REDIS_URL is set, in-process otherwise."""

from __future__ import annotations

import hashlib
import io
import shutil

from PIL import Image

from app.storage.blobs import blob_path, photo_key
from app.storage.images import THUMBNAIL_PX
from app.storage.photo_files import thumb_key, thumb_path
from tests.client_support import bearer
from tests.jobs_support import make_device, make_team
from tests.photo_support import image_bytes, upload


def _setup(env, make_user, token_for):
    owner, _ = make_user("owner")
    viewer, _ = make_user("viewer")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner", viewer: "viewer"})
    device_id = make_device(env.app, team_id, project_id, owner, "sw1")
    env.drain()
    return device_id, bearer(token_for(owner)), bearer(token_for(viewer))


def _upload(env, device_id: str, headers: dict, data: bytes, name: str) -> dict:
    client = env.app.test_client()
    response = upload(client, device_id, headers, data, name)
    body = response.get_json()
    response.close()  # in-process mode: jobs run when the response is closed
    assert response.status_code == 201, body
    return body


def test_thumbnail_job_makes_a_bounded_thumbnail_and_the_mirror_uploads_the_bytes(env, make_user, token_for):
    device_id, owner, viewer = _setup(env, make_user, token_for)
    data = image_bytes("JPEG", size=(1200, 900))
    sha = _upload(env, device_id, owner, data, "wide.jpg")["photo"]["sha256"]
    thumb = thumb_path(env.data_dir, sha)
    if env.config.redis_url:
        assert not thumb.exists(), "with Redis the job waits for a worker"
    env.drain()
    assert thumb.is_file(), "the thumbnail job ran"
    with Image.open(thumb) as image:
        assert image.format == "JPEG" and max(image.size) == THUMBNAIL_PX and image.size == (320, 240)
        assert not image.getexif(), "no metadata in thumbnails"
    store = env.store()
    try:
        assert store.get_bytes(thumb_key(sha)) == thumb.read_bytes()
        assert store.get_bytes(photo_key(sha)) == data, "the mirror job uploaded the photo's bytes"
        assert store.head(photo_key(sha)).sha256 == sha
    finally:
        store.close()
    served = env.app.test_client().get(f"/api/v1/devices/{device_id}/photos/{sha}/thumbnail", headers=viewer)
    assert served.status_code == 200 and served.data == thumb.read_bytes()
    assert served.headers["Content-Type"] == "image/jpeg"

    # A tall PNG with transparency is bounded by its height and flattened.
    tall = Image.new("RGBA", (300, 1000), (0, 0, 0, 0))
    out = io.BytesIO()
    tall.save(out, "PNG")
    sha2 = _upload(env, device_id, owner, out.getvalue(), "tall.png")["photo"]["sha256"]
    env.drain()
    with Image.open(thumb_path(env.data_dir, sha2)) as image:
        assert image.size == (96, 320) and image.mode == "RGB"


def test_photos_serve_from_object_storage_when_the_cache_is_empty(env, make_user, token_for):
    device_id, owner, viewer = _setup(env, make_user, token_for)
    data = image_bytes("WEBP", size=(500, 400))
    first = _upload(env, device_id, owner, data, "rack.webp")
    sha = first["photo"]["sha256"]
    env.drain()
    client = env.app.test_client()
    # Removed at HEAD, so only the history references it from now on.
    removed = client.delete(f"/api/v1/devices/{device_id}/photos/{sha}", headers=owner)
    removed.close()
    assert removed.status_code == 200
    env.drain()
    shutil.rmtree(env.data_dir / "blobs")
    shutil.rmtree(env.data_dir / "thumbs")

    response = client.get(f"/api/v1/devices/{device_id}/photos/{sha}?rev={first['commit']}", headers=viewer)
    assert response.status_code == 200 and hashlib.sha256(response.data).hexdigest() == sha
    assert response.headers["Content-Type"] == "image/webp"
    assert blob_path(env.data_dir, sha).is_file(), "read through into the cache"
    shutil.rmtree(env.data_dir / "blobs")
    thumbnail = client.get(f"/api/v1/devices/{device_id}/photos/{sha}/thumbnail", headers=viewer)
    assert thumbnail.status_code == 200 and thumbnail.data[:3] == b"\xff\xd8\xff"
    assert not blob_path(env.data_dir, sha).exists(), "the stored thumbnail was used, not remade"

    # Gone from both places: a clear 404, never a 500.
    shutil.rmtree(env.data_dir / "blobs", ignore_errors=True)
    store = env.store()
    try:
        store.delete(photo_key(sha))
    finally:
        store.close()
    missing = client.get(f"/api/v1/devices/{device_id}/photos/{sha}", headers=viewer)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "photo_missing"


def test_thumbnail_is_made_on_demand_before_the_job_ran(env, make_user, token_for):
    device_id, owner, viewer = _setup(env, make_user, token_for)
    client = env.app.test_client()
    data = image_bytes("PNG", size=(640, 640))
    response = upload(client, device_id, owner, data, "sq.png")
    sha = response.get_json()["photo"]["sha256"]
    # Not closed yet: in-process jobs have not run, and with Redis no worker ran either.
    assert not thumb_path(env.data_dir, sha).exists()
    served = client.get(f"/api/v1/devices/{device_id}/photos/{sha}/thumbnail", headers=viewer)
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (320, 320)
    response.close()
    env.drain()
    assert thumb_path(env.data_dir, sha).read_bytes() == served.data, "the job found it made and kept it"
