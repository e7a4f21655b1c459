"""Photo blobs and thumbnails in the local cache and object storage.

* Originals: `<data>/blobs/<aa>/<sha256>` locally, `photos/<sha256>` in the store (the mirror job
  uploads them; see workers/mirror.py).
* Thumbnails: `<data>/thumbs/<aa>/<sha256>.jpg` locally, `thumbs/<sha256>.jpg` in the store,
  keyed by the ORIGINAL's sha256: one original always gives the same thumbnail, so neither is
  ever rewritten or invalidated.

Every local write is atomic (temporary file in the same folder, fsync, rename), so a reader or a
crash never sees half a file, and two writers of the same content simply race to the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from app.storage.blobs import blob_path, check_sha256, photo_key, sha256_file
from app.storage.images import THUMBNAIL_TYPE, thumbnail
from app.storage.objectstore import ObjectNotFound, ObjectStore


def thumb_path(data_dir: Path, sha: str) -> Path:
    check_sha256(sha)
    return Path(data_dir) / "thumbs" / sha[:2] / f"{sha}.jpg"


def thumb_key(sha: str) -> str:
    return f"thumbs/{check_sha256(sha)}.jpg"


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def store_blob(data_dir: Path, data: bytes) -> str:
    """Put bytes in the local blob cache under their sha256 (kept if already there); returns it."""
    sha = hashlib.sha256(data).hexdigest()
    path = blob_path(data_dir, sha)
    if not path.is_file() or path.stat().st_size != len(data):
        write_atomic(path, data)
    return sha


def fetch_blob(data_dir: Path, store: ObjectStore, sha: str) -> Path | None:
    """The cached original, downloaded (and checked against its sha256) if only the store has it."""
    path = blob_path(data_dir, sha)
    if path.is_file():
        return path
    try:
        info = store.download_to(photo_key(sha), path)
    except ObjectNotFound:
        return None
    if info.sha256 != sha and sha256_file(path) != sha:  # the store checked it against its metadata
        path.unlink(missing_ok=True)
        raise ValueError(f"object {photo_key(sha)} does not hold content {sha}")
    return path


def fetch_thumbnail(data_dir: Path, store: ObjectStore, sha: str) -> Path | None:
    """The cached thumbnail, downloaded if only the store has it; None if nobody made it yet."""
    path = thumb_path(data_dir, sha)
    if path.is_file():
        return path
    try:
        store.download_to(thumb_key(sha), path)
    except ObjectNotFound:
        return None
    return path


def make_thumbnail(data_dir: Path, store: ObjectStore, sha: str) -> Path | None:
    """Make (or find) the thumbnail of photo `sha` in the cache and the store. Idempotent.

    None when the original is in neither place (nothing to make it from).
    """
    path = thumb_path(data_dir, sha)
    key = thumb_key(sha)
    if not path.is_file():
        existing = fetch_thumbnail(data_dir, store, sha)
        if existing is not None:
            return existing
        source = fetch_blob(data_dir, store, sha)
        if source is None:
            return None
        write_atomic(path, thumbnail(source.read_bytes()))
    if store.head(key) is None:
        with open(path, "rb") as handle:
            store.put(key, handle, THUMBNAIL_TYPE)
    return path
