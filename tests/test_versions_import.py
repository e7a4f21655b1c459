"""POST /api/v1/devices/<id>/versions/import: many versions, in order, all or nothing."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CommitPath, CommitRecord, Device
from tests.client_support import assert_error
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.privacy_support import drain


@pytest.fixture
def device(world) -> dict:
    return world.create_device("sw1")


def _import(world, device, role: str = "editor", **body):
    return world.client.post(f"/api/v1/devices/{device['id']}/versions/import", json=body,
                             headers=world.headers[role])


def _state(app, device_id: str) -> tuple:
    """Everything an import may change: the repo's refs and objects, the index, the audit trail."""
    with app.app_context():
        row = db.session.get(Device, device_id)
        repo = app.config["INFRATRACE"].repos_dir / row.repo_path
        refs = subprocess.run(["git", "--git-dir", str(repo), "show-ref"], capture_output=True, text=True).stdout
        objects = sorted(str(p.relative_to(repo)) for p in (repo / "objects").rglob("*"))
        counts = (db.session.scalar(select(func.count(CommitRecord.id)).where(CommitRecord.device_id == device_id)),
                  db.session.scalar(select(func.count(CommitPath.id)).where(CommitPath.device_id == device_id)),
                  db.session.scalar(select(func.count(AuditEvent.id))))
        return refs, objects, counts, row.head_commit, row.version_count


def _history(world, device, query: str = "") -> list[dict]:
    response = world.client.get(f"/api/v1/devices/{device['id']}/versions?limit=200{query}",
                                headers=world.headers["viewer"])
    assert response.status_code == 200
    return response.get_json()["items"]


def test_import_keeps_order_dates_and_indexes_every_commit(world, app, device):
    versions = [
        {"message": "from rancid 1", "configs": {"running": "hostname a\nvlan 1\n"},
         "author_time": "2019-03-01T10:00:00+02:00"},
        {"message": "from rancid 2", "configs": {"running": "hostname a\nvlan 2\n", "startup": "s\n"},
         "author_time": "2019-03-02T08:30:00Z"},
        {"message": "ports", "ports": [{"name": "Gi1/0/10"}, {"name": "Gi1/0/2"}],
         "author_time": "2018-12-31T23:00:00-05:00"},
        {"message": "no date given", "configs": {"startup": None}},
    ]
    response = _import(world, device, versions=versions, parent=device["head_commit"])
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    commits = body["commits"]
    assert [c["index"] for c in commits] == [0, 1, 2, 3] and body["skipped"] == []
    assert body["parent"] == device["head_commit"] and body["head"] == commits[-1]["commit"]
    assert commits[0]["parent"] == device["head_commit"]
    assert [c["parent"] for c in commits[1:]] == [c["commit"] for c in commits[:-1]]
    assert [c["created_at"] for c in commits[:3]] == ["2019-03-01T08:00:00Z", "2019-03-02T08:30:00Z",
                                                     "2019-01-01T04:00:00Z"]
    assert commits[1]["files"] == [
        {"path": "configs/running", "status": "modified", "additions": 1, "deletions": 1},
        {"path": "configs/startup", "status": "added", "additions": 1, "deletions": 0}]
    assert commits[0]["author"]["username"] == "the-editor" and commits[0]["web_url"].endswith(commits[0]["commit"])

    history = _history(world, device)
    assert [h["commit"] for h in history] == [c["commit"] for c in reversed(commits)] + [device["head_commit"]]
    assert [h["message"] for h in history[:4]] == ["no date given", "ports", "from rancid 2", "from rancid 1"]
    assert history[3]["created_at"] == "2019-03-01T08:00:00Z" and history[2]["files_changed"] == 2
    assert [h["commit"] for h in _history(world, device, "&path=configs/startup")] == [
        commits[3]["commit"], commits[1]["commit"]]
    head = world.client.get(f"/api/v1/devices/{device['id']}/versions/HEAD", headers=world.headers["viewer"])
    assert head.get_json()["configs"] == {"running": "hostname a\nvlan 2\n"}
    assert [p["name"] for p in head.get_json()["ports"]] == ["Gi1/0/2", "Gi1/0/10"]

    with app.app_context():
        row = db.session.get(Device, device["id"])
        assert row.head_commit == body["head"] and row.version_count == 5
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == device["id"],
                                                             AuditEvent.action == "import")).all()
        assert len(events) == 1, "one audit event for the whole import"
        assert events[0].changes["commits"] == 4 and events[0].changes["head"] == body["head"]
        repo = app.config["INFRATRACE"].repos_dir / row.repo_path
    # git itself keeps the author's own offset, and the repo is clean.
    dates = subprocess.run(["git", "--git-dir", str(repo), "log", "-4", "--format=%ad", "--date=iso-strict",
                            "main"], capture_output=True, text=True, check=True).stdout.split()
    assert dates[1:] == ["2018-12-31T23:00:00-05:00", "2019-03-02T08:30:00+00:00", "2019-03-01T10:00:00+02:00"]
    subprocess.run(["git", "--git-dir", str(repo), "fsck", "--strict"], check=True, capture_output=True)

    # The index written from the import equals one rebuilt from the repo (once the import's jobs ran,
    # as they do when a WSGI server closes the response: block summaries are written by a job).
    response.close()
    drain(app)
    before = _history(world, device)
    with app.app_context():
        from app.services import commit_index

        assert commit_index.reindex(device["id"])[1] == 5
    assert _history(world, device) == before


