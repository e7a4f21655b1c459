"""Clone, fetch, pull and push of device repositories with the real git CLI over loopback HTTP."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CommitRecord, Device, User
from gitstore import DeviceRepo, canonical_json
from tests.githttp_support import (  # noqa: F401  (fixtures)
    add_device,
    device_path,
    git_env,
    git_home_fixture,
    repo_url,
    run_git,
    server_fixture,
    world_fixture,
)

PORTS = [{"name": "Gi1/0/1", "enabled": True, "mode": "access", "vlans": [10]},
         {"name": "Gi1/0/2", "enabled": False}]


def head_of(app, device_id: str) -> str:
    with DeviceRepo.open(device_path(app, device_id)) as repo:
        return repo.head()


def clone(git_home: Path, url: str, dest: Path, *options: str) -> Path:
    run_git(git_home, *options, "clone", url, str(dest))
    return dest


def commit_all(git_home: Path, work: Path, message: str) -> str:
    run_git(git_home, "add", "-A", cwd=work)
    run_git(git_home, "commit", "-q", "-m", message, cwd=work)
    return run_git(git_home, "rev-parse", "HEAD", cwd=work).stdout.strip()


def test_clone_shallow_ls_remote_fetch_and_pull(app, world, server, git_home, tmp_path):
    url = repo_url(server, "viewer", world.tokens["viewer"])
    work = clone(git_home, url, tmp_path / "viewer")
    assert json.loads((work / "device.json").read_text()) == {"name": "sw1"}
    first = head_of(app, world.device_id)

    listing = run_git(git_home, "ls-remote", url).stdout
    assert f"{first}\tHEAD" in listing and f"{first}\trefs/heads/main" in listing

    # An editor pushes two versions; the viewer's fetch and pull see them.
    editor = clone(git_home, repo_url(server, "editor", world.tokens["editor"]), tmp_path / "editor")
    for n in (1, 2):
        (editor / "configs").mkdir(exist_ok=True)
        (editor / "configs" / "running-config").write_text(f"hostname sw1\n! version {n}\n")
        commit_all(git_home, editor, f"Change {n}")
    run_git(git_home, "push", "-q", "origin", "main", cwd=editor)
    new_head = head_of(app, world.device_id)

    run_git(git_home, "fetch", "-q", "origin", cwd=work)
    assert run_git(git_home, "rev-parse", "origin/main", cwd=work).stdout.strip() == new_head
    run_git(git_home, "pull", "-q", "--ff-only", cwd=work)
    assert (work / "configs" / "running-config").read_text().endswith("! version 2\n")

    depth1 = tmp_path / "depth1"
    run_git(git_home, "clone", "--depth", "1", url, str(depth1))
    assert run_git(git_home, "rev-list", "--count", "HEAD", cwd=depth1).stdout.strip() == "1"
    assert (depth1 / ".git" / "shallow").read_text().strip() == new_head
    assert run_git(git_home, "rev-list", "--count", "HEAD", cwd=work).stdout.strip() == "3"


@pytest.mark.parametrize("version", ["0", "2"])
def test_protocol_versions(app, world, server, git_home, tmp_path, version):
    url = repo_url(server, "viewer", world.tokens["viewer"])
    env_trace = ["-c", f"protocol.version={version}"]
    result = run_git(git_home, *env_trace, "ls-remote", url)
    assert "refs/heads/main" in result.stdout
    work = tmp_path / "c"
    run_git(git_home, *env_trace, "clone", url, str(work))
    # GIT_TRACE_PACKET shows which protocol the server actually spoke.
    import subprocess

    from tests.githttp_support import git_env

    env = git_env(git_home) | {"GIT_TRACE_PACKET": "1"}
    traced = subprocess.run(["git", *env_trace, "fetch", "origin"], cwd=work, env=env, capture_output=True,
                            text=True, timeout=60)
    assert traced.returncode == 0, traced.stderr
    if version == "2":
        assert "version 2" in traced.stderr
    else:
        assert "version 2" not in traced.stderr
        assert "# service=git-upload-pack" in traced.stderr


def test_push_by_editor_updates_index_versions_and_audit(app, world, server, git_home, tmp_path):
    work = clone(git_home, repo_url(server, "editor", world.tokens["editor"]), tmp_path / "w")
    (work / "configs").mkdir()
    (work / "configs" / "running-config").write_bytes(b"hostname sw1\r\ninterface Gi1/0/1\n")
    (work / "ports.json").write_bytes(canonical_json(PORTS))
    sha = commit_all(git_home, work, "Add config and ports")
    run_git(git_home, "tag", "-a", "v1", "-m", "first named version", cwd=work)
    result = run_git(git_home, "push", "origin", "main", "v1", cwd=work)
    assert "main -> main" in result.stderr

    assert head_of(app, world.device_id) == sha
    with DeviceRepo.open(device_path(app, world.device_id)) as repo:
        snapshot = repo.read("main")
        assert snapshot.configs == {"running-config": b"hostname sw1\r\ninterface Gi1/0/1\n"}
        assert [p["name"] for p in snapshot.ports] == ["Gi1/0/1", "Gi1/0/2"]
        assert [t.name for t in repo.list_tags()] == ["v1"]
    with app.app_context():
        device = db.session.get(Device, world.device_id)
        assert device.head_commit == sha
        assert device.version_count == 2
        record = db.session.scalar(select(CommitRecord).where(CommitRecord.sha == sha))
        assert record is not None and record.message == "Add config and ports"
        assert sorted(p.path for p in record.paths) == ["configs/running-config", "ports.json"]
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "push")).all()
        assert len(events) == 1
        event = events[0]
        assert (event.object_type, event.object_id, event.actor_id) == ("device", device.id, world.users["editor"])
        assert event.changes["refs"]["refs/heads/main"]["to"] == sha
        assert "refs/tags/v1" in event.changes["refs"]
        assert event.changes["commits"] == 1


def _refused_push(app, world, server, git_home, tmp_path, who: str, token: str, change) -> str:
    """Clone as the owner, make a commit with `change`, push it as `who`; return git's stderr."""
    work = clone(git_home, repo_url(server, "owner", world.tokens["owner"]), tmp_path / "w")
    change(work)
    pushed = commit_all(git_home, work, "A change that must be refused")
    before = head_of(app, world.device_id)
    url = repo_url(server, who, token)
    result = run_git(git_home, "push", "--force", url, "HEAD:main", cwd=work, check=False)
    assert result.returncode != 0, result.stderr
    # Nothing moved and nothing stayed behind: the quarantined objects are gone with the push.
    assert head_of(app, world.device_id) == before
    with DeviceRepo.open(device_path(app, world.device_id)) as repo:
        assert repo.raw.get(pushed) is None
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "push")) == 0
    return result.stderr


