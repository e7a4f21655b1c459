"""The local photo blob cache and the object-store keys of photos and mirrors."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_sha256(sha: str) -> str:
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise ValueError(f"not a sha256: {sha!r}")
    return sha


def blobs_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "blobs"


def blob_path(data_dir: Path, sha: str) -> Path:
    """`<data>/blobs/<aa>/<sha256>`: content-addressed, so a file there is never rewritten."""
    check_sha256(sha)
    return blobs_dir(data_dir) / sha[:2] / sha


def photo_key(sha: str) -> str:
    """Photo bytes in object storage, shared by every device that references the same content."""
    return f"photos/{check_sha256(sha)}"


def mirror_prefix(device_id: str) -> str:
    return f"mirrors/{device_id}/"


def manifest_key(device_id: str) -> str:
    return f"{mirror_prefix(device_id)}manifest.json"


def pack_key(device_id: str, sha: str) -> str:
    return f"{mirror_prefix(device_id)}packs/{check_sha256(sha)}.pack"


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks (packs and photos can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
