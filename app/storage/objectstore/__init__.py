"""Object storage for InfraTrace: photo bytes, repository mirrors and data exports.

One interface, two backends with the same semantics:

* ``LocalObjectStore`` - a folder under ``instance/`` (the embedded default, no setup);
* ``S3ObjectStore`` - any S3-compatible service (Cloudflare R2, MinIO, AWS S3).

Every object carries the SHA-256 of its content as metadata; writes are verified after the
upload and reads are verified as they stream, so corruption is an ``IntegrityError``, never
silently served. Every backend failure is an ``ObjectStoreError`` (``ObjectNotFound`` for a
missing key), which job code can catch and retry with backoff.

Pick the backend from configuration with ``open_object_store(url, data_dir)``::

    store = open_object_store(os.environ.get("OBJECT_STORE_URL"), Path("instance"))
    info = store.put(f"photos/{sha}", stream, "image/jpeg", sha256=sha)
    url = store.presigned_get_url(info.key, filename="rack.jpg")  # None locally: stream it
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .base import (
    IntegrityError,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    content_disposition,
    validate_key,
)
from .local import LocalObjectStore
from .s3 import S3ObjectStore

__all__ = [
    "IntegrityError",
    "LocalObjectStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStoreError",
    "S3ObjectStore",
    "content_disposition",
    "open_object_store",
    "validate_key",
]


def open_object_store(
    url: str | None,
    data_dir: Path,
    env: Mapping[str, str] = os.environ,
    **options: Any,
) -> ObjectStore:
    """Build the store named by ``url``.

    * ``None`` or ``""`` -> ``LocalObjectStore(data_dir / "objects")``
    * ``file:///abs/path`` -> ``LocalObjectStore`` at that folder
    * ``s3://bucket/optional/prefix`` -> ``S3ObjectStore``, configured from ``env``:
      ``OBJECT_STORE_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL``; unset = AWS itself),
      ``OBJECT_STORE_REGION`` (or ``AWS_DEFAULT_REGION``, default ``us-east-1``; R2 accepts
      any region, ``auto`` included), ``OBJECT_STORE_ACCESS_KEY_ID`` /
      ``OBJECT_STORE_SECRET_ACCESS_KEY`` (else boto3's default credential chain).

    ``options`` are passed to the backend's constructor (part sizes, timeouts, ...).
    """
    if not url:
        return LocalObjectStore(Path(data_dir) / "objects", **options)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file URL must name a local path (file:///path), got {url!r}")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError(f"file URL must hold an absolute path, got {url!r}")
        return LocalObjectStore(Path(path), **options)
    if scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"s3 URL must name a bucket (s3://bucket/prefix), got {url!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"s3 URL takes no query or fragment, got {url!r}")
        return S3ObjectStore(
            parts.netloc,
            unquote(parts.path).strip("/"),
            endpoint_url=env.get("OBJECT_STORE_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("OBJECT_STORE_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            access_key_id=env.get("OBJECT_STORE_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("OBJECT_STORE_SECRET_ACCESS_KEY") or None,
            **options,
        )
    raise ValueError(
        f"unsupported object store URL {url!r}: expected empty (local default), "
        "file:///path or s3://bucket/prefix"
    )
