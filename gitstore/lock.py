"""The per-repository, cross-process write lock, and recovery of git's stale lock files."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import GitStoreError

LOCK_NAME = "infratrace.lock"
DEFAULT_TIMEOUT = 30.0

# Lock files git and libgit2 create next to what they rewrite (`<file>.lock`, then rename).
_TOP_LEVEL_LOCKS = ("HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock", "index.lock")


@contextmanager
def flock_exclusive(git_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold `flock(LOCK_EX)` on `<git_dir>/infratrace.lock`; GitStoreError after `timeout` s.

    flock, not a lock file created with O_EXCL: the kernel releases it when its holder dies,
    even by SIGKILL, so a crashed writer can never wedge the repository. Each acquisition opens
    its own file description, so threads of one process exclude each other too.
    """
    fd = os.open(os.path.join(git_dir, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # Polling with a short back-off: a blocking flock cannot time out portably
                # (SIGALRM is process-wide and not usable from threads).
                if time.monotonic() >= deadline:
                    raise GitStoreError(f"timed out waiting for the write lock of {git_dir}") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        try:
            remove_stale_git_locks(Path(git_dir))
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def remove_stale_git_locks(git_dir: Path) -> list[Path]:
    """Delete `*.lock` files git or libgit2 left behind; call only while holding our flock.

    Why this is safe: every process that writes to a device repository (our commits and tags,
    `git receive-pack` run by the push handler, housekeeping `git gc`) does so only while holding
    the flock, and auto-gc is switched off in the repo config so git never forks a writer of its
    own. So when we hold the flock, no writer is running, and any git `.lock` file can only be
    the leftover of a writer that died (SIGKILL, power loss) before it could rename or unlink it.
    Left in place it would make every later ref update fail with "failed to lock file".
    """
    candidates = [git_dir / name for name in _TOP_LEVEL_LOCKS]
    candidates.extend((git_dir / "refs").rglob("*.lock"))
    removed = []
    for path in candidates:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed
