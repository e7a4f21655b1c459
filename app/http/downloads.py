"""Responses that hand out stored bytes: config files and photos, the same for pages and API.

Each sets a content type no browser second-guesses and a Content-Disposition for the name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, send_file

from app.services import photos, versions
from app.storage.objectstore import content_disposition

# Private: the bytes are only for callers who passed the permission check, so no shared cache
# may keep them; immutable: a sha256 URL never changes content.
CACHE_CONTROL = "private, max-age=31536000, immutable"


def raw_file_response(data: bytes, path: str) -> Response:
    """Bytes with a content type no browser will execute: text or an opaque download."""
    text, _ = versions.encode_content(data)
    name = path.rsplit("/", 1)[-1]
    if text is not None:
        response = Response(data, mimetype="text/plain")
        response.headers["Content-Type"] = "text/plain; charset=utf-8"
        response.headers["Content-Disposition"] = content_disposition(name, "inline", "config")
    else:
        response = Response(data, mimetype="application/octet-stream")
        response.headers["Content-Disposition"] = content_disposition(name, "attachment", "config")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def inline_disposition(filename: str) -> str:
    """`inline` with an ASCII fallback and the RFC 6266 UTF-8 form; quotes and controls dropped."""
    return content_disposition(filename, "inline", "photo")


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
