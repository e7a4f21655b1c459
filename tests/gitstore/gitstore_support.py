"""gitstore test support: the test author, and the real git CLI to inspect a repo (imported by name)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitstore import Author

AUTHOR = Author("user-abc123", "user-abc123@users.noreply.infratrace")


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real git CLI against a bare repo, bytes in and out."""
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], capture_output=True, check=check
    )


def fsck(repo: Path) -> None:
    result = git(repo, "fsck", "--strict", "--no-progress", check=False)
    assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
