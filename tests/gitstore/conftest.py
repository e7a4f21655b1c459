"""Fixtures for gitstore tests: a fresh device repo (helpers in tests/gitstore/gitstore_support.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from gitstore import Author, DeviceRepo
from tests.gitstore.gitstore_support import AUTHOR


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
