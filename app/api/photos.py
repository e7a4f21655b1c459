"""Device photos: /api/v1/devices/<id>/photos (upload, list, remove) and the photo bytes.

Every URL that serves bytes goes through `photos.photo_reference` first: the device must be the
caller's, and the sha256 must be referenced by that device's own history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request

from app.api import bp
from app.api.auth import api_actor, api_user
from app.http.common import iso, public_url
from app.http.downloads import original_response, thumbnail_response
from app.services import photos


def photo_json(device_id: str, photo: dict[str, Any]) -> dict[str, Any]:
    sha = photo["sha256"]
    return {**photo, "url": public_url(f"/api/v1/devices/{device_id}/photos/{sha}"),
            "thumbnail_url": public_url(f"/api/v1/devices/{device_id}/photos/{sha}/thumbnail"),
            "web_url": public_url(f"/devices/{device_id}/photos/{sha}")}


def _rev() -> str | None:
    return request.args.get("rev") or None


@bp.post("/devices/<device_id>/photos")
def upload_photo(device_id: str):  # type: ignore[no-untyped-def]
    upload = request.files.get("file")
    result, changed = photos.upload_photo(
        api_actor(), device_id, request.form.to_dict(), upload.filename if upload else None,
        upload.stream if upload else None, tuple(request.files.keys()),
    )
    body = {k: iso(v) if isinstance(v, datetime) else v for k, v in result.items()}
    body["photo"] = photo_json(device_id, result["photo"])
    return jsonify(body), 201 if changed else 200


@bp.get("/devices/<device_id>/photos")
def list_photos(device_id: str):  # type: ignore[no-untyped-def]
    device, commit, items = photos.list_photos(api_user(), device_id, _rev())
    return jsonify({"commit": commit, "items": [photo_json(device.id, p) for p in items], "next_cursor": None})


@bp.delete("/devices/<device_id>/photos/<sha>")
def remove_photo(device_id: str, sha: str):  # type: ignore[no-untyped-def]
    result = photos.remove_photo(api_actor(), device_id, sha, request.args.get("parent") or None)
    body = {k: iso(v) if isinstance(v, datetime) else v for k, v in result.items()}
    return jsonify(body), 200


@bp.get("/devices/<device_id>/photos/<sha>")
def get_photo(device_id: str, sha: str):  # type: ignore[no-untyped-def]
    _, reference = photos.photo_reference(api_user(), device_id, sha, _rev())
    return original_response(reference)


@bp.get("/devices/<device_id>/photos/<sha>/thumbnail")
def get_thumbnail(device_id: str, sha: str):  # type: ignore[no-untyped-def]
    _, reference = photos.photo_reference(api_user(), device_id, sha, _rev())
    return thumbnail_response(reference)
