"""Partial clone (`git clone --filter=blob:none`) over smart HTTP, in both protocol versions: the
clone holds commits and trees only, and blobs arrive on demand (checkout, `git log -p`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitstore import Changes, DeviceRepo
from tests.githttp_support import *  # noqa: F403  (fixtures: world, server, git_home)
from tests.githttp_support import device_path, repo_url, run_git
from tests.webhook_support import private_webhooks_fixture  # noqa: F401  (fixture)


def _missing_blobs(git_home: Path, work: Path) -> set[str]:
    """Objects the clone knows of but does not hold (`rev-list --missing=print` prefixes them '?')."""
    out = run_git(git_home, "rev-list", "--objects", "--all", "--missing=print", cwd=work).stdout
    return {line[1:].split()[0] for line in out.splitlines() if line.startswith("?")}


@pytest.mark.parametrize("version", ["0", "2"])
def test_blobless_clone_fetches_blobs_on_demand(app, world, server, git_home, tmp_path, version):
    path = device_path(app, world.device_id)
    from gitstore import Author

    author = Author("user-x", "user-x@users.noreply.infratrace")
    with DeviceRepo.open(path) as repo:
        for n in range(5):
            repo.commit_version(Changes(configs={"running-config": f"hostname sw1\n! version {n}\n".encode(),
                                                 f"extra-{n}": f"extra {n}\n".encode() * 100}), author, f"change {n}")
    url = repo_url(server, "viewer", world.tokens["viewer"])
    work = tmp_path / "partial"
    proto = ["-c", f"protocol.version={version}"]
    run_git(git_home, *proto, "clone", "-q", "--no-checkout", "--filter=blob:none", url, str(work))
    assert run_git(git_home, "config", "remote.origin.partialclonefilter", cwd=work).stdout.strip() == "blob:none"
    missing = _missing_blobs(git_home, work)
    assert len(missing) >= 10, "a blob-less clone must leave the old versions' blobs on the server"
    assert run_git(git_home, "rev-list", "--count", "HEAD", cwd=work).stdout.strip() == "6"
    # Checking out and reading history fetch what is needed, from the same authenticated remote.
    run_git(git_home, *proto, "checkout", "-q", "main", cwd=work)
    assert (work / "configs" / "running-config").read_text() == "hostname sw1\n! version 4\n"
    log = run_git(git_home, *proto, "log", "-p", "--format=%s", "--", "configs/running-config", cwd=work).stdout
    assert "+! version 0" in log and "+! version 4" in log
    assert len(_missing_blobs(git_home, work)) < len(missing)
    assert run_git(git_home, "fsck", "--connectivity-only", cwd=work).returncode == 0


def test_a_want_outside_the_repo_is_refused(app, world, server, git_home, tmp_path):
    """allowReachableSHA1InWant: a want for an object this repo does not reach is refused."""
    url = repo_url(server, "viewer", world.tokens["viewer"])
    work = tmp_path / "c"
    run_git(git_home, "clone", "-q", "--filter=blob:none", url, str(work))
    bogus = "1234567890abcdef1234567890abcdef12345678"
    result = run_git(git_home, "-c", "protocol.version=0", "fetch", "origin", bogus, cwd=work, check=False)
    assert result.returncode != 0


def test_a_push_is_announced_as_one_version_event(app, world, server, git_home, tmp_path, private_webhooks):
    """Webhooks hear of versions from every way in, git push included (one event per push)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Device, User, WebhookDelivery
    from app.services import notifications

    with app.app_context():
        device = db.session.get(Device, world.device_id)
        admin = db.session.get(User, world.users["admin"])
        notifications.create_webhook(admin, device.project_id, {"url": "http://127.0.0.1:9/none",
                                                                "events": ["version.created"]})
    url = repo_url(server, "editor", world.tokens["editor"])
    work = tmp_path / "w"
    run_git(git_home, "clone", "-q", url, str(work))
    (work / "configs").mkdir()
    for n in (1, 2):
        (work / "configs" / "running-config").write_text(f"hostname sw1\n! {n}\n")
        run_git(git_home, "add", "-A", cwd=work)
        run_git(git_home, "commit", "-q", "-m", f"push {n}", cwd=work)
    run_git(git_home, "push", "-q", "origin", "main", cwd=work)
    with app.app_context():
        [row] = db.session.scalars(select(WebhookDelivery)).all()
        assert row.event == "version.created" and row.payload["count"] == 2
        assert [v["message"] for v in row.payload["versions"]] == ["push 1", "push 2"]
