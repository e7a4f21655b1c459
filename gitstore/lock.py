"""The per-repository, cross-process write lock, and recovery of git's stale lock files."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import RepositoryBusy

LOCK_NAME = "infratrace.lock"
DEFAULT_TIMEOUT = 30.0

# Lock files git and libgit2 create next to what they rewrite (`<file>.lock`, then rename).
_TOP_LEVEL_LOCKS = ("HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock", "index.lock")


@contextmanager
def flock_exclusive(git_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold `flock(LOCK_EX)` on `<git_dir>/infratrace.lock`; RepositoryBusy after `timeout` s.

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
                    raise RepositoryBusy(f"timed out waiting for the write lock of {git_dir}") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        try:
            reclaim_stale_git_locks(Path(git_dir))
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_files() -> set[tuple[int, int]] | None:
    """(device, inode) of every file any process of ours (or root) has open; None if unknowable.

    Read from /proc/<pid>/fd. Processes of other (non-root) users cannot write into the
    service's repositories (they are the service user's, mode 0755), so they are skipped; a
    process of ours or of root whose descriptors we cannot read makes the answer unknowable.
    """
    proc = Path("/proc")
    if not (proc / "self" / "fd").is_dir():
        return None
    uid = os.getuid()
    seen: set[tuple[int, int]] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            owner = entry.stat().st_uid
        except FileNotFoundError:
            continue  # exited meanwhile
        if owner not in (uid, 0):
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except FileNotFoundError:
            continue
        except PermissionError:
            if owner == 0 and uid != 0:
                continue  # root's daemons; root is trusted not to write into our repos
            return None
        for fd in fds:
            try:
                info = fd.stat()
            except (FileNotFoundError, PermissionError, OSError):
                continue
            seen.add((info.st_dev, info.st_ino))
    return seen


def reclaim_stale_git_locks(git_dir: Path) -> list[Path]:
    """Remove git `.lock` files whose holder is provably gone; call only while holding our flock.

    A git or libgit2 writer keeps its `<file>.lock` open from creating it until it renames it
    into place. So a lock file that no process has open was left by a writer that died
    (SIGKILL, power loss) and would make every later update of that ref fail; it is removed. A
    lock file some process still has open belongs to a live writer (ours never run without the
    flock, but an operator's `git update-ref` might) and is left alone: the compare-and-swap
    then reports the repository busy instead of overwriting that writer. When the open files
    cannot be known, nothing is removed.
    """
    candidates = [git_dir / name for name in _TOP_LEVEL_LOCKS if (git_dir / name).exists()]
    candidates.extend((git_dir / "refs").rglob("*.lock"))
    if not candidates:
        return []
    open_files = _open_files()
    if open_files is None:
        return []
    removed = []
    for path in candidates:
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        if (info.st_dev, info.st_ino) in open_files:
            continue  # a live writer holds it
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed
