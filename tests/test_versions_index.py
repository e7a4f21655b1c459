"""The SQL commit index: `infratrace reindex` restores it, and concurrent API writers keep it whole."""

from __future__ import annotations

import subprocess
import threading

from sqlalchemy import delete, select

from app.cli import main as cli_main
from app.extensions import db
from app.models import CommitPath, CommitRecord, Device
from tests.device_support import World, world_fixture  # noqa: F401  (fixture)
from tests.privacy_support import drain


def _history(client, world: World, device_id: str, query: str = "") -> list[dict]:
    items, cursor = [], None
    while True:
        suffix = "?limit=3" + query + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v1/devices/{device_id}/versions{suffix}", headers=world.headers["viewer"]).get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def test_reindex_command_restores_identical_history(world, client, app, config, monkeypatch, capsys):
    device = world.create_device("sw")
    other = world.create_device("sw2")
    for i in range(8):
        world.write(device["id"], message=f"m{i}", configs={"run" if i % 2 else f"x{i}": f"{i}\n"}).close()
    world.write(other["id"], configs={"a": "1\n"}).close()
    drain(app)  # the writes' jobs (block summaries among them) ran, as under a WSGI server
    before = _history(client, world, device["id"])
    before_path = _history(client, world, device["id"], "&path=configs/run")
    before_device = client.get(f"/api/v1/devices/{device['id']}", headers=world.headers["viewer"]).get_json()
    with app.app_context():
        db.session.execute(delete(CommitPath))
        db.session.execute(delete(CommitRecord))
        db.session.commit()
    assert _history(client, world, device["id"]) == []

    monkeypatch.setenv("INFRATRACE_DATA", str(config.data_dir))
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("SECRET_KEY", "x")
    if config.redis_url:  # the command's jobs go to this test's Redis db, where drain() runs them
        monkeypatch.setenv("REDIS_URL", config.redis_url)
    assert cli_main(["reindex", "--device", device["id"]]) == 0
    assert "1 device(s), 9 commit(s)" in capsys.readouterr().out
    drain(app)  # block summaries went with the deleted rows; the analysis job the reindex queued writes them again
    assert _history(client, world, device["id"]) == before
    assert _history(client, world, device["id"], "&path=configs/run") == before_path
    after_device = client.get(f"/api/v1/devices/{device['id']}", headers=world.headers["viewer"]).get_json()
    for key in ("head_commit", "version_count", "last_changed_at"):
        assert after_device[key] == before_device[key]
    assert cli_main(["reindex"]) == 0
    assert "2 device(s), 11 commit(s)" in capsys.readouterr().out
    assert cli_main(["reindex", "--device", "nope"]) == 1


def test_sync_repairs_a_gap_left_by_a_crash(world, client, app):
    """A commit whose SQL write never happened is indexed by the next write's sync."""
    from app.services.gitstore_bridge import open_repo
    from gitstore import Author, Changes

    device = world.create_device("sw")
    with app.app_context():
        row = db.session.get(Device, device["id"])
        with open_repo(row) as repo:  # a ref move with no index write, as if the process died
            repo.commit_version(Changes(configs={"orphan": b"1\n"}), Author("x", "x@example.com"), "lost")
    world.write(device["id"], configs={"next": "2\n"})
    messages = [item["message"] for item in _history(client, world, device["id"])]
    assert messages == ["change", "lost", "Create device"]


def test_concurrent_api_writers_lose_nothing(world, client, app):
    device = world.create_device("busy")
    writers, per_writer = 4, 8
    errors: list[str] = []

    def writer(n: int) -> None:
        local = app.test_client()
        for i in range(per_writer):
            response = local.post(f"/api/v1/devices/{device['id']}/versions",
                                  json={"message": f"w{n} #{i}", "configs": {f"w{n}": f"{i}\n"}},
                                  headers=world.headers["editor"])
            if response.status_code != 201:
                errors.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = 1 + writers * per_writer
    history = _history(client, world, device["id"])
    assert len(history) == total and len({h["commit"] for h in history}) == total
    with app.app_context():
        row = db.session.get(Device, device["id"])
        repo = app.config["INFRATRACE"].repos_dir / row.repo_path
        assert row.version_count == total
        seqs = list(db.session.scalars(select(CommitRecord.seq).where(CommitRecord.device_id == row.id)
                                       .order_by(CommitRecord.seq)))
        assert seqs == list(range(1, total + 1))
        git_log = subprocess.run(["git", "--git-dir", str(repo), "rev-list", "main"], check=True,
                                 capture_output=True, text=True).stdout.split()
        assert git_log == [h["commit"] for h in history]
        assert row.head_commit == git_log[0]
        subprocess.run(["git", "--git-dir", str(repo), "fsck", "--strict"], check=True, capture_output=True)
    head = client.get(f"/api/v1/devices/{device['id']}/versions/HEAD", headers=world.headers["viewer"]).get_json()
    assert head["configs"] == {f"w{n}": f"{per_writer - 1}\n" for n in range(writers)}
