"""Durability barriers for libgit2 writes: one filesystem flush per step, not one fsync per file.

libgit2's own fsync option fsyncs every loose object file and its directory, which made one
version cost about a dozen fsyncs. Git's `core.fsyncMethod=batch` shows the cheaper way: write the
objects without flushing, flush the filesystem once, and only then move the ref; then flush once
more before the write is acknowledged. `syncfs(2)` flushes just the filesystem holding the repo
(data and metadata, with a journal commit and a cache flush), so ordering is kept: after a power
cut a ref can never point at an object that never reached the disk.

Concurrent writers share those flushes (group commit, `_GroupBarrier`): a flush covers every
write made before it started, so one flush can acknowledge many writers at once, and the
aggregate write rate grows with concurrency while each write stays durable before it returns.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _syncfs():  # type: ignore[no-untyped-def]
    """libc's syncfs, or None where there is none (then the whole system is flushed)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    function = getattr(ctypes.CDLL(name, use_errno=True), "syncfs", None)
    if function is not None:
        function.argtypes = [ctypes.c_int]
    return function


class _GroupBarrier:
    """Group commit for one filesystem: concurrent writers share `syncfs` calls.

    A writer needs a flush that STARTS after its call (one already running may have missed its
    files). Flushes are numbered; a caller asks for "the next one to start". If none is running it
    runs it itself (the leader); otherwise it waits for the running one to end, and then the first
    waiter leads the next flush for everyone who queued meanwhile. So N concurrent writers pay
    about two flushes between them instead of N, and each still returns only once a flush that
    began after its writes has completed. A failed flush fails every writer that relied on it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._started = 0  # flushes begun
        self._done = 0  # flushes ended (they end in order: one runs at a time)
        self._running = False
        self._errors: dict[int, OSError] = {}

    def flush(self, path: Path) -> None:
        with self._cond:
            target = self._started + 1
            while self._done < target:
                if self._running:
                    self._cond.wait()
                    continue
                self._running = True
                self._started += 1
                number = self._started
                self._cond.release()
                error: OSError | None = None
                try:
                    _flush_now(path)
                except OSError as exc:
                    error = exc
                finally:
                    self._cond.acquire()
                    self._running = False
                    self._done = number
                    if error is not None:
                        self._errors = {number: error}
                    self._cond.notify_all()
            error = self._errors.get(target)
        if error is not None:
            raise OSError(error.errno, f"{error.strerror} (a shared filesystem flush failed)")


@lru_cache(maxsize=64)
def _barrier(device: int) -> _GroupBarrier:
    """One barrier per filesystem, for the life of the process.

    Process-wide on purpose, the one piece of shared state in gitstore: writers on different
    threads share a flush only if they share the barrier (and a filesystem is process-wide too).
    """
    return _GroupBarrier()


def flush_filesystem(path: Path) -> None:
    """Block until everything written under `path`'s filesystem (before this call) is on stable
    storage; concurrent callers share the flushes (group commit)."""
    _barrier(os.stat(path).st_dev).flush(path)


def _flush_now(path: Path) -> None:
    syncfs = _syncfs()
    if syncfs is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs failed for {path}: {os.strerror(error)}")
    finally:
        os.close(fd)


# A forked child (an RQ work horse) starts with fresh barriers: a flush running in another thread
# of the parent at fork time would never end in the child.
os.register_at_fork(after_in_child=_barrier.cache_clear)
