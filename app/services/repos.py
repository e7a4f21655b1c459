"""Where a device's repository lives and who authors its commits: the bridge to gitstore."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from app.models import Device, User
from gitstore import Author, DeviceRepo


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
