"""Clone, fetch, pull and push of device repositories with the real git CLI over loopback HTTP."""

from __future__ import annotations

import json

from tests.githttp_fixtures import *  # noqa: F403  (fixtures: world, server, git_home)
from tests.githttp_fixtures import repo_url, run_git


def test_clone_smoke(app, world, server, git_home, tmp_path):
    url = repo_url(server, "viewer", world.tokens["viewer"])
    run_git(git_home, "clone", url, str(tmp_path / "c"))
    assert json.loads((tmp_path / "c" / "device.json").read_text()) == {"name": "sw1"}
