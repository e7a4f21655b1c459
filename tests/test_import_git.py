"""`infratrace import-git`: Oxidized and RANCID repositories imported with their whole history.

The source repositories are built here with the git CLI: several authors, dates in several time
zones, group folders, a binary config, a removed file; then compared with what the API returns.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli import cmd_import_git
from app.extensions import db
from app.models import CommitRecord, Device, ImportedDevice
from app.services.git_import import import_git
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.webhook_support import private_webhooks_fixture  # noqa: F401  (fixture)


class Source:
    """A git repository built commit by commit with the git CLI, as a collector would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        self.git("init", "-q", "-b", "master")
        self.commits: list[dict] = []

    def git(self, *args: str, env: dict | None = None) -> str:
        return subprocess.run(["git", "-C", str(self.path), *args], check=True, capture_output=True, text=True,
                              env={**os.environ, **(env or {})}).stdout.strip()

    def commit(self, files: dict[str, bytes | None], message: str, when: str, name: str, email: str) -> str:
        for rel, data in files.items():
            target = self.path / rel
            if data is None:
                self.git("rm", "-q", rel)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.git("add", rel)
        self.git("commit", "-q", "--allow-empty-message", "-m", message,
                 env={"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": when,
                      "GIT_COMMITTER_NAME": "collector", "GIT_COMMITTER_EMAIL": "c@example.net",
                      "GIT_COMMITTER_DATE": when})
        sha = self.git("rev-parse", "HEAD")
        self.commits.append({"sha": sha, "files": dict(files), "message": message, "when": when})
        return sha


def _run(app, source: Path, project_id: str, **kwargs):
    with app.app_context():
        summary = import_git(source, project_id, **kwargs)
        db.session.remove()
        return summary


def _devices(app, project_id: str) -> dict[str, dict]:
    with app.app_context():
        rows = db.session.scalars(select(Device).where(Device.project_id == project_id)).all()
        return {d.name: {"id": d.id, "count": d.version_count, "custom": d.custom_fields} for d in rows}


def _history(world, device_id: str) -> list[dict]:
    response = world.client.get(f"/api/v1/devices/{device_id}/versions?limit=200", headers=world.headers["viewer"])
    assert response.status_code == 200
    return list(reversed(response.get_json()["items"]))


