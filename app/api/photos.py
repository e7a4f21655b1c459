"""Device photos: /api/v1/devices/<id>/photos (upload, list, remove) and the photo bytes.

Every URL that serves bytes goes through `photos.photo_reference` first: the device must be the
caller's, and the sha256 must be referenced by that device's own history.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Response, jsonify, request, send_file

from app.api import bp
from app.api.auth import api_actor, api_user
from app.api.common import iso, public_url
from app.services import photos

# Private: the bytes are only for callers who passed the permission check, so no shared cache
# may keep them; immutable: a sha256 URL never changes content.
CACHE_CONTROL = "private, max-age=31536000, immutable"


def photo_json(device_id: str, photo: dict[str, Any]) -> dict[str, Any]:
    sha = photo["sha256"]
    return {**photo, "url": public_url(f"/api/v1/devices/{device_id}/photos/{sha}"),
            "thumbnail_url": public_url(f"/api/v1/devices/{device_id}/photos/{sha}/thumbnail"),
            "web_url": public_url(f"/devices/{device_id}/photos/{sha}")}


def inline_disposition(filename: str) -> str:
    """`inline` with an ASCII fallback and the RFC 6266 UTF-8 form; quotes and controls dropped."""
    clean = "".join(ch for ch in filename if ch.isprintable() and ch not in '"\\/;').strip() or "photo"
    fallback = "".join(ch if " " <= ch <= "~" else "_" for ch in clean)
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"


def image_response(path: Path, content_type: str, filename: str, etag: str) -> Response:
    """A file from the cache, streamed, with a fixed type no browser second-guesses."""
    response = send_file(path, mimetype=content_type, conditional=True, etag=etag, max_age=None)
    response.headers["Content-Type"] = content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = inline_disposition(filename)
    response.headers["Cache-Control"] = CACHE_CONTROL
    # An SVG or HTML could never get here (content is checked on upload), but a sandbox costs nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def original_response(reference: dict[str, Any]) -> Response:
    return image_response(photos.original_file(reference), reference["content_type"], reference["filename"],
                          reference["sha256"])


def thumbnail_response(reference: dict[str, Any]) -> Response:
    stem = reference["filename"].rsplit(".", 1)[0] or "photo"
    return image_response(photos.thumbnail_file(reference), "image/jpeg", f"{stem}-thumbnail.jpg",
                          f"thumb-{reference['sha256']}")


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
