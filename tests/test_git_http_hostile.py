"""The push check reads JSON with the same strict reader as the API (issue 9, finding 6)."""

from __future__ import annotations

from gitstore import MAX_JSON_DEPTH, canonical_json
from tests.githttp_support import (  # noqa: F401  (fixtures)
    git_home_fixture,
    repo_url,
    run_git,
    server_fixture,
    world_fixture,
)


def _push(git_home, tmp_path, server, world, files: dict[str, bytes]):
    work = tmp_path / "w"
    run_git(git_home, "clone", repo_url(server, "editor", world.tokens["editor"]), str(work))
    for name, data in files.items():
        (work / name).write_bytes(data)
    run_git(git_home, "add", "-A", cwd=work)
    run_git(git_home, "commit", "-q", "-m", "hostile", cwd=work)
    return run_git(git_home, "push", repo_url(server, "editor", world.tokens["editor"]), "HEAD:main",
                   cwd=work, check=False)


def test_a_push_of_deeply_nested_device_json_is_refused(app, world, server, git_home, tmp_path):
    nested: dict = {"name": "sw1"}
    inner = nested
    for _ in range(100):  # canonical and well under json's recursion limit, so it passed before
        inner["a"] = {}
        inner = inner["a"]
    result = _push(git_home, tmp_path, server, world, {"device.json": canonical_json(nested)})
    assert result.returncode != 0
    assert f"device.json: nested deeper than {MAX_JSON_DEPTH} levels" in result.stderr


def test_a_push_of_json_with_a_lone_surrogate_is_refused(app, world, server, git_home, tmp_path):
    result = _push(git_home, tmp_path, server, world,
                   {"device.json": b'{\n  "name": "sw\\ud800"\n}\n'})
    assert result.returncode != 0
    assert "device.json: text holds a lone surrogate" in result.stderr


def test_a_push_within_the_depth_limit_is_accepted(app, world, server, git_home, tmp_path):
    result = _push(git_home, tmp_path, server, world,
                   {"device.json": canonical_json({"name": "sw1", "location": {"site": {"room": "A"}}})})
    assert result.returncode == 0, result.stderr
