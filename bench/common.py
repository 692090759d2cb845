"""What every benchmark script shares: the JSON line it prints per figure and its timers.

Scripts run as `python bench/NAME.py`, so this directory is on sys.path: `from common import`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: The keys of every JSON line, in order (bench/README.md).
KEYS = (
    "bench",
    "engine",
    "unit",
    "rows",
    "seconds",
    "rows_per_s",
    "reference",
    "reference_seconds",
    "reference_rows_per_s",
    "ratio",
    "repeat",
    "note",
    "skipped",
)


def emit(
    bench: str,
    engine: str,
    unit: str,
    rows: int,
    seconds: float | None,
    reference: str | None = None,
    reference_seconds: float | None = None,
    repeat: int = 1,
    note: str | None = None,
    skipped: str | None = None,
) -> None:
    """One JSON line on stdout. Rates are rows per second; ratio = foliodb rate / reference
    rate (both processed the same `rows`)."""
    rate = rows / seconds if seconds else None
    ref_rate = rows / reference_seconds if reference_seconds else None
    line = {
        "bench": bench,
        "engine": engine,
        "unit": unit,
        "rows": rows,
        "seconds": None if seconds is None else round(seconds, 6),
        "rows_per_s": None if rate is None else round(rate, 1),
        "reference": reference,
        "reference_seconds": None if reference_seconds is None else round(reference_seconds, 6),
        "reference_rows_per_s": None if ref_rate is None else round(ref_rate, 1),
        "ratio": None if rate is None or ref_rate is None else round(rate / ref_rate, 4),
        "repeat": repeat,
        "note": note,
        "skipped": skipped,
    }
    assert tuple(line) == KEYS
    print(json.dumps(line), flush=True)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def best_of(n: int, fn: Callable[[], T]) -> tuple[float, T]:
    best, result = math.inf, None
    for _ in range(n):
        seconds, result = timed(fn)
        best = min(best, seconds)
    return best, result  # type: ignore[return-value]
