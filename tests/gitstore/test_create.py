from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from gitstore import (
    DeviceRepo,
    GitStoreError,
    RepositoryNotFound,
    canonical_json,
    repo_path_for,
)
from tests.gitstore.gitstore_support import AUTHOR, fsck, git


def test_repo_path_fans_out_by_uuid(tmp_path: Path) -> None:
    device = "49E579E7-08BA-44ED-87A3-B0ED74182B56"
    assert repo_path_for(tmp_path, device) == (
        tmp_path / "49" / "e5" / "49e579e7-08ba-44ed-87a3-b0ed74182b56.git"
    )
    for bad in ("../../etc", "sw1", "", "49e579e7-08ba-44ed-87a3"):
        with pytest.raises(ValueError):
            repo_path_for(tmp_path, bad)


def test_create_makes_a_clean_bare_repo_with_device_json(tmp_path: Path) -> None:
    device_uuid = str(uuid.uuid4())
    path, result = DeviceRepo.create(tmp_path, device_uuid, {"name": "sw1", "vendor": "Cisco"}, AUTHOR)
    assert path == repo_path_for(tmp_path, device_uuid)
    assert result.changed and result.parent is None
    assert [f.path for f in result.files] == ["device.json"]
    fsck(path)
    assert git(path, "rev-parse", "--is-bare-repository").stdout.strip() == b"true"
    assert git(path, "symbolic-ref", "HEAD").stdout.strip() == b"refs/heads/main"
    assert git(path, "rev-parse", "main").stdout.decode().strip() == result.commit
    assert git(path, "ls-tree", "-r", "--name-only", "main").stdout == b"device.json\n"
    stored = git(path, "cat-file", "blob", "main:device.json").stdout
    assert stored == canonical_json({"name": "sw1", "vendor": "Cisco"})
    assert json.loads(stored) == {"name": "sw1", "vendor": "Cisco"}
    assert git(path, "config", "receive.fsckObjects").stdout.strip() == b"true"
    assert git(path, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", "main").stdout.decode().strip() == (
        "user-abc123 <user-abc123@users.noreply.infratrace>|"
        "InfraTrace <service@infratrace.invalid>|Create device"
    )
    # Nothing but the repo is left in the fan-out directory (no temporary build directory).
    assert list(path.parent.iterdir()) == [path]


def test_create_twice_is_refused(tmp_path: Path) -> None:
    device_uuid = str(uuid.uuid4())
    DeviceRepo.create(tmp_path, device_uuid, {}, AUTHOR)
    with pytest.raises(GitStoreError):
        DeviceRepo.create(tmp_path, device_uuid, {}, AUTHOR)


def test_open_missing_repo(tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFound):
        DeviceRepo.open(tmp_path / "nope.git")


def test_delete_removes_repo_and_empty_fanout(tmp_path: Path) -> None:
    path, _ = DeviceRepo.create(tmp_path, str(uuid.uuid4()), {}, AUTHOR)
    with DeviceRepo.open(path) as repo:
        assert repo.head()
    DeviceRepo.delete(path)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
