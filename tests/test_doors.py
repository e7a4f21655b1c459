"""Every way into a device's refs x every rule of the door: the same refusal, the same status.

Ways in: the API version write, batch import, tag create and delete, photo add and remove,
device metadata update and delete, and a real `git push` over HTTP. Rules: a viewer, a read-only
token, an archived device, another user's identity, another team's photo, invalid content, a
plan limit. Each cell must refuse with the rule's status and leave the repository's refs, the
commit index and the audit trail exactly as they were.

Status of a push: git's HTTP answers carry the door's status (403, 409, 402); a refusal by the
content checks (run by the pre-receive hook the door configures) is reported by receive-pack as
"pre-receive hook declined", the git form of 422.

Cells that cannot be expressed on a way in are left out on purpose (NOT_APPLICABLE says why).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CommitRecord, Device, Team, User
from app.services import devices, photos, plans
from gitstore import DeviceRepo, canonical_json
from tests.client_support import bearer
from tests.githttp_support import (  # noqa: F401  (fixtures)
    device_path,
    git_env,
    git_home_fixture,
    repo_url,
    run_git,
    server_fixture,
    world_fixture,
)
from tests.photo_support import image_bytes

RULE_STATUS = {
    "viewer": 403,
    "read_scope": 403,
    "archived": 409,
    "other_identity": 422,
    "foreign_photo": 422,
    "invalid": 422,
    "plan_limit": 402,
}
WAYS = ("api_write", "api_import", "tag_create", "tag_delete", "photo_add", "photo_remove",
        "device_update", "device_delete", "push")
NOT_APPLICABLE = {
    # Deleting a tag, a photo or a device carries no content: no identity, photo or JSON to check.
    **{(way, rule): "carries no content" for way in ("tag_delete", "photo_remove", "device_delete")
       for rule in ("other_identity", "foreign_photo", "invalid")},
    # An upload names no sha256: the bytes are the team's own by construction.
    ("photo_add", "foreign_photo"): "the bytes are uploaded, not named",
    # Deleting is never limited by a plan, and an archived device may be deleted.
    ("tag_delete", "plan_limit"): "removal is never limited",
    ("device_delete", "plan_limit"): "removal is never limited",
    ("device_delete", "archived"): "an archived device may be deleted",
}
CELLS = [(way, rule) for way in WAYS for rule in RULE_STATUS if (way, rule) not in NOT_APPLICABLE]


class Door:
    """One test's world: the device, tokens by role, a photo of the other team, a tag and a photo."""

    def __init__(self, app, world, server, git_home, client, tmp_path: Path) -> None:
        self.app, self.world, self.server, self.git_home = app, world, server, git_home
        self.client, self.tmp = client, tmp_path
        self.device_id = world.device_id
        self.repo = device_path(app, world.device_id)
        with app.app_context():
            outsider = db.session.get(User, world.users["outsider"])
            foreign, _ = photos.upload_photo(outsider, world.other_device_id, {}, "x.jpg",
                                             io.BytesIO(image_bytes("JPEG", color=(200, 10, 10))))
            self.foreign_photo = foreign["photo"]
            owner = db.session.get(User, world.users["owner"])
            own, _ = photos.upload_photo(owner, self.device_id, {}, "own.jpg", io.BytesIO(image_bytes("JPEG")))
            self.own_sha = own["photo"]["sha256"]
            from app.services import versions

            versions.create_tag(owner, self.device_id, {"name": "v1"})
            self.other_pseudonym = db.session.get(User, world.users["owner"]).author_name

    def headers(self, rule: str, role: str = "editor") -> dict[str, str]:
        if rule == "viewer":
            return bearer(self.world.tokens["viewer"])
        if rule == "read_scope":
            return bearer(self.world.read_tokens[role])
        return bearer(self.world.tokens[role])

    def state(self) -> tuple:
        refs = None
        if self.repo.exists():
            with DeviceRepo.open(self.repo) as repo:
                refs = repo.refs()
        with self.app.app_context():
            commits = db.session.scalar(select(func.count(CommitRecord.id))
                                        .where(CommitRecord.device_id == self.device_id))
            events = db.session.scalar(select(func.count(AuditEvent.id)))
            exists = db.session.get(Device, self.device_id) is not None
        return refs, commits, events, exists

    # -- the ways in ------------------------------------------------------------------------

    def api_write(self, rule: str) -> int:
        body: dict = {"message": "m", "configs": {"running-config": "hostname x\n"}}
        if rule == "other_identity":
            body["author"] = self.other_pseudonym
        elif rule == "foreign_photo":
            body["photos"] = [self.foreign_photo]
        elif rule == "invalid":
            body["ports"] = [{"name": 5}]
        return self.client.post(f"/api/v1/devices/{self.device_id}/versions", json=body,
                                headers=self.headers(rule)).status_code

    def api_import(self, rule: str) -> int:
        version: dict = {"message": "m", "configs": {"running-config": "hostname y\n"}}
        if rule == "other_identity":
            version["author"] = self.other_pseudonym
        elif rule == "foreign_photo":
            version["photos"] = [self.foreign_photo]
        elif rule == "invalid":
            version["ports"] = "not a list"
        return self.client.post(f"/api/v1/devices/{self.device_id}/versions/import",
                                json={"versions": [version]}, headers=self.headers(rule)).status_code

    def tag_create(self, rule: str) -> int:
        body: dict = {"name": "v2"}
        if rule == "other_identity":
            body["tagger"] = self.other_pseudonym
        elif rule == "foreign_photo":
            body["photos"] = [self.foreign_photo]
        elif rule == "invalid":
            body["name"] = "bad name..lock"
        return self.client.post(f"/api/v1/devices/{self.device_id}/tags", json=body,
                                headers=self.headers(rule)).status_code

    def tag_delete(self, rule: str) -> int:
        # Deleting a tag needs the admin role: an admin's token for every rule but `viewer`.
        return self.client.delete(f"/api/v1/devices/{self.device_id}/tags/v1",
                                  headers=self.headers(rule, "admin")).status_code

    def photo_add(self, rule: str) -> int:
        data = b"not an image at all" if rule == "invalid" else image_bytes("PNG", color=(1, 2, 3))
        form: dict = {"file": (io.BytesIO(data), "new.png")}
        if rule == "other_identity":
            form["author"] = self.other_pseudonym
        return self.client.post(f"/api/v1/devices/{self.device_id}/photos", data=form,
                                headers=self.headers(rule), content_type="multipart/form-data").status_code

    def photo_remove(self, rule: str) -> int:
        return self.client.delete(f"/api/v1/devices/{self.device_id}/photos/{self.own_sha}",
                                  headers=self.headers(rule)).status_code

    def device_update(self, rule: str) -> int:
        body: dict = {"vendor": "Other"}
        if rule == "other_identity":
            body["author"] = self.other_pseudonym
        elif rule == "foreign_photo":
            body["photos"] = [self.foreign_photo]
        elif rule == "invalid":
            body["management_ips"] = ["not an ip"]
        return self.client.patch(f"/api/v1/devices/{self.device_id}", json=body,
                                 headers=self.headers(rule)).status_code

    def device_delete(self, rule: str) -> int:
        return self.client.delete(f"/api/v1/devices/{self.device_id}",
                                  headers=self.headers(rule, "admin")).status_code

    def push(self, rule: str) -> int:
        work = self.tmp / "w"
        run_git(self.git_home, "clone", "-q", repo_url(self.server, "editor", self.world.tokens["editor"]), str(work))
        env = {}
        if rule == "other_identity":
            name = self.other_pseudonym
            env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": f"{name}@users.noreply.infratrace"}
        if rule == "foreign_photo":
            current = json.loads((work / "photos.json").read_text())
            (work / "photos.json").write_bytes(canonical_json([*current, self.foreign_photo]))
        elif rule == "invalid":
            (work / "ports.json").write_text('[{"name": 5}]\n')
        else:
            (work / "configs").mkdir(exist_ok=True)
            (work / "configs" / "pushed").write_text("pushed\n")
        run_git(self.git_home, "add", "-A", cwd=work)
        subprocess.run(["git", "commit", "-q", "-m", "pushed"], cwd=work, check=True, capture_output=True,
                       env={**git_env(self.git_home), **env})
        token = {"viewer": self.world.tokens["viewer"], "read_scope": self.world.read_tokens["editor"]}.get(
            rule, self.world.tokens["editor"])
        user = "viewer" if rule == "viewer" else "editor"
        result = run_git(self.git_home, "push", repo_url(self.server, user, token), "HEAD:main", cwd=work,
                         check=False)
        assert result.returncode != 0, result.stderr
        found = re.search(r"returned error: (\d{3})", result.stderr)
        if found:
            return int(found.group(1))
        assert "pre-receive hook declined" in result.stderr, result.stderr
        return 422


