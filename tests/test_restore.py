"""Disaster recovery: lose every repo and photo blob, rebuild them from object storage alone."""

from __future__ import annotations

import shutil

from app.extensions import db
from app.models import Device
from app.storage.blobs import blob_path
from gitstore import Changes
from tests.jobs_support import add_photo, device_row, make_device, make_team, repo_state, tag, write
from workers.git import run_git


def _build_fleet(env, make_user):
    owner, _ = make_user("owner")
    team_id, project_id = make_team(env.app, "netops", {owner: "owner"})
    other_team, other_project = make_team(env.app, "other", {owner: "owner"})
    devices, photos = [], []
    for index in range(2):
        device_id = make_device(env.app, team_id, project_id, owner, f"sw{index}")
        devices.append(device_id)
        first = add_photo(env.data_dir, f"photo-{index}-a".encode() * 100)
        second = add_photo(env.data_dir, f"photo-{index}-b".encode() * 100, "back.jpg")
        photos += [first["sha256"], second["sha256"]]
        write(env.app, device_id, owner, "running config", Changes(configs={"running-config": b"hostname sw\n"}))
        write(env.app, device_id, owner, "front photo", Changes(photos=[first]))
        tag(env.app, device_id, owner, "v1.0")
        # The photo is removed in the last version: its bytes must still come back (v1.0 has it).
        write(env.app, device_id, owner, "swap photo", Changes(photos=[second],
                                                               configs={"running-config": b"hostname sw2\n"}))
        tag(env.app, device_id, owner, "after-swap")
    devices.append(make_device(env.app, other_team, other_project, owner, "fw"))
    return devices, photos


def test_restore_rebuilds_repos_and_photos_from_the_store_alone(env, make_user):
    devices, photos = _build_fleet(env, make_user)
    env.drain()
    before = {device_id: repo_state(env.app, device_id) for device_id in devices}
    for device_id in devices:
        row = device_row(env.app, device_id)
        assert row.mirrored_head == row.head_commit and row.mirror_error is None

    shutil.rmtree(env.config.repos_dir)
    shutil.rmtree(env.data_dir / "blobs")

    result = env.cli("restore", "--verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK ") == len(devices), result.stdout
    for device_id in devices:
        refs, log = repo_state(env.app, device_id)
        assert (refs, log) == before[device_id]
        if device_id != devices[-1]:
            assert "refs/tags/v1.0" in refs and len(log) == 4
        with env.app.app_context():
            path = env.config.repos_dir / db.session.get(Device, device_id).repo_path
        run_git(path, "fsck", "--strict")
        # The restored repo carries the config of a new device repo (no automatic gc, fsck on push).
        assert run_git(path, "config", "gc.auto").strip() == b"0"
        assert run_git(path, "config", "receive.fsckObjects").strip() == b"true"
    for index, sha in enumerate(photos):
        device_index, variant = divmod(index, 2)
        expected = f"photo-{device_index}-{'ab'[variant]}".encode() * 100
        assert blob_path(env.data_dir, sha).read_bytes() == expected


def test_restore_by_team_and_verify_reports_a_mismatch(env, make_user):
    devices, _ = _build_fleet(env, make_user)
    env.drain()
    shutil.rmtree(env.config.repos_dir)

    result = env.cli("restore", "--team", "other")
    assert result.returncode == 0, result.stdout + result.stderr
    with env.app.app_context():
        rows = {d.id: d for d in db.session.query(Device).all()}
    assert (env.config.repos_dir / rows[devices[2]].repo_path).is_dir()
    assert not (env.config.repos_dir / rows[devices[0]].repo_path).exists()

    # The database says the head is somewhere else: --verify must fail loudly, naming the device.
    with env.app.app_context():
        row = db.session.get(Device, devices[2])
        row.head_commit = "0" * 40
        db.session.commit()
    result = env.cli("restore", "--device", devices[2], "--verify")
    assert result.returncode == 1
    assert f"FAIL  {devices[2]}" in result.stdout and "the database says" in result.stdout


def test_restore_refuses_a_tampered_pack(env, make_user):
    devices, _ = _build_fleet(env, make_user)
    env.drain()
    store = env.store()
    try:
        import json

        manifest = json.loads(store.get_bytes(f"mirrors/{devices[0]}/manifest.json"))
        key = manifest["packs"][0]["key"]
        store.put(key, b"PACK not really")  # a different object under the pack's key
    finally:
        store.close()
    shutil.rmtree(env.config.repos_dir)
    result = env.cli("restore", "--device", devices[0], "--verify")
    assert result.returncode == 1
    assert "does not match the manifest" in result.stdout
    with env.app.app_context():
        path = env.config.repos_dir / db.session.get(Device, devices[0]).repo_path
    assert not path.exists()  # nothing half-built is left where the repo belongs
