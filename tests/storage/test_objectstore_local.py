"""Local-folder specifics: confinement to the root, atomic writes, tidy directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.storage.objectstore import IntegrityError, LocalObjectStore, ObjectStoreError


@pytest.fixture
def local(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_symlink_planted_in_the_tree_cannot_lead_outside(local: LocalObjectStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.obj").write_bytes(b"not yours")
    # What key "evil/..." maps to, pointed at a folder outside the root.
    (local.root / "evil.d").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ObjectStoreError, match="outside"):
        local.put("evil/planted", b"x")
    for operation in (local.get, local.head, local.delete):
        with pytest.raises(ObjectStoreError, match="outside"):
            operation("evil/secret")
    assert files_under(outside) == ["secret.obj"]
    assert list(local.list()) == []  # listings never follow symlinks


def test_traversal_keys_never_touch_the_disk(local: LocalObjectStore, tmp_path: Path) -> None:
    for key in ("../escaped", "a/../../escaped", "/etc/passwd"):
        with pytest.raises(ValueError):
            local.put(key, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["objects"]


def test_failed_puts_leave_no_temporary_files(local: LocalObjectStore) -> None:
    local.put("a/b", b"old")
    with pytest.raises(IntegrityError):
        local.put("a/b", b"new", sha256="0" * 64)

    def not_a_stream():  # no read(): rejected only once the temp files already exist
        yield b"x"

    with pytest.raises(TypeError):
        local.put("a/c", not_a_stream())  # type: ignore[arg-type]
    assert files_under(local.root) == [".lock", "a.d/b.meta", "a.d/b.obj"]
    assert local.get_bytes("a/b") == b"old"


def test_sidecar_is_plain_json(local: LocalObjectStore) -> None:
    info = local.put("photos/p", b"jpeg", content_type="image/jpeg")
    sidecar = (local.root / "photos.d" / "p.meta").read_text()
    assert f'"sha256": "{info.sha256}"' in sidecar and '"content_type": "image/jpeg"' in sidecar
    assert (local.root / "photos.d" / "p.obj").read_bytes() == b"jpeg"  # bytes kept verbatim


def test_delete_prunes_empty_directories(local: LocalObjectStore) -> None:
    local.put("device/1/photos/a", b"x")
    local.put("device/2/photos/b", b"y")
    assert local.delete_prefix("device/1/") == 1
    assert sorted(os.listdir(local.root / "device.d")) == ["2.d"]
    local.delete("device/2/photos/b")
    assert os.listdir(local.root) == [".lock"]


def test_file_dropped_in_by_hand_is_served_without_checksum(local: LocalObjectStore) -> None:
    (local.root / "manual.obj").write_bytes(b"hand made")
    info = local.head("manual")
    assert info is not None and info.sha256 is None and info.size == 9
    assert local.get_bytes("manual") == b"hand made"


def test_ping_fails_when_root_vanishes(local: LocalObjectStore) -> None:
    local.ping()
    for name in os.listdir(local.root):
        os.unlink(local.root / name)
    os.rmdir(local.root)
    with pytest.raises(ObjectStoreError):
        local.ping()