@pytest.fixture
def door(app, world, server, git_home, client, tmp_path) -> Door:
    return Door(app, world, server, git_home, client, tmp_path)


def _apply_rule(door: Door, rule: str, monkeypatch) -> None:
    if rule == "archived":
        with door.app.app_context():
            devices.set_archived(db.session.get(User, door.world.users["owner"]), door.device_id, True)
    if rule == "plan_limit":
        monkeypatch.setitem(plans.PLAN_LIMITS, "door-test", {"devices": None, "members": None,
                                                             "versions": 1, "tags": 0})
        with door.app.app_context():
            team = db.session.scalars(select(Team).where(Team.slug == "acme")).one()
            team.plan = "door-test"
            db.session.commit()


@pytest.mark.parametrize(("way", "rule"), CELLS, ids=[f"{w}-{r}" for w, r in CELLS])
def test_every_door_refuses_every_rule_alike(door, way, rule, monkeypatch):
    _apply_rule(door, rule, monkeypatch)
    before = door.state()
    status = getattr(door, way)(rule)
    assert status == RULE_STATUS[rule], f"{way} x {rule}: {status}"
    assert door.state() == before, f"{way} x {rule} changed something"


@pytest.mark.parametrize("way", WAYS)
def test_every_door_lets_an_allowed_change_through(door, way, monkeypatch):
    """The control: the same request by an allowed caller succeeds and records everything."""
    before = door.state()
    status = getattr(door, way)("allowed") if way != "push" else None
    if way == "push":
        work = door.tmp / "ok"
        run_git(door.git_home, "clone", "-q", repo_url(door.server, "editor", door.world.tokens["editor"]), str(work))
        (work / "configs").mkdir(exist_ok=True)
        (work / "configs" / "pushed").write_text("pushed\n")
        run_git(door.git_home, "add", "-A", cwd=work)
        run_git(door.git_home, "commit", "-q", "-m", "pushed", cwd=work)
        run_git(door.git_home, "push", "-q", "origin", "main", cwd=work)
    else:
        assert status in (200, 201, 204), f"{way}: {status}"
    after = door.state()
    assert after != before
    assert after[2] > before[2], f"{way}: no audit event"
