"""Running the git CLI on a device repo: for what libgit2 cannot do (packs, gc, fsck)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_TIMEOUT = 600.0


class GitCommandError(Exception):
    """A git command exited non-zero; the message holds its stderr (no personal data: paths/ids only)."""


def git_env() -> dict[str, str]:
    """The environment without GIT_* overrides and without the user's global config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def run_git(
    git_dir: Path,
    *args: str,
    stdin: bytes | None = None,
    stdout_path: Path | None = None,
    stdin_path: Path | None = None,
    timeout: float = GIT_TIMEOUT,
) -> bytes:
    """Run `git <args>` on the bare repo `git_dir` and return its stdout.

    `safe.directory` names this exact repo (never `*`): the repo may belong to another uid after a
    restore or on a shared volume, and git would otherwise refuse to touch it.
    """
    path = os.fspath(Path(git_dir).resolve())
    command = ["git", "-c", f"safe.directory={path}", "--git-dir", path, *args]
    out_file = open(stdout_path, "wb") if stdout_path is not None else None  # noqa: SIM115
    in_file = open(stdin_path, "rb") if stdin_path is not None else None  # noqa: SIM115
    try:
        result = subprocess.run(
            command,
            input=stdin if in_file is None else None,
            stdin=in_file,
            stdout=out_file if out_file is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=git_env(),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise GitCommandError(f"git {args[0]} timed out after {timeout:.0f}s") from exc
    finally:
        if out_file is not None:
            out_file.close()
        if in_file is not None:
            in_file.close()
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise GitCommandError(f"git {args[0]} exited {result.returncode}: {detail}")
    return result.stdout or b""


def list_refs(git_dir: Path) -> dict[str, str]:
    """Every ref under refs/ with the object it points at (tag objects unpeeled), by name."""
    out = run_git(git_dir, "for-each-ref", "--format=%(objectname) %(refname)", "refs/")
    refs: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        oid, _, name = line.partition(" ")
        if name:
            refs[name] = oid
    return refs