def test_no_change_versions_are_skipped_and_reported(world, device):
    world.write(device["id"], configs={"running": "a\n"})
    response = _import(world, device, versions=[
        {"message": "same", "configs": {"running": "a\n"}},
        {"message": "new", "configs": {"running": "b\n"}},
        {"message": "same again", "configs": {"running": "b\n"}},
    ])
    body = response.get_json()
    assert response.status_code == 201
    assert [c["index"] for c in body["commits"]] == [1]
    assert body["skipped"] == [{"index": 0, "reason": "no_change"}, {"index": 2, "reason": "no_change"}]
    assert len(_history(world, device)) == 3


def test_a_bad_version_in_the_middle_changes_nothing(world, app, device):
    world.write(device["id"], configs={"running": "a\n"})
    before = _state(app, device["id"])
    good = {"message": "ok", "configs": {"running": "b\n"}}
    cases = [
        ({"message": "bad", "configs": {"../etc": "x"}}, "versions[1].configs.../etc"),
        ({"message": "bad", "ports": [{"name": "Gi1", "vlans": [5000]}]}, "versions[1].ports[0].vlans"),
        ({"message": "bad", "configs": {"running/sub": "x"}}, "versions[1].configs.running/sub"),
    ]
    for bad, field in cases:
        response = _import(world, device, versions=[good, bad, good])
        assert assert_error(response, 422)["field"].startswith(field), field
        assert _state(app, device["id"]) == before


@pytest.mark.parametrize(
    ("versions", "field"),
    [
        ([{"message": "ok"}, {"configs": {"a": "x"}}], "versions[1].message"),
        ([{"message": "ok"}, {"message": "m", "colour": "red"}], "versions[1].colour"),
        ([{"message": "ok"}, "text"], "versions[1]"),
        ([{"message": "m", "configs": {"a": 5}}], "versions[0].configs.a"),
        ([{"message": "m", "configs_base64": {"a": "!!"}}], "versions[0].configs.a"),
        ([{"message": "m", "author_time": "yesterday"}], "versions[0].author_time"),
        ([{"message": "m", "author_time": "2020-01-01T00:00:00"}], "versions[0].author_time"),
        ([{"message": "m", "author_time": 1577836800}], "versions[0].author_time"),
        ([{"message": "ok"}, {"message": "x" * 10_001}], "versions[1].message"),
        ([{"message": "ok"}, {"message": "   "}], "versions[1].message"),
        ({"message": "m"}, "versions"),
    ],
)
def test_bad_bodies_are_422_naming_the_version(world, device, versions, field):
    assert assert_error(_import(world, device, versions=versions), 422)["field"] == field


def test_bad_top_level_fields_are_422(world, device):
    assert assert_error(_import(world, device), 422)["field"] == "versions"
    assert assert_error(_import(world, device, versions=[], extra=1), 422)["field"] == "extra"
    assert assert_error(_import(world, device, versions=[], parent=5), 422)["field"] == "parent"
    assert assert_error(_import(world, device, versions=[{"message": "m"}], parent="f" * 40), 422)["field"] == "parent"


def test_stale_parent_is_409_and_changes_nothing(world, app, device):
    first = world.write(device["id"], configs={"running": "a\n"}).get_json()
    before = _state(app, device["id"])
    response = _import(world, device, versions=[{"message": "m", "configs": {"running": "b\n"}}],
                       parent=device["head_commit"])
    assert assert_error(response, 409, "conflict")["head"] == first["commit"]
    assert _state(app, device["id"]) == before


def test_over_limits_is_413(world, app, device, monkeypatch):
    too_many = [{"message": f"v{i}"} for i in range(1001)]
    assert assert_error(_import(world, device, versions=too_many), 413, "too_large")["field"] == "versions"
    config = app.config["INFRATRACE"]
    monkeypatch.setitem(app.config, "INFRATRACE", config.with_changes(max_config_bytes=1000))
    error = assert_error(_import(world, device, versions=[{"message": "ok"},
                                                          {"message": "m", "configs": {"big": "x" * 1001}}]), 413)
    assert error["field"] == "versions[1].configs.big"
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = _import(world, device, versions=[{"message": "m", "configs": {"a": "x" * 3000}}])
    assert_error(response, 413, "too_large")
    assert len(_history(world, device)) == 1


def test_viewer_is_403_and_other_team_is_404(world, app, device):
    before = _state(app, device["id"])
    versions = [{"message": "m", "configs": {"a": "x\n"}}]
    assert_error(_import(world, device, role="viewer", versions=versions), 403)
    assert_error(_import(world, device, role="outsider", versions=versions), 404)
    assert _state(app, device["id"]) == before
    assert _import(world, device, role="admin", versions=versions).status_code == 201
