"""Fixtures for gitstore tests: a fresh device repo, and the real git CLI to inspect it."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from gitstore import Author, DeviceRepo

AUTHOR = Author("user-abc123", "user-abc123@users.noreply.infratrace")


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real git CLI against a bare repo, bytes in and out."""
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], capture_output=True, check=check
    )


def fsck(repo: Path) -> None:
    result = git(repo, "fsck", "--strict", "--no-progress", check=False)
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()


@pytest.fixture
def author() -> Author:
    return AUTHOR


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    path, _ = DeviceRepo.create(tmp_path / "repos", str(uuid.uuid4()), {"name": "sw1"}, AUTHOR)
    return path


@pytest.fixture
def repo(repo_path: Path):
    with DeviceRepo.open(repo_path) as handle:
        yield handle
