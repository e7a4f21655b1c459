"""Where a device's repository lives and who authors its commits: the bridge to gitstore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app

from app.models import Device, User
from gitstore import Author, DeviceRepo

# Seconds a write waits for a device's lock before it is answered 503 (Retry-After) as busy.
LOCK_TIMEOUT = 30.0


def repos_root() -> Path:
    return current_app.config["INFRATRACE"].repos_dir


def repo_path(device: Device) -> Path:
    """The path stored on the row, under the repos folder: never built from URL text."""
    return repos_root() / device.repo_path


def open_repo(device: Device) -> DeviceRepo:
    """A handle for one unit of work: use it in a `with` block so it is released at the end."""
    return DeviceRepo.open(repo_path(device))


def author_for(user: User | None) -> Author:
    if user is None:
        return Author("InfraTrace", "service@infratrace.invalid")
    return Author(user.author_name, user.author_email)


@contextmanager
def locked_repo(device: Device) -> Iterator[DeviceRepo]:
    """A handle holding the device's cross-process write lock for the whole unit of work.

    Writers keep it from the ref move until their SQL commit, so the commit index is always
    extended by one writer at a time, in ref order (two syncs can never insert the same commit).
    """
    with open_repo(device) as repo, repo.write_lock(LOCK_TIMEOUT):
        yield repo