def _config(work: Path) -> None:
    (work / "configs").mkdir(exist_ok=True)
    (work / "configs" / "running-config").write_text("hostname sw1\n")


def test_viewer_push_is_refused_with_a_message(app, world, server, git_home, tmp_path):
    stderr = _refused_push(app, world, server, git_home, tmp_path, "viewer", world.tokens["viewer"], _config)
    assert "remote: Your role in team acme is viewer: pushing needs the editor role or above." in stderr
    assert "The requested URL returned error: 403" in stderr


def test_read_scoped_token_push_is_refused(app, world, server, git_home, tmp_path):
    stderr = _refused_push(app, world, server, git_home, tmp_path, "editor", world.read_tokens["editor"], _config)
    assert "remote: This token is read-only: pushing needs a personal access token with the 'write' scope." in stderr
    assert "403" in stderr


def test_non_fast_forward_push_is_refused(app, world, server, git_home, tmp_path):
    # The editor rewrites history: an amended first commit, force-pushed.
    work = clone(git_home, repo_url(server, "editor", world.tokens["editor"]), tmp_path / "w")
    (work / "device.json").write_bytes(canonical_json({"name": "sw1-renamed"}))
    run_git(git_home, "commit", "-q", "-a", "--amend", "-m", "Rewritten", cwd=work)
    before = head_of(app, world.device_id)
    result = run_git(git_home, "push", "--force", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0
    assert "remote: InfraTrace refused this push; nothing was changed:" in result.stderr
    assert "remote:   main: non-fast-forward update refused" in result.stderr
    assert "[remote rejected] main -> main (pre-receive hook declined)" in result.stderr
    assert head_of(app, world.device_id) == before


def test_invalid_ports_json_is_refused(app, world, server, git_home, tmp_path):
    def bad_ports(work: Path) -> None:
        (work / "ports.json").write_bytes(canonical_json([{"name": "Gi1/0/1", "vlans": [5000]}]))

    stderr = _refused_push(app, world, server, git_home, tmp_path, "editor", world.tokens["editor"], bad_ports)
    assert "(A change that must be refused): ports.json: ports[0].vlans[0]: must be an integer VLAN id" in stderr
    assert "remote:   commit " in stderr


def test_non_canonical_json_is_refused(app, world, server, git_home, tmp_path):
    def loose(work: Path) -> None:
        (work / "ports.json").write_text(json.dumps(PORTS))

    stderr = _refused_push(app, world, server, git_home, tmp_path, "editor", world.tokens["editor"], loose)
    assert "ports.json: not in canonical form" in stderr


def test_file_outside_the_layout_is_refused(app, world, server, git_home, tmp_path):
    def readme(work: Path) -> None:
        (work / "README.md").write_text("hello\n")

    stderr = _refused_push(app, world, server, git_home, tmp_path, "editor", world.tokens["editor"], readme)
    assert "README.md: outside the repository layout (allowed: device.json, configs/<name>" in stderr


def test_oversized_file_is_refused(app, world, server, git_home, tmp_path, monkeypatch):
    config = app.config["INFRATRACE"]
    monkeypatch.setitem(app.config, "INFRATRACE", config.with_changes(max_config_bytes=1000))

    def big(work: Path) -> None:
        (work / "configs").mkdir()
        (work / "configs" / "huge").write_bytes(b"x" * 1001)

    stderr = _refused_push(app, world, server, git_home, tmp_path, "editor", world.tokens["editor"], big)
    assert "configs/huge: 1001 bytes is over the limit of 1000 bytes per file" in stderr


def test_other_refs_tags_and_layout_rules(app, world, server, git_home, tmp_path):
    work = clone(git_home, repo_url(server, "editor", world.tokens["editor"]), tmp_path / "w")
    base = head_of(app, world.device_id)
    run_git(git_home, "tag", "v1", cwd=work)
    run_git(git_home, "push", "-q", "origin", "v1", cwd=work)
    # Other branches, moving a tag, deleting a tag (editor), deleting main: all refused.
    _config(work)
    commit_all(git_home, work, "On a branch")
    for refspec, message in [
        ("HEAD:refs/heads/feature", "refs/heads/feature: only refs/heads/main and tags"),
        ("+HEAD:refs/tags/v1", "refs/tags/v1: the tag already exists; named versions are never moved"),
        (":refs/tags/v1", "refs/tags/v1: deleting a tag needs the admin role"),
        (":refs/heads/main", "main: deleting main is not allowed"),
    ]:
        result = run_git(git_home, "push", "origin", refspec, cwd=work, check=False)
        assert result.returncode != 0, refspec
        assert message in result.stderr, result.stderr
    assert head_of(app, world.device_id) == base
    # A tag on a commit that is not on main is refused too.
    result = run_git(git_home, "push", "origin", "HEAD:refs/tags/v2", cwd=work, check=False)
    assert "refs/tags/v2: a tag must name a commit of main" in result.stderr
    # An admin may delete a tag.
    admin = repo_url(server, "admin", world.tokens["admin"])
    run_git(git_home, "push", "-q", admin, ":refs/tags/v1", cwd=work)
    with DeviceRepo.open(device_path(app, world.device_id)) as repo:
        assert repo.list_tags() == []


def test_symlink_and_bad_config_names_are_refused(app, world, server, git_home, tmp_path):
    def link(work: Path) -> None:
        (work / "configs").mkdir()
        (work / "configs" / "link").symlink_to("/etc/passwd")

    stderr = _refused_push(app, world, server, git_home, tmp_path, "editor", world.tokens["editor"], link)
    assert "configs/link: a symbolic link is not allowed" in stderr


def test_device_json_must_stay(app, world, server, git_home, tmp_path):
    def remove(work: Path) -> None:
        (work / "device.json").unlink()

    stderr = _refused_push(app, world, server, git_home, tmp_path, "editor", world.tokens["editor"], remove)
    assert "device.json is missing" in stderr


def test_clone_of_other_teams_repo_and_unknown_repo_say_not_found(app, world, server, git_home, tmp_path):
    url = repo_url(server, "viewer", world.tokens["viewer"], team="other", project="lab", device="r1")
    result = run_git(git_home, "clone", url, str(tmp_path / "x"), check=False)
    missing = repo_url(server, "viewer", world.tokens["viewer"], device="nope")
    other = run_git(git_home, "clone", missing, str(tmp_path / "y"), check=False)
    for attempt in (result, other):
        assert attempt.returncode != 0
        lines = [line for line in attempt.stderr.splitlines() if not line.startswith("Cloning")]
        assert lines[0] == "remote: Repository not found."
        assert lines[1].startswith("fatal: repository '") and lines[1].endswith("' not found")


def test_bad_token_clone_fails_authentication(app, world, server, git_home, tmp_path):
    url = repo_url(server, "viewer", "itr_not-a-token")
    result = run_git(git_home, "clone", url, str(tmp_path / "x"), check=False)
    assert result.returncode != 0
    assert "Authentication failed" in result.stderr


def test_second_device_in_same_project(app, world, server, git_home, tmp_path):
    add_device(app, "acme", "core", "sw2", world.users["owner"], {"name": "sw2", "vendor": "Acme"})
    url = repo_url(server, "viewer", world.tokens["viewer"], device="sw2")
    work = clone(git_home, url, tmp_path / "sw2")
    assert json.loads((work / "device.json").read_text())["vendor"] == "Acme"


def test_real_names_and_emails_are_refused(app, world, server, git_home, tmp_path):
    """The privacy promise: no name or email enters a repo, a clone or a mirror through a push."""
    def as_a_person(work: Path) -> None:
        _config(work)
        run_git(git_home, "config", "user.name", "Jane Doe", cwd=work)
        run_git(git_home, "config", "user.email", "jane@corp.example", cwd=work)

    work = clone(git_home, repo_url(server, "owner", world.tokens["owner"]), tmp_path / "w")
    as_a_person(work)
    run_git(git_home, "add", "-A", cwd=work)
    person_env = {k: v for k, v in git_env(git_home).items() if not k.startswith(("GIT_AUTHOR", "GIT_COMMITTER"))}
    subprocess.run(["git", "commit", "-q", "-m", "A change by a person"], cwd=work, check=True, capture_output=True,
                   env=person_env)
    before = head_of(app, world.device_id)
    result = run_git(git_home, "push", repo_url(server, "editor", world.tokens["editor"]), "HEAD:main", cwd=work,
                     check=False)
    assert result.returncode != 0
    assert "the author 'Jane Doe <jane@corp.example>' would publish a name or email" in result.stderr
    with app.app_context():
        editor = db.session.get(User, world.users["editor"])
        assert f"git config user.name {editor.author_name}" in result.stderr
    assert head_of(app, world.device_id) == before
    # An annotated tag carries a tagger: the same rule applies to it.
    subprocess.run(["git", "tag", "-a", "v-person", "-m", "tagged by a person", "origin/main"], cwd=work, check=True,
                   capture_output=True, env=person_env)
    result = run_git(git_home, "push", repo_url(server, "editor", world.tokens["editor"]), "refs/tags/v-person",
                     cwd=work, check=False)
    assert result.returncode != 0
    assert "refs/tags/v-person: the tagger 'Jane Doe <jane@corp.example>' would publish" in result.stderr
