"""Helpers shared by the benchmark scripts (run as `python benchmarks/NAME.py`, so this is importable)."""

from __future__ import annotations

import time


def best_rate(fn, n, repeat=3) -> float:
    """Items/s of the fastest of ``repeat`` calls of ``fn`` (the machine is shared: the best run is the least
    disturbed)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM, Linux), MB.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss of a forking parent across exec, so a benchmark's
    child processes would report the parent's peak.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")
