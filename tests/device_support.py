"""Fixtures for the device and version tests: a team with a member per role, a project, devices.

Projects belong to another branch's API, so the project row is inserted through the models.
"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Project, Team
from tests.client_support import bearer

ROLES = ("viewer", "editor", "admin", "owner")


class World:
    """Ids and auth headers of one test's team, its members and a project."""

    def __init__(self, client, make_user, token_for, app) -> None:
        self.client = client
        self.app = app
        self.headers: dict[str, dict[str, str]] = {}
        owner_id, _ = make_user("the-owner")
        self.headers["owner"] = bearer(token_for(owner_id))
        self.user_ids = {"owner": owner_id}
        assert client.post("/api/v1/teams", json={"name": "Acme"}, headers=self.headers["owner"]).status_code == 201
        for role in ("viewer", "editor", "admin"):
            uid, name = make_user(f"the-{role}")
            self.user_ids[role] = uid
            response = client.post("/api/v1/teams/acme/members", json={"email": f"{name}@example.com", "role": role},
                                   headers=self.headers["owner"])
            assert response.status_code == 201, response.get_data(as_text=True)
            self.headers[role] = bearer(token_for(uid))
        outsider, _ = make_user("outsider")
        self.headers["outsider"] = bearer(token_for(outsider))
        client.post("/api/v1/teams", json={"name": "Other"}, headers=self.headers["outsider"])
        with app.app_context():
            team = db.session.query(Team).filter_by(slug="acme").one()
            other = db.session.query(Team).filter_by(slug="other").one()
            project = Project(team_id=team.id, name="Core", slug="core", description="")
            other_project = Project(team_id=other.id, name="Theirs", slug="theirs", description="")
            db.session.add_all([project, other_project])
            db.session.commit()
            self.project_id, self.other_project_id = project.id, other_project.id
            self.team_id = team.id

    def create_device(self, name: str = "core-sw-1", role: str = "editor", **fields) -> dict:
        response = self.client.post(f"/api/v1/projects/{self.project_id}/devices",
                                    json={"name": name, **fields}, headers=self.headers[role])
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def write(self, device_id: str, role: str = "editor", expect: int | None = 201, **body):
        body.setdefault("message", "change")
        response = self.client.post(f"/api/v1/devices/{device_id}/versions", json=body, headers=self.headers[role])
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response


def team_with_project(app, client, owner: dict[str, str], member_email: str, role: str) -> tuple[str, str]:
    """The team Acme of `owner`'s user, with one more member (`member_email` as `role`), and its
    project Core (inserted through the models, as above): (team id, project id)."""
    client.post("/api/v1/teams", json={"name": "Acme"}, headers=owner)
    client.post("/api/v1/teams/acme/members", json={"email": member_email, "role": role}, headers=owner)
    with app.app_context():
        team = db.session.query(Team).filter_by(slug="acme").one()
        project = Project(team_id=team.id, name="Core", slug="core", description="")
        db.session.add(project)
        db.session.commit()
        return team.id, project.id


@pytest.fixture(name="world")
def world_fixture(client, make_user, token_for, app) -> World:
    return World(client, make_user, token_for, app)
