"""The one timer of the benchmarks: a warm-up call, then the median of `repeat` timed calls, in ms."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches (SQLite pages, pack index, imports) the same way for both sides of a ratio
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def paired_median_ms(ours: Callable[[], object], theirs: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Both medians of a ratio, the two calls alternating: a burst of load from other work then
    falls on both sides alike, instead of on whichever block of calls happened to run during it."""
    ours()
    theirs()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, spent in ((ours, times[0]), (theirs, times[1])):
            start = time.perf_counter()
            fn()
            spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])