def _config(world, device_id: str, commit: str) -> bytes:
    response = world.client.get(f"/api/v1/devices/{device_id}/versions/{commit}/files/configs/running-config",
                                headers=world.headers["viewer"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data()


def _git_log(repo: Path) -> list[tuple[str, str, str]]:
    """(author name, author email, author date with offset) of every commit, oldest first."""
    out = subprocess.run(["git", "--git-dir", str(repo), "log", "--reverse", "--format=%an|%ae|%aI", "main"],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("|")) for line in out.splitlines()]  # type: ignore[misc]


@pytest.fixture
def oxidized(tmp_path) -> Source:
    src = Source(tmp_path / "oxidized")
    src.commit({"core/sw1": b"hostname sw1\nvlan 10\n", "edge/rtr1": b"hostname rtr1\n"},
               "first poll", "2019-03-01T10:00:00+02:00", "Alice Admin", "alice@corp.example")
    src.commit({"core/sw1": b"hostname sw1\nvlan 10\nvlan 20\n"}, "update sw1",
               "2019-03-02T08:30:00-05:00", "Bob Ops", "bob@corp.example")
    src.commit({"edge/rtr1": b"hostname rtr1\n\xff\xfebinary\x00tail\n", "core/sw2": b"hostname sw2\n"},
               "rtr1 and a new switch\n\nwith a body line", "2019-03-03T00:00:00+05:30", "Alice Admin",
               "alice@corp.example")
    src.commit({"core/sw1": b"hostname sw1\nvlan 20\n"}, "sw1 drops vlan 10", "2020-01-01T12:00:00Z",
               "Carol", "carol@corp.example")
    return src


def test_oxidized_history_is_imported_with_dates_messages_bytes_and_pseudonyms(world, app, oxidized):
    summary = _run(app, oxidized.path, world.project_id)
    assert summary.layout == "oxidized"
    assert (summary.devices_created, summary.versions_imported, summary.source_commits) == (3, 6, 4)
    devices = _devices(app, world.project_id)
    assert set(devices) == {"sw1", "rtr1", "sw2"}
    assert devices["sw1"]["custom"] == {"group": "core"} and devices["rtr1"]["custom"] == {"group": "edge"}

    sw1 = devices["sw1"]
    history = _history(world, sw1["id"])
    # One version per source commit that touched the file: nothing beneath the first one.
    assert [h["message"] for h in history] == ["first poll", "update sw1", "sw1 drops vlan 10"]
    assert history[0]["parent"] is None
    assert [h["created_at"] for h in history] == ["2019-03-01T08:00:00Z", "2019-03-02T13:30:00Z",
                                                  "2020-01-01T12:00:00Z"]
    assert [_config(world, sw1["id"], h["commit"]) for h in history] == [
        b"hostname sw1\nvlan 10\n", b"hostname sw1\nvlan 10\nvlan 20\n", b"hostname sw1\nvlan 20\n"]
    rtr1 = _history(world, devices["rtr1"]["id"])
    assert [h["message"] for h in rtr1] == ["first poll", "rtr1 and a new switch\n\nwith a body line"]
    assert _config(world, devices["rtr1"]["id"], rtr1[1]["commit"]) == b"hostname rtr1\n\xff\xfebinary\x00tail\n"

    # The repo itself: original dates with their offsets; authors only as pseudonyms.
    with app.app_context():
        row = db.session.get(Device, sw1["id"])
        repo = app.config["INFRATRACE"].repos_dir / row.repo_path
        device_json = subprocess.run(["git", "--git-dir", str(repo), "show", f"{history[0]['commit']}:device.json"],
                                     check=True, capture_output=True, text=True).stdout
        assert '"name":"sw1"' in device_json.replace(" ", "")
    log = _git_log(repo)
    assert [entry[2] for entry in log] == ["2019-03-01T10:00:00+02:00", "2019-03-02T08:30:00-05:00",
                                           "2020-01-01T12:00:00+00:00"]
    names = [entry[0] for entry in log]
    assert all(n.startswith("import-") for n in names) and len(set(names)) == 3
    rtr1_log = _git_log(app.config["INFRATRACE"].repos_dir / _repo_path(app, devices["rtr1"]["id"]))
    assert rtr1_log[0][0] == log[0][0] and rtr1_log[1][0] == log[0][0]  # the same person, one pseudonym
    everything = subprocess.run(["git", "--git-dir", str(repo), "log", "--format=%an %ae %cn %ce %B", "main"],
                                check=True, capture_output=True, text=True).stdout
    for secret in ("Alice", "alice@corp.example", "Bob", "bob@", "Carol", "corp.example", "collector"):
        assert secret not in everything
    assert history[0]["author"]["username"] is None and history[0]["author"]["pseudonym"] == names[0]


def _repo_path(app, device_id: str) -> str:
    with app.app_context():
        return db.session.get(Device, device_id).repo_path


def test_second_run_imports_nothing_and_later_runs_only_new_commits(world, app, oxidized):
    _run(app, oxidized.path, world.project_id)
    before = _devices(app, world.project_id)
    again = _run(app, oxidized.path, world.project_id)
    assert (again.versions_imported, again.devices_created, again.devices_unchanged) == (0, 0, 3)
    assert _devices(app, world.project_id) == before

    oxidized.commit({"core/sw2": b"hostname sw2\nntp server 10.0.0.1\n"}, "sw2 ntp",
                    "2021-06-01T09:00:00+01:00", "Bob Ops", "bob@corp.example")
    oxidized.commit({"edge/rtr1": None, "edge/fw1": b"hostname fw1\n"}, "rtr1 retired, fw1 added",
                    "2021-06-02T09:00:00+01:00", "Bob Ops", "bob@corp.example")
    third = _run(app, oxidized.path, world.project_id)
    assert (third.versions_imported, third.devices_created, third.devices_updated) == (3, 1, 2)
    after = _devices(app, world.project_id)
    assert set(after) == {"sw1", "rtr1", "sw2", "fw1"}
    assert after["sw1"] == before["sw1"]
    assert after["sw2"]["count"] == before["sw2"]["count"] + 1
    sw2 = _history(world, after["sw2"]["id"])
    assert sw2[-1]["message"] == "sw2 ntp" and sw2[-1]["created_at"] == "2021-06-01T08:00:00Z"
    assert _config(world, after["sw2"]["id"], sw2[-1]["commit"]) == b"hostname sw2\nntp server 10.0.0.1\n"
    rtr1 = _history(world, after["rtr1"]["id"])
    assert rtr1[-1]["message"] == "rtr1 retired, fw1 added"
    head = world.client.get(f"/api/v1/devices/{after['rtr1']['id']}/versions/HEAD", headers=world.headers["viewer"])
    assert head.get_json()["configs"] == {}
    assert _run(app, oxidized.path, world.project_id).versions_imported == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(ImportedDevice.id))) == 4


