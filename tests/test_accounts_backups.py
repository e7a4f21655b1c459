"""Issue 12, policy promise "backups removed within 90 days": the purge's scan covers the object store."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import delete

from app.extensions import db
from app.models import Device, utcnow
from app.services.purge import purge
from app.storage.blobs import manifest_key, pack_key, photo_key
from app.storage.objectstore import open_object_store
from app.storage.photo_files import thumb_key
from gitstore import Changes
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.jobs_support import add_photo, write
from workers import jobs as job_functions
from workers.mirror import read_manifest

LATER = timedelta(days=2)  # past the scan's one-day grace for objects still being written


def _store(app):
    config = app.config["INFRATRACE"]
    return open_object_store(config.object_store_url, config.data_dir)


def _mirrored_device(world, app, name: str) -> str:
    device_id = world.create_device(name)["id"]
    world.write(device_id, configs={"running-config": f"hostname {name}\n"})
    with app.app_context():
        job_functions.mirror_device(device_id)
    return device_id


def _purge(app, later: timedelta = LATER):
    with app.app_context():
        return purge(now=utcnow() + later)


def test_mirror_of_a_deleted_device_is_removed_by_the_scan(world, app):
    kept = _mirrored_device(world, app, "sw1")
    gone = _mirrored_device(world, app, "sw2")
    with app.app_context():  # as if the device's own mirror removal had failed
        db.session.execute(delete(Device).where(Device.id == gone))
        db.session.commit()
    store = _store(app)
    try:
        assert list(store.list(f"mirrors/{gone}/"))
        # Fresh objects are left alone (a run may be between upload and commit)...
        assert _purge(app, timedelta(0)).orphan_mirror_objects == 0
        assert list(store.list(f"mirrors/{gone}/"))
        # ...and are gone by the next day's run, while live devices keep theirs.
        summary = _purge(app)
        assert summary.orphan_mirror_objects >= 2
        assert not list(store.list(f"mirrors/{gone}/"))
        assert store.head(manifest_key(kept)) is not None
        assert _purge(app).orphan_mirror_objects == 0  # twice is harmless
    finally:
        store.close()


def test_superseded_mirror_packs_are_removed(world, app):
    device_id = _mirrored_device(world, app, "sw1")
    store = _store(app)
    try:
        stale = pack_key(device_id, hashlib.sha256(b"old chain").hexdigest())
        store.put(stale, b"PACK of a chain a repack replaced", "application/x-git-packed-objects")
        named = {p["key"] for p in read_manifest(store, device_id)["packs"]}
        summary = _purge(app)
        assert summary.superseded_packs == 1
        assert store.head(stale) is None
        assert all(store.head(key) is not None for key in named)
    finally:
        store.close()


def test_exports_and_photos_of_nothing_are_removed(world, app):
    device_id = _mirrored_device(world, app, "sw1")
    data_dir = app.config["INFRATRACE"].data_dir
    used = add_photo(data_dir, b"rack photo in use")
    write(app, device_id, world.user_ids["editor"], "photo", Changes(photos=[used]))
    with app.app_context():
        job_functions.mirror_device(device_id)
    orphan = hashlib.sha256(b"photo of a deleted device").hexdigest()
    store = _store(app)
    try:
        store.put(photo_key(orphan), b"photo of a deleted device", "image/jpeg")
        store.put(thumb_key(orphan), b"thumb", "image/jpeg")
        store.put(thumb_key(used["sha256"]), b"thumb", "image/jpeg")
        store.put("exports/" + "f" * 32 + "/export.json", b"{}", "application/json")
        summary = _purge(app)
        assert summary.orphan_photos == 2 and summary.orphan_exports == 1
        assert store.head(photo_key(orphan)) is None and store.head(thumb_key(orphan)) is None
        assert store.head(photo_key(used["sha256"])) is not None
        assert store.head(thumb_key(used["sha256"])) is not None
    finally:
        store.close()


def test_photos_are_kept_when_a_repo_cannot_be_read(world, app):
    import shutil

    from app.services.gitstore_bridge import repo_path

    device_id = _mirrored_device(world, app, "sw1")
    orphan = hashlib.sha256(b"unknown").hexdigest()
    with app.app_context():
        shutil.rmtree(repo_path(db.session.get(Device, device_id)))
    store = _store(app)
    try:
        store.put(photo_key(orphan), b"unknown", "image/jpeg")
        assert _purge(app).orphan_photos == 0
        assert store.head(photo_key(orphan)) is not None
    finally:
        store.close()
