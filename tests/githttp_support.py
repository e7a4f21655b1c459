"""Fixtures for the git smart-HTTP tests: a team with every role, device repos, a real server
on loopback, and the real git CLI with a private HOME."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Device, Membership, Project, Team, User
from app.services import commit_index, gitstore_bridge, teams
from gitstore import DeviceRepo

ROLES = ("viewer", "editor", "admin", "owner")
PUSH_PSEUDONYM = "0123456789abcdef"
# The editor's identity (see `world`): what `git commit` in these tests writes.
PUSH_IDENTITY = (f"user-{PUSH_PSEUDONYM}", f"user-{PUSH_PSEUDONYM}@users.noreply.infratrace")


@dataclass
class World:
    """Team `acme` (one user per role) with project `core` and device `sw1`; team `other` apart."""

    users: dict[str, str] = field(default_factory=dict)  # role/name -> user id
    tokens: dict[str, str] = field(default_factory=dict)  # role/name -> read+write token
    read_tokens: dict[str, str] = field(default_factory=dict)
    device_id: str = ""
    other_device_id: str = ""


def add_device(app, team_slug: str, project_slug: str, slug: str, user_id: str,
               device: dict | None = None) -> str:
    """A Device row and its repository, made as the versions API will (create, then index)."""
    with app.app_context():
        team = db.session.query(Team).filter_by(slug=team_slug).one()
        project = db.session.query(Project).filter_by(team_id=team.id, slug=project_slug).one_or_none()
        if project is None:
            project = Project(team_id=team.id, name=project_slug.title(), slug=project_slug)
            db.session.add(project)
            db.session.flush()
        row = Device(team_id=team.id, project_id=project.id, name=slug, slug=slug, repo_path="")
        db.session.add(row)
        db.session.flush()
        user = db.session.get(User, user_id)
        path, _ = DeviceRepo.create(gitstore_bridge.repos_root(), row.id, device or {"name": slug},
                                    gitstore_bridge.author_for(user))
        row.repo_path = str(path.relative_to(gitstore_bridge.repos_root()))
        commit_index.sync_device(row)
        db.session.commit()
        return row.id


@pytest.fixture(name="world")
def world_fixture(app, make_user, token_for) -> World:
    w = World()
    # Usernames are the role plus "1" ("admin" itself is a reserved username).
    for role in ROLES:
        w.users[role], _ = make_user(f"{role}1")
    w.users["outsider"], _ = make_user("outsider1")
    with app.app_context():
        owner = db.session.get(User, w.users["owner"])
        access = teams.create_team(owner, "Acme")
        for role in ("viewer", "editor", "admin"):
            db.session.add(Membership(team_id=access.team.id, user_id=w.users[role], role=role))
        teams.create_team(db.session.get(User, w.users["outsider"]), "Other")
        db.session.commit()
    with app.app_context():
        # The git identity these tests commit with (PUSH_IDENTITY) is the editor's own pseudonym:
        # a push may carry only the pusher's own identity.
        db.session.get(User, w.users["editor"]).pseudonym = PUSH_PSEUDONYM
        db.session.commit()
    for name, user_id in w.users.items():
        w.tokens[name] = token_for(user_id, ("read", "write"))
        w.read_tokens[name] = token_for(user_id, ("read",))
    w.device_id = add_device(app, "acme", "core", "sw1", w.users["owner"])
    w.other_device_id = add_device(app, "other", "lab", "r1", w.users["outsider"])
    return w


class ThreadedServer:
    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, user: str | None = None, secret: str | None = None) -> str:
        credentials = f"{user}:{secret}@" if user else ""
        return f"http://{credentials}127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(name="server")
def server_fixture(app):
    running = ThreadedServer(app)
    yield running
    running.stop()


@pytest.fixture(name="git_home")
def git_home_fixture(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_ASKPASS": "/bin/false",
        # A pseudonymous identity, as the device page tells people to configure: pushes refuse real ones.
        "GIT_AUTHOR_NAME": PUSH_IDENTITY[0],
        "GIT_AUTHOR_EMAIL": PUSH_IDENTITY[1],
        "GIT_COMMITTER_NAME": PUSH_IDENTITY[0],
        "GIT_COMMITTER_EMAIL": PUSH_IDENTITY[1],
        "LANG": "C",
        "LC_ALL": "C",
    }


def run_git(home: Path, *args: str, cwd: Path | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", *args], cwd=cwd, env=git_env(home), capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def username(name: str) -> str:
    return f"{name}1"


def repo_url(server: ThreadedServer, user: str, secret: str, team: str = "acme", project: str = "core",
             device: str = "sw1") -> str:
    """The clone URL with `user` (a World key such as "editor") and a token in it."""
    return server.url(f"/git/{team}/{project}/{device}.git", username(user), secret)


def device_path(app, device_id: str) -> Path:
    with app.app_context():
        return gitstore_bridge.repo_path(db.session.get(Device, device_id))
