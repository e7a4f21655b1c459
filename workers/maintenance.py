"""Repository housekeeping that libgit2 cannot do: gc/repack, commit-graph, fsck, temp clean-up."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from gitstore import DeviceRepo
from workers.git import GitCommandError, run_git

STALE_SECONDS = 3600  # a temp file this old belongs to a writer that died, not one at work


@dataclass(frozen=True)
class MaintenanceResult:
    bytes_before: int
    bytes_after: int
    removed_temp: int


def objects_size(repo_path: Path) -> int:
    """Bytes under objects/ (packs, indexes and loose objects): what gc is meant to shrink."""
    total = 0
    for path in (Path(repo_path) / "objects").rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def remove_stale_temp(repo_path: Path, now: float | None = None) -> int:
    """Delete leftovers of crashed writers older than an hour; call while holding the write lock.

    `.<uuid>.git.tmp-*` / `.restore-*` folders beside the repo are half-built repos from a create
    or restore that died; `objects/tmp_object_git2_*` are libgit2's unfinished loose objects.
    """
    now = time.time() if now is None else now
    repo_path = Path(repo_path)
    removed = 0
    candidates = list(repo_path.parent.glob(f".{repo_path.name}.tmp-*"))
    candidates += list(repo_path.parent.glob(f".{repo_path.name}.restore-*"))
    candidates += list((repo_path / "objects").glob("tmp_object_git2_*"))
    candidates += list((repo_path / "objects").glob("*/tmp_object_git2_*"))
    for path in candidates:
        try:
            if now - path.lstat().st_mtime < STALE_SECONDS:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def maintain_repo(repo_path: Path) -> MaintenanceResult:
    """gc (repack into one pack, prune old unreachable objects) and write the commit-graph.

    Holds the repo's write lock throughout: gc rewrites packs and packed-refs, which no writer
    (ours, or receive-pack run by a push) may touch at the same time.
    """
    with DeviceRepo.open(repo_path) as repo, repo.write_lock(timeout=120):
        before = objects_size(repo_path)
        removed = remove_stale_temp(repo_path)
        run_git(repo_path, "gc", "--quiet")
        run_git(repo_path, "commit-graph", "write", "--reachable")
        after = objects_size(repo_path)
    return MaintenanceResult(before, after, removed)


def check_repo(repo_path: Path) -> str | None:
    """None if `git fsck --strict` passes, else its report (object ids and paths, no personal data)."""
    if not Path(repo_path).is_dir():
        return "repository folder is missing"
    try:
        run_git(repo_path, "fsck", "--strict", "--no-progress", "--no-dangling")
    except GitCommandError as exc:
        return str(exc)
    return None
