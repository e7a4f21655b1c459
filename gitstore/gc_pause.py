"""Pausing CPython's cycle collector around work that allocates many linked objects at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cycle collection inside the block.

    The collector runs every few hundred container allocations and walks the young objects each
    time, promoting the survivors into generations it walks again: a diff of a 50,000-line config
    (tens of thousands of hunk lines) or a hier_config tree of a 1,500-line config (parent and
    children linked both ways) makes it run dozens of times for nothing, as everything built is
    still alive. Reference counting still frees what is not in a cycle meanwhile, and what is, is
    collected after the block. Only the caller that paused it resumes it, so nested or concurrent
    blocks can't leave it off.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
