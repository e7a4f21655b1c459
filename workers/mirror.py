"""Mirror a device repo into object storage, and read it back: enough to rebuild the repo.

Format (see docs/ARCHITECTURE.md, "Repository mirrors"), under ``mirrors/<device id>/``:

* ``packs/<sha256>.pack`` - git packs made by ``git pack-objects --revs``. The first is full;
  each later one holds only the objects reachable from the refs of that run and not from the
  refs the previous manifest recorded (an incremental chain). Every ``CONSOLIDATE_EVERY`` packs
  the chain is replaced by one full pack.
* ``manifest.json`` - written LAST: the refs (names -> object ids, tags unpeeled), the pack
  chain in apply order with sha256 and size, and every photo sha256 any version references.

Nothing is trusted until the manifest names it, so a run killed half-way leaves the previous
manifest - a complete, consistent mirror - in force; its stray packs are deleted by the next run.
Packs are built from the object ids read once from the refs, so no lock is needed: objects are
immutable, and the repo's gc (which runs under the write lock) never prunes recent objects.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.storage.blobs import blob_path, manifest_key, mirror_prefix, pack_key, photo_key, sha256_file
from app.storage.objectstore import ObjectNotFound, ObjectStore, ObjectStoreError
from gitstore import DeviceRepo
from workers.git import GitCommandError, list_refs, run_git

log = logging.getLogger(__name__)

FORMAT = 1
CONSOLIDATE_EVERY = 16
MAIN_REF = "refs/heads/main"
# Test hook: the worker-killed-mid-mirror test pauses a run after its pack is uploaded and before
# the manifest is written, so it can SIGKILL the worker at the worst moment.
PAUSE_ENV = "INFRATRACE_TEST_MIRROR_PAUSE"


class MirrorFormatError(Exception):
    """A manifest that this code cannot read (damaged, or written by a newer format)."""


@dataclass
class MirrorResult:
    head: str | None
    refs: dict[str, str]
    uploaded_packs: int = 0
    uploaded_photos: int = 0
    missing_photos: list[str] = field(default_factory=list)
    changed: bool = True


def read_manifest(store: ObjectStore, device_id: str) -> dict[str, Any] | None:
    """The device's manifest, or None if it was never mirrored."""
    try:
        raw = store.get_bytes(manifest_key(device_id))
    except ObjectNotFound:
        return None
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise MirrorFormatError(f"manifest of {device_id} is not JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise MirrorFormatError(f"manifest of {device_id} has an unknown format")
    if manifest.get("device_id") != device_id:
        raise MirrorFormatError(f"manifest of {device_id} names another device")
    return manifest


def _pack_object_count(path: Path) -> int:
    with open(path, "rb") as handle:
        header = handle.read(12)
    if len(header) != 12 or header[:4] != b"PACK":
        raise GitCommandError("git pack-objects wrote no pack header")
    return int.from_bytes(header[8:12], "big")


def _build_pack(repo_path: Path, tips: list[str], exclude: list[str], out: Path) -> int:
    lines = [f"{oid}\n" for oid in sorted(set(tips))] + [f"^{oid}\n" for oid in sorted(set(exclude))]
    run_git(repo_path, "pack-objects", "--revs", "--stdout", "-q", stdin="".join(lines).encode(), stdout_path=out)
    return _pack_object_count(out)


def _pause_for_tests() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if not marker:
        return
    Path(marker + ".reached").write_text(str(os.getpid()))  # the test kills this process
    deadline = time.monotonic() + 120
    while Path(marker).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _upload_photos(
    store: ObjectStore, data_dir: Path, wanted: dict[str, str]
) -> tuple[int, list[str]]:
    """Put photo blobs the store lacks, from the local cache; returns (uploaded, missing)."""
    uploaded, missing = 0, []
    for sha in sorted(wanted):
        key = photo_key(sha)
        if store.head(key) is not None:
            continue
        local = blob_path(data_dir, sha)
        if not local.is_file():
            missing.append(sha)
            continue
        with open(local, "rb") as handle:
            store.put(key, handle, wanted[sha] if "/" in wanted[sha] else "application/octet-stream", sha256=sha)
        uploaded += 1
    return uploaded, missing


def mirror_repo(repo_path: Path, device_id: str, store: ObjectStore, data_dir: Path) -> MirrorResult:
    """Bring the device's mirror up to the repo's current refs. Idempotent; safe to re-run.

    Callers serialise runs for one device (workers.jobs holds a per-device mirror lock), so the
    clean-up of unreferenced packs never races another run's upload.
    """
    previous = read_manifest(store, device_id)
    refs = list_refs(repo_path)
    head = refs.get(MAIN_REF)
    previous_missing = list(previous.get("missing_photos", [])) if previous else []
    if previous is not None and previous.get("refs") == refs and not previous_missing:
        return MirrorResult(head, refs, changed=False)

    packs: list[dict[str, Any]] = list(previous.get("packs", [])) if previous else []
    full = previous is None or len(packs) >= CONSOLIDATE_EVERY
    exclude = [] if full else sorted(set(previous["refs"].values()))
    uploaded_packs = 0
    with tempfile.TemporaryDirectory(prefix="infratrace-mirror-") as tmp:
        pack_file = Path(tmp) / "mirror.pack"
        if refs:
            try:
                count = _build_pack(repo_path, list(refs.values()), exclude, pack_file)
            except GitCommandError:
                if full:
                    raise
                # A recorded tip the repo no longer has (a force-pushed or deleted ref was gc'd):
                # the chain cannot continue from it, so start a new one.
                log.info("mirror %s: incremental pack failed, writing a full one", device_id)
                full, exclude = True, []
                count = _build_pack(repo_path, list(refs.values()), [], pack_file)
            if full:
                packs = []
            if count or full:
                sha = sha256_file(pack_file)
                key = pack_key(device_id, sha)
                with open(pack_file, "rb") as handle:
                    info = store.put(key, handle, "application/x-git-packed-objects", sha256=sha)
                packs.append({"key": key, "sha256": sha, "size": info.size, "objects": count})
                uploaded_packs = 1
        elif full:
            packs = []

    with DeviceRepo.open(repo_path) as repo:
        tips = list(refs.values())
        wanted = repo.photo_shas(tips, None if full else exclude)
        all_photos = set(wanted) | (set() if full else set(previous.get("photos", [])))
        if previous_missing:
            retry = {sha: "application/octet-stream" for sha in previous_missing if sha in all_photos}
            wanted = {**retry, **wanted}
    uploaded_photos, missing = _upload_photos(store, data_dir, wanted)
    if missing:
        # Not an error the mirror can fix by retrying: the bytes are in neither place. Recorded in
        # the manifest (and retried on the next run) so restore can report them.
        log.warning("mirror %s: %d referenced photo(s) are neither cached nor stored", device_id, len(missing))

    _pause_for_tests()
    manifest = {
        "format": FORMAT,
        "device_id": device_id,
        "head": head,
        "refs": refs,
        "packs": packs,
        "photos": sorted(all_photos),
        "missing_photos": missing,
        "created_at": datetime.now(UTC).isoformat(),
    }
    store.put(
        manifest_key(device_id),
        json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n",
        "application/json",
    )
    _delete_unreferenced(store, device_id, {p["key"] for p in packs})
    return MirrorResult(head, refs, uploaded_packs, uploaded_photos, missing)


def _delete_unreferenced(store: ObjectStore, device_id: str, keep: set[str]) -> None:
    """Remove packs no manifest names: replaced chains and uploads of runs that were killed."""
    try:
        for info in list(store.list(mirror_prefix(device_id) + "packs/")):
            if info.key not in keep:
                store.delete(info.key)
    except ObjectStoreError as exc:  # garbage only costs space; the next run tries again
        log.warning("mirror %s: could not delete old packs: %s", device_id, exc)