def test_rancid_layout_groups_and_ignores_other_files(world, app, tmp_path):
    src = Source(tmp_path / "rancid")
    src.commit({"dc1/router.db": b"core1;cisco;up\n",
                "dc1/configs/core1": b"!RANCID-CONTENT-TYPE: cisco\nhostname core1\n",
                "dc2/configs/edge9": b"hostname edge9\n", "dc1/.cvsignore": b"x\n"},
               "new router", "2018-05-05T05:05:05-07:00", "rancid", "rancid@nms.example")
    src.commit({"dc1/configs/core1": b"!RANCID-CONTENT-TYPE: cisco\nhostname core1\ninterface Gi0/1\n",
                "dc1/router.db": b"core1;cisco;up\nx;cisco;down\n"},
               "updates", "2018-05-06T05:05:05+09:00", "rancid", "rancid@nms.example")
    summary = _run(app, src.path, world.project_id)
    assert summary.layout == "rancid" and summary.versions_imported == 3
    devices = _devices(app, world.project_id)
    assert set(devices) == {"core1", "edge9"} and devices["core1"]["custom"] == {"group": "dc1"}
    core1 = _history(world, devices["core1"]["id"])
    assert [(h["message"], h["created_at"]) for h in core1] == [
        ("new router", "2018-05-05T12:05:05Z"), ("updates", "2018-05-05T20:05:05Z")]
    assert _config(world, devices["core1"]["id"], core1[1]["commit"]).endswith(b"interface Gi0/1\n")
    assert _git_log(app.config["INFRATRACE"].repos_dir / _repo_path(app, devices["core1"]["id"]))[1][2] == \
        "2018-05-06T05:05:05+09:00"
    assert _run(app, src.path, world.project_id).versions_imported == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(CommitRecord.id))) == 3


def test_cli_prints_a_summary_and_refuses_bad_input(world, app, oxidized, tmp_path, capsys):
    config = app.config["INFRATRACE"]
    args = argparse.Namespace(source=str(oxidized.path), project=world.project_id, user=None,
                              config="running-config")
    assert cmd_import_git(args, config) == 0
    out = capsys.readouterr().out
    assert "6 version(s) imported" in out and "3 device(s) created" in out
    for bad, message in (
        ({"source": str(tmp_path / "nowhere")}, "not a git repository"),
        ({"source": str(oxidized.path / "core")}, "not a git repository"),  # a folder inside one
        ({"project": "nope"}, "No such project"),
        ({"user": "nobody"}, "No user 'nobody'"),
        ({"user": "the-viewer"}, ""),
        ({"config": "../x"}, "not a valid config name"),
    ):
        assert cmd_import_git(argparse.Namespace(**{**vars(args), **bad}), config) == 1
        assert message in capsys.readouterr().err


class _Terminal:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_terminal_only(world, app, oxidized):
    from app.cli import _ProgressBar

    terminal, pipe = _Terminal(True), _Terminal(False)
    _run(app, oxidized.path, world.project_id, progress=_ProgressBar(terminal))
    _ProgressBar(pipe)(1, 2, "reading history")
    assert pipe.text == ""
    assert "reading history" in terminal.text and "4/4" in terminal.text
    assert "importing devices" in terminal.text and "3/3" in terminal.text and "#" * 30 in terminal.text


def test_import_git_announces_the_new_devices_and_versions(world, app, oxidized, private_webhooks):
    from app.models import WebhookDelivery
    from app.services import notifications

    with app.app_context():
        from app.models import User

        admin = db.session.get(User, world.user_ids["admin"])
        notifications.create_webhook(admin, world.project_id, {"url": "http://127.0.0.1:9/none"})
    _run(app, oxidized.path, world.project_id)
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery)).all()
        kinds = sorted(r.event for r in rows)
        assert kinds == ["device.created"] * 3 + ["version.created"] * 3
        sw1 = next(r.payload for r in rows if r.event == "version.created" and r.payload["device"]["name"] == "sw1")
        assert sw1["count"] == 3 and sw1["parent"] is None
        assert [v["message"] for v in sw1["versions"]] == ["first poll", "update sw1", "sw1 drops vlan 10"]
        assert all(v["author"].startswith("import-") for v in sw1["versions"])
        assert "corp.example" not in str([r.payload for r in rows])
