"""Durability barriers for libgit2 writes: one filesystem flush per step, not one fsync per file.

libgit2's own fsync option fsyncs every loose object file and its directory, which made one
version cost about a dozen fsyncs. Git's `core.fsyncMethod=batch` shows the cheaper way: write the
objects without flushing, flush the filesystem once, and only then move the ref; then flush once
more before the write is acknowledged. `syncfs(2)` flushes just the filesystem holding the repo
(data and metadata, with a journal commit and a cache flush), so ordering is kept: after a power
cut a ref can never point at an object that never reached the disk.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
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


def flush_filesystem(path: Path) -> None:
    """Block until everything written under `path`'s filesystem is on stable storage."""
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
