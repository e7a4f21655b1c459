"""Shared set-up for the inventory tests: two teams, tokens, and a device made straight in SQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.extensions import db
from app.models import Device, User
from app.services.gitstore_bridge import author_for, repos_root
from gitstore import DeviceRepo
from tests.client_support import bearer


@dataclass
class World:
    client: object
    alice: dict[str, str]  # owner of "net"
    bob: dict[str, str]  # editor of "net"
    carol: dict[str, str]  # owner of "other", not in "net"
    alice_id: str
    bob_id: str
    carol_id: str

    def post(self, path: str, body: object, who: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return self.client.post(path, json=body, headers=who or self.alice)

    def project(self, name: str = "Core", team: str = "net", who: dict[str, str] | None = None) -> dict:
        response = self.post(f"/api/v1/teams/{team}/projects", {"name": name}, who)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()


@pytest.fixture(name="world")
def world_fixture(client, make_user, token_for) -> World:
    alice_id, _ = make_user("alice")
    bob_id, _ = make_user("bob")
    carol_id, _ = make_user("carol")
    alice, bob, carol = (bearer(token_for(uid)) for uid in (alice_id, bob_id, carol_id))
    assert client.post("/api/v1/teams", json={"name": "net"}, headers=alice).status_code == 201
    assert client.post("/api/v1/teams/net/members", json={"email": "bob@example.com", "role": "editor"},
                       headers=alice).status_code == 201
    assert client.post("/api/v1/teams", json={"name": "other"}, headers=carol).status_code == 201
    return World(client, alice, bob, carol, alice_id, bob_id, carol_id)


def make_device(app, project_id: str, name: str = "sw1", serial: str = "", ips: list[str] | None = None,
                with_repo: bool = True) -> tuple[str, object]:
    """A device row (and its real repository) as the devices feature would make it."""
    from app.models import Project

    with app.app_context():
        project = db.session.get(Project, project_id)
        author = author_for(db.session.scalars(db.select(User)).first())
        device = Device(team_id=project.team_id, project_id=project.id, name=name, slug=name, serial=serial,
                        management_ips=ips or [], repo_path="")
        db.session.add(device)
        db.session.flush()
        path = None
        if with_repo:
            path, _ = DeviceRepo.create(repos_root(), device.id, {"name": name}, author)
            device.repo_path = str(path.relative_to(repos_root()))
        db.session.commit()
        return device.id, path
