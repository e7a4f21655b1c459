"""Git over HTTP serves what the refs reach and nothing else; clone URLs work with or without `.git`
(issue 9, finding 7)."""

from __future__ import annotations

import pygit2
import pytest

from gitstore import DeviceRepo
from tests.client_support import bearer
from tests.githttp_support import (  # noqa: F401  (fixtures)
    device_path,
    git_home_fixture,
    repo_url,
    run_git,
    server_fixture,
    world_fixture,
)


def _tag_object(app, device_id: str, name: str) -> str:
    with DeviceRepo.open(device_path(app, device_id)) as repo:
        return str(repo.raw.references[f"refs/tags/{name}"].target)


@pytest.mark.parametrize("version", ["0", "2"])
def test_a_deleted_tags_object_cannot_be_fetched(app, client, world, server, git_home, tmp_path, version):
    headers = bearer(world.tokens["owner"])
    created = client.post(f"/api/v1/devices/{world.device_id}/tags",
                          json={"name": "secret-tag", "message": "a message that must go with the tag"},
                          headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    tag_sha = _tag_object(app, world.device_id, "secret-tag")
    url = repo_url(server, "viewer", world.tokens["viewer"])
    work = tmp_path / "w"
    run_git(git_home, "-c", f"protocol.version={version}", "clone", "--no-tags", url, str(work))

    # While the tag exists, its object is served (it is a ref tip).
    fetched = run_git(git_home, "-c", f"protocol.version={version}", "fetch", "origin", tag_sha, cwd=work,
                      check=False)
    assert fetched.returncode == 0, fetched.stderr
    run_git(git_home, "cat-file", "-e", tag_sha, cwd=work)

    assert client.delete(f"/api/v1/devices/{world.device_id}/tags/secret-tag", headers=headers).status_code == 204
    fresh = tmp_path / "fresh"
    run_git(git_home, "-c", f"protocol.version={version}", "clone", "--no-tags", url, str(fresh))
    attempt = run_git(git_home, "-c", f"protocol.version={version}", "fetch", "origin", tag_sha, cwd=fresh,
                      check=False)
    assert attempt.returncode != 0, "a deleted tag's object was served"
    assert run_git(git_home, "cat-file", "-e", tag_sha, cwd=fresh, check=False).returncode != 0


def test_a_commit_no_ref_reaches_cannot_be_fetched(app, world, server, git_home, tmp_path):
    """A commit written but never on a ref (a lost compare-and-swap, an aborted import)."""
    with DeviceRepo.open(device_path(app, world.device_id)) as repo:
        head = repo.head()
        raw = repo.raw
        signature = pygit2.Signature("user-x", "user-x@users.noreply.infratrace")
        builder = raw.TreeBuilder(raw[head].tree)
        builder.insert("orphan.txt", raw.create_blob(b"never published\n"), pygit2.enums.FileMode.BLOB)
        orphan = str(raw.create_commit(None, signature, signature, "orphan", builder.write(), [head]))
    url = repo_url(server, "viewer", world.tokens["viewer"])
    work = tmp_path / "w"
    run_git(git_home, "-c", "protocol.version=2", "clone", url, str(work))
    for version in ("0", "2"):
        attempt = run_git(git_home, "-c", f"protocol.version={version}", "fetch", "origin", orphan, cwd=work,
                          check=False)
        assert attempt.returncode != 0, f"protocol v{version} served an unreachable commit"
    # A reachable commit by its id is still fine (allowReachableSHA1InWant semantics).
    fetched = run_git(git_home, "-c", "protocol.version=2", "fetch", "origin", head, cwd=work, check=False)
    assert fetched.returncode == 0, fetched.stderr


@pytest.mark.parametrize("suffix", [".git", ""])
def test_clone_urls_work_with_or_without_dot_git(app, world, server, git_home, tmp_path, suffix):
    url = repo_url(server, "editor", world.tokens["editor"]).removesuffix(".git") + suffix
    work = tmp_path / "w"
    run_git(git_home, "clone", url, str(work))
    assert (work / "device.json").is_file()
    (work / "configs").mkdir(exist_ok=True)
    (work / "configs" / "running").write_text("hostname sw1\n")
    run_git(git_home, "add", "-A", cwd=work)
    run_git(git_home, "commit", "-q", "-m", "push without .git" if not suffix else "push with .git", cwd=work)
    pushed = run_git(git_home, "push", url, "HEAD:main", cwd=work, check=False)
    assert pushed.returncode == 0, pushed.stderr


def test_without_dot_git_an_unknown_repo_is_still_404(app, world, server, git_home, tmp_path):
    url = repo_url(server, "viewer", world.tokens["viewer"], device="nope").removesuffix(".git")
    result = run_git(git_home, "ls-remote", url, check=False)
    assert result.returncode != 0 and "not found" in result.stderr.lower()
