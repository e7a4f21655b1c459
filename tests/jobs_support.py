"""Shared pieces of the job, mirror and restore tests (imported by tests/test_jobs_*.py etc.).

`env` is parametrized over the local object store and moto's S3 server (a subprocess), so every
case runs against both. It gives each test its own data folder and an app bound to it; with
REDIS_URL set, `env.drain()` runs a real `infratrace worker --burst` subprocess, otherwise jobs
have already run in-process after each commit.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.config import Config
from app.extensions import db
from app.models import Device, Membership, Project, Team, User, new_id
from app.services import device_door, versions
from app.services.access import device_access
from app.services.gitstore_bridge import repo_path
from app.services.teams import TeamAccess
from app.storage.blobs import blob_path
from app.storage.objectstore import ObjectStore, open_object_store
from gitstore import Changes
from tests.objectstore_support import BUCKET, MotoServer
from workers.git import list_refs, run_git

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Env:
    """One test's world: config, app, store settings and the environment of child processes."""

    config: Config
    app: Flask
    store_env: dict[str, str] = field(default_factory=dict)
    kind: str = "local"

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    def child_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OBJECT_STORE_", "REDIS_URL"))}
        env.update(
            DATABASE_URL=self.config.database_url,
            INFRATRACE_DATA=str(self.config.data_dir),
            SECRET_KEY=self.config.secret_key,
            PYTHONPATH=str(ROOT),
            **self.store_env,
        )
        if self.config.object_store_url:
            env["OBJECT_STORE_URL"] = self.config.object_store_url
        if self.config.redis_url:
            env["REDIS_URL"] = self.config.redis_url
        env.update(extra)
        return env

    def store(self) -> ObjectStore:
        return open_object_store(self.config.object_store_url, self.config.data_dir, self.store_env)

    def cli(self, *args: str, timeout: float = 180, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], env=self.child_env(**extra), cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def drain(self) -> None:
        """Run queued jobs to completion: a real RQ worker in burst mode when Redis is configured."""
        if not self.config.redis_url:
            return
        result = self.cli("worker", "--burst")
        assert result.returncode == 0, result.stderr[-3000:]

    def with_config(self, **changes: object) -> Env:
        config = self.config.with_changes(**changes)
        return Env(config, create_app(config), self.store_env, self.kind)


def make_env(kind: str, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             server: MotoServer | None) -> Env:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url, store_env = None, {}
    if kind == "s3":
        assert server is not None
        url = f"s3://{BUCKET}/jobs/{uuid.uuid4().hex}"
        store_env = server.env()
        for key, value in store_env.items():
            monkeypatch.setenv(key, value)
    # The session's Redis db (conftest gives each xdist worker its own), never the raw REDIS_URL:
    # two workers flushing and draining one queue would take each other's jobs.
    if config.redis_url:
        import redis

        redis.Redis.from_url(config.redis_url).flushdb()
    changed = config.with_changes(data_dir=data_dir, object_store_url=url)
    return Env(changed, create_app(changed), store_env, kind)


@pytest.fixture(params=["local", "s3"])
def env(request: pytest.FixtureRequest, app: Flask, config: Config, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    # `app` is requested so conftest's clean-up empties the tables after the test.
    server = request.getfixturevalue("moto_server") if request.param == "s3" else None
    yield make_env(request.param, config, tmp_path, monkeypatch, server)


# -- building devices ------------------------------------------------------------------------


def make_team(app: Flask, slug: str, users: dict[str, str]) -> tuple[str, str]:
    """A team with members {user_id: role} and one project; returns (team_id, project_id)."""
    with app.app_context():
        team = Team(slug=slug, name=slug.title())
        db.session.add(team)
        db.session.flush()
        for user_id, role in users.items():
            db.session.add(Membership(team_id=team.id, user_id=user_id, role=role))
        project = Project(team_id=team.id, name="Core", slug="core")
        db.session.add(project)
        db.session.commit()
        return team.id, project.id


def make_device(app: Flask, team_id: str, project_id: str, user_id: str, name: str) -> str:
    """A device made through the door, as the API makes one."""
    with app.app_context():
        user = db.session.get(User, user_id)
        role = db.session.scalar(select(Membership.role).where(Membership.team_id == team_id,
                                                               Membership.user_id == user_id))
        access = TeamAccess(db.session.get(Team, team_id), role, user)
        device = Device(id=new_id(), team_id=team_id, project_id=project_id, name=name, slug=name,
                        repo_path="")
        device_door.create_device(user, access, device, {"name": name}, {})
        return device.id


def write(app: Flask, device_id: str, user_id: str, message: str, changes: Changes) -> str:
    """One version through the door (rules, lock, CAS, index, audit, mirror job, SQL commit).

    Photo references are first claimed for the device's team, as an upload does.
    """
    with app.app_context():
        user = db.session.get(User, user_id)
        device, access = device_access(user, device_id)
        for photo in changes.photos or []:
            device_door.record_team_photo(device.team_id, photo["sha256"])
        data, _ = versions.commit(device, access, changes, message)
        return data["commit"]


def tag(app: Flask, device_id: str, user_id: str, name: str) -> None:
    with app.app_context():
        versions.create_tag(db.session.get(User, user_id), device_id,
                            {"name": name, "rev": "main", "message": f"named {name}"})


def add_photo(data_dir: Path, content: bytes, filename: str = "rack.jpg") -> dict:
    """Put bytes in the local blob cache (as the upload does) and return their photos.json entry."""
    sha = hashlib.sha256(content).hexdigest()
    path = blob_path(data_dir, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return {"sha256": sha, "filename": filename, "content_type": "image/jpeg", "size": len(content)}


def device_row(app: Flask, device_id: str) -> Device:
    with app.app_context():
        device = db.session.get(Device, device_id)
        db.session.expunge(device)
        return device


def repo_state(app: Flask, device_id: str) -> tuple[dict[str, str], list[str]]:
    """(refs, `git log --format=%H main`) of the device's repo."""
    with app.app_context():
        path = repo_path(db.session.get(Device, device_id))
    log = run_git(path, "log", "--format=%H", "main").decode().split()
    return list_refs(path), log
