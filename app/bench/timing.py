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
