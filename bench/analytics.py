"""Analytics benchmark: the full metric set, vectorised across series, next to empyrical-reloaded
looping over the same series in the same run.

    .venv/bin/python bench/analytics.py [--days 2520] [--series 1000] [--repeat 3]

Prints one JSON line per figure (same keys as bench/ledger.py) on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import empyrical
import numpy as np

from foliodb.analytics import metrics

PPY = 252


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def best_of(n: int, fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(n):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def foliodb_full_set(x: np.ndarray, b: np.ndarray) -> list[Any]:
    """Every metric of the issue, each one call over all columns at once."""
    return [
        metrics.cumulative_return(x),
        metrics.annual_return(x, PPY),
        metrics.annual_volatility(x, PPY),
        metrics.sharpe_ratio(x, 0.0, PPY),
        metrics.sortino_ratio(x, 0.0, PPY),
        metrics.downside_risk(x, 0.0, PPY),
        metrics.max_drawdown(x),
        metrics.calmar_ratio(x, PPY),
        metrics.omega_ratio(x),
        metrics.value_at_risk(x, 0.95),
        metrics.conditional_value_at_risk(x, 0.95),
        metrics.beta(x, b),
        metrics.alpha(x, b, 0.0, PPY),
        metrics.tracking_error(x, b, PPY),
        metrics.information_ratio(x, b, PPY),
        metrics.up_capture(x, b, PPY),
        metrics.down_capture(x, b, PPY),
    ]


def empyrical_full_set(x: np.ndarray, b: np.ndarray) -> list[Any]:
    """The same metrics with empyrical-reloaded, one series at a time (how it is used)."""
    out = []
    for j in range(x.shape[1]):
        r, m = x[:, j], b[:, j] if b.ndim == 2 else b
        active = r - m
        out.append(
            [
                empyrical.cum_returns_final(r),
                empyrical.annual_return(r, annualization=PPY),
                empyrical.annual_volatility(r, annualization=PPY),
                empyrical.sharpe_ratio(r, 0.0, annualization=PPY),
                empyrical.sortino_ratio(r, 0.0, annualization=PPY),
                empyrical.downside_risk(r, 0.0, annualization=PPY),
                empyrical.max_drawdown(r),
                empyrical.calmar_ratio(r, annualization=PPY),
                empyrical.omega_ratio(r),
                empyrical.value_at_risk(r, 0.05),
                empyrical.conditional_value_at_risk(r, 0.05),
                empyrical.beta(r, m),
                empyrical.alpha(r, m, 0.0, annualization=PPY),
                np.nanstd(active, ddof=1) * np.sqrt(PPY),  # empyrical has no tracking error
                empyrical.excess_sharpe(r, m) * np.sqrt(PPY),
                empyrical.up_capture(r, m, period="daily"),
                empyrical.down_capture(r, m, period="daily"),
            ]
        )
    return out


def emit(bench: str, series: int, days: int, seconds: float, ref: float, note: str) -> None:
    rows = series * days
    print(
        json.dumps(
            {
                "bench": bench,
                "engine": "python",
                "unit": "series",
                "rows": series,
                "seconds": round(seconds, 6),
                "rows_per_s": round(series / seconds, 1),
                "reference": "empyrical-reloaded, the same metrics, one series at a time",
                "reference_seconds": round(ref, 6),
                "reference_rows_per_s": round(series / ref, 1),
                "ratio": round(ref / seconds, 2),
                "repeat": None,
                "note": f"{days} days x {series} series ({rows} returns); ratio = speed-up "
                f"over the reference; {note}",
                "skipped": None,
            }
        ),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(7)
    warnings.simplefilter("ignore", RuntimeWarning)  # empyrical warns on NaN-free edge cases
    for series in (1, args.series):
        x = rng.normal(0.0004, 0.012, size=(args.days, series))
        b = rng.normal(0.0003, 0.010, size=(args.days, series))
        log(f"{series} series x {args.days} days ...")
        ours = best_of(args.repeat, lambda x=x, b=b: foliodb_full_set(x, b))
        theirs = best_of(
            1 if series > 10 else args.repeat, lambda x=x, b=b: empyrical_full_set(x, b)
        )
        # The figures must agree, or the timing means nothing.
        ours_values = np.vstack([np.atleast_1d(v) for v in foliodb_full_set(x, b)]).T
        theirs_values = np.array(empyrical_full_set(x, b), dtype=float)
        agree = bool(np.allclose(ours_values, theirs_values, rtol=1e-8, equal_nan=True))
        emit("metrics.full_set", series, args.days, ours, theirs, f"figures agree: {agree}")
        if not agree:
            log("figures disagree with empyrical")
            return 1
        # summary(): the batch API, one DataFrame of every metric (and parametric VaR/CVaR,
        # which the reference does not compute), sharing work between metrics.
        table = metrics.summary(x, b, PPY)
        same = bool(np.allclose(table.loc["sharpe_ratio"], ours_values[:, 3], equal_nan=True))
        batch = best_of(args.repeat, lambda x=x, b=b: metrics.summary(x, b, PPY))
        emit("metrics.summary", series, args.days, batch, theirs, f"figures agree: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
