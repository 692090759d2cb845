"""Roll-ups: coarser bars (5m, 15m, 1h, 1d) computed from the finest loaded bars of each
bucket; daily buckets follow the exchange-local date. PostgreSQL computes them in SQL, SQLite
through `rollup_frame`, the pandas reference."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine

from foliodb.columnar.bars import BarColumns
from foliodb.errors import InputError, InputProblem
from foliodb.store.base import utcnow
from foliodb.store.repos import bars as store
from foliodb.store.tables_bars import INTERVALS
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:  # pandas loads when bars are rolled up, not at start-up
    import pandas as pd

log = logging.getLogger("foliodb.services.bars")  # one logger for the bar service's modules

ROLLUP_TARGETS = ("5m", "15m", "1h", "1d")
STEP_US = {"1m": 60_000_000, "5m": 300_000_000, "15m": 900_000_000, "1h": 3_600_000_000}
_RANK = {interval: rank for rank, interval in enumerate(INTERVALS)}


@dataclasses.dataclass(frozen=True)
class RollupResult:
    """One target interval of a roll-up: buckets computed, bars written (new or changed),
    and how many of the buckets lay below the watermark (a backfill)."""

    interval: str
    buckets: int
    written: int
    backfilled: int = 0


def rollup(
    engine: Engine, symbols: Sequence[str] | None = None, intervals: Sequence[str] | None = None
) -> list[RollupResult]:
    """(Re)build roll-up bars: `Bars.rollup`, which says which."""
    from foliodb.ingest import bars as ingest

    targets = [ingest.parse_interval(i) for i in (intervals or ROLLUP_TARGETS)]
    if bad := [t for t in targets if t not in ROLLUP_TARGETS]:
        raise InputError(
            InputProblem(
                "is not a roll-up interval", field="interval", value=", ".join(bad),
                expected=", ".join(ROLLUP_TARGETS),
            )
        )  # fmt: skip
    wanted = None if symbols is None else [s.strip().upper() for s in symbols]
    plans: list[tuple[str, store.Ranges]] = []
    with UnitOfWork(engine) as uow:
        for target in targets:
            sources = INTERVALS[: _RANK[target]]
            extent = store.source_extent(uow.session, sources, wanted)
            zones = _zones([s for s, _, _ in extent], uow) if target == "1d" else {}
            plans.append((target, _extent_ranges(target, extent, zones)))
    parts: set[store.Partition] = set()
    for target, ranges in plans:
        # A daily label (00:00 UTC of the local date) is within 14 h of its bucket.
        margin = store.DAY_US if target == "1d" else 0
        for lo, hi in zip(ranges.lo, ranges.hi, strict=True):
            parts |= store.partitions_between(target, int(lo) - margin, int(hi) - 1 + margin)
    store.ensure_partitions(engine, parts)
    results = []
    with UnitOfWork(engine) as uow:
        store.lock_symbols(uow.session, sorted({s for _, r in plans for s in r.symbols}))
        for target, ranges in plans:
            buckets, written = _rollup_ranges(uow, target, ranges)
            results.append(RollupResult(target, buckets, written))
        uow.commit()
    return results


def rollup_changed(uow: UnitOfWork, changed: BarColumns, target: str) -> RollupResult:
    """Recompute the `target` buckets holding the changed bars. Buckets that end at or
    before the watermark are a backfill: counted, and recomputed just the same."""
    zones = _zones(changed.symbols, uow) if target == "1d" else {}
    import pandas as pd

    _, lo, hi = _buckets(target, changed.symbols, changed.codes, changed.ts, zones)
    first = ~pd.DataFrame({"code": changed.codes, "lo": lo}).duplicated().to_numpy()
    codes, lo, hi = changed.codes[first].astype(np.int64), lo[first], hi[first]
    marks = store.watermarks(uow.session, target, list(changed.symbols))
    mark = np.array(
        [marks.get(changed.symbols[c], np.iinfo(np.int64).min) for c in codes],
        dtype=np.int64,
    )
    backfilled = int((hi <= mark).sum())
    ranges = _merged(changed.symbols, codes, lo, hi, zones)
    started = time.perf_counter()
    buckets, written = _rollup_ranges(uow, target, ranges)
    log.debug(
        "roll-up %s: %d ranges, %d buckets, %d written, %.2fs",
        target, len(ranges), buckets, written, time.perf_counter() - started,
    )  # fmt: skip
    return RollupResult(target, buckets, written, backfilled)


def _rollup_ranges(uow: UnitOfWork, target: str, ranges: store.Ranges) -> tuple[int, int]:
    sources = INTERVALS[: _RANK[target]]
    session = uow.session
    if session.connection().dialect.name == "postgresql":
        return store.rollup_postgresql(session, target, sources, ranges)
    symbols, columns = store.source_bars(session, sources, ranges)
    if not symbols:
        return 0, 0
    zones = dict(zip(ranges.symbols, ranges.tz, strict=True))
    frame = rollup_frame(symbols, columns, target, zones)
    names = list(dict.fromkeys(frame["symbol"]))
    position = {s: i for i, s in enumerate(names)}
    rolled = BarColumns(
        symbols=names,
        codes=frame["symbol"].map(position).to_numpy(np.int64),
        ts=frame["ts"].to_numpy(np.int64),
        **{c: frame[c].to_numpy(np.float64) for c in store.VALUE_COLUMNS},
        ref=np.arange(len(frame)),
    )
    written = store.upsert_rollups(session, target, rolled)
    last = frame.groupby("symbol", sort=False).agg(last=("last", "max"), src=("src", "min"))
    store.set_watermarks(
        session,
        target,
        {
            str(s): (INTERVALS[int(src)], int(mark))
            for s, src, mark in zip(last.index, last["src"], last["last"], strict=True)
        },
        utcnow(),
    )
    return len(frame), written


def _zones(symbols: Sequence[str], uow: UnitOfWork) -> dict[str, str]:
    """{symbol: IANA zone of its security's exchange}; UTC without security or exchange."""
    codes = store.exchanges(uow.session, list(symbols))
    return {s: _exchange_zone(codes.get(s)) for s in symbols}


def coarser_targets(interval: str) -> list[str]:
    """The roll-up intervals coarser than `interval`."""
    return [t for t in ROLLUP_TARGETS if _RANK[t] > _RANK[interval]]


@functools.lru_cache(maxsize=256)
def _exchange_zone(code: str | None) -> str:
    if not code:
        return "UTC"
    import exchange_calendars  # type: ignore[import-untyped]
    import exchange_calendars.errors  # type: ignore[import-untyped]

    try:
        # The zone is a class attribute: read it without building the calendar (which takes
        # ~0.5 s), falling back to building it should exchange_calendars move it.
        from exchange_calendars.calendar_utils import (  # type: ignore[import-untyped]
            global_calendar_dispatcher as dispatcher,
        )

        zone = getattr(
            dispatcher._calendar_factories.get(dispatcher.resolve_alias(code)), "tz", None
        )
        if zone is None or not hasattr(zone, "key"):
            zone = exchange_calendars.get_calendar(code).tz
        return str(zone.key)
    except exchange_calendars.errors.InvalidCalendarName:
        log.warning("exchange %r is not known to exchange_calendars: daily bars in UTC", code)
        return "UTC"


def _buckets(
    target: str, symbols: Sequence[str], codes: Any, ts: Any, zones: Mapping[str, str]
) -> tuple[Any, Any, Any]:
    """(label, start, end) in microseconds of the `target` bucket of each bar: intraday, ts
    floored in UTC; daily, the exchange-local date (label 00:00 UTC of it, [start, end) its
    local midnights in UTC)."""
    import pandas as pd

    ts = np.asarray(ts, dtype=np.int64)
    if target != "1d":
        step = STEP_US[target]
        start = ts // step * step
        return start, start, start + step
    labels = np.empty(len(ts), np.int64)
    start = np.empty(len(ts), np.int64)
    end = np.empty(len(ts), np.int64)
    zone_of = np.array([zones.get(s, "UTC") for s in symbols] or ["UTC"], dtype=object)
    row_zones = zone_of[codes] if len(ts) else np.array([], dtype=object)
    for zone in set(row_zones.tolist()):
        mine = np.flatnonzero(row_zones == zone)
        local = pd.DatetimeIndex(pd.to_datetime(ts[mine], unit="us", utc=True)).tz_convert(zone)
        day = local.tz_localize(None).normalize()
        labels[mine] = day.as_unit("us").asi8
        midnight = day.tz_localize(zone, ambiguous=False, nonexistent="shift_forward")
        following = (day + pd.Timedelta(days=1)).tz_localize(
            zone, ambiguous=False, nonexistent="shift_forward"
        )
        start[mine] = midnight.tz_convert("UTC").as_unit("us").asi8
        end[mine] = following.tz_convert("UTC").as_unit("us").asi8
    return labels, start, end


def _merged(
    symbols: Sequence[str], codes: Any, lo: Any, hi: Any, zones: Mapping[str, str]
) -> store.Ranges:
    """Ranges of buckets (sorted by symbol and start), adjacent ones joined."""
    order = np.lexsort((lo, codes))
    codes, lo, hi = codes[order], lo[order], hi[order]
    starts = np.ones(len(codes), dtype=bool)
    starts[1:] = (codes[1:] != codes[:-1]) | (lo[1:] != hi[:-1])
    first = np.flatnonzero(starts)
    last = np.append(first[1:], len(codes)) - 1
    names = [symbols[int(c)] for c in codes[first]]
    return store.Ranges(names, lo[first], hi[last], [zones.get(s, "UTC") for s in names])


def _extent_ranges(
    target: str, extent: list[tuple[str, int, int]], zones: Mapping[str, str]
) -> store.Ranges:
    """One range per symbol covering the buckets of its first and last source bar."""
    symbols = [s for s, _, _ in extent]
    codes = np.arange(len(extent))
    first = np.array([lo for _, lo, _ in extent], dtype=np.int64)
    last = np.array([hi for _, _, hi in extent], dtype=np.int64)
    _, lo, _ = _buckets(target, symbols, codes, first, zones)
    _, _, hi = _buckets(target, symbols, codes, last, zones)
    return store.Ranges(symbols, lo, hi, [zones.get(s, "UTC") for s in symbols])


def rollup_frame(
    symbols: Sequence[str], columns: Mapping[str, Any], target: str, zones: Mapping[str, str]
) -> pd.DataFrame:
    """The reference roll-up (pandas resample semantics, per symbol): a bucket's open is its
    first bar's open, high the max, low the min, close the last bar's close, volume and
    trades the sums, vwap the volume-weighted mean of each bar's vwap (its close when it has
    none), NaN when the volume is zero; a bucket holding bars of several intervals uses the
    finest. Columns: symbol, ts (label, microseconds), open .. trades, last (ts of the last
    source bar) and src (rank of the source interval)."""
    import pandas as pd

    frame = pd.DataFrame({"symbol": list(symbols), **columns})
    codes = frame["symbol"].astype("category")
    labels, _, _ = _buckets(
        target, list(codes.cat.categories), codes.cat.codes.to_numpy(), frame["ts"], zones
    )
    frame["bucket"] = labels
    finest = frame.groupby(["symbol", "bucket"], sort=False)["interval"].transform("min")
    frame = frame[frame["interval"] == finest]
    frame = frame.sort_values(["symbol", "bucket", "ts"], kind="stable")
    frame["pv"] = frame["vwap"].fillna(frame["close"]) * frame["volume"]
    grouped = frame.groupby(["symbol", "bucket"], sort=False)
    out = grouped.agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        pv=("pv", "sum"),
        last=("ts", "max"),
        src=("interval", "min"),
    )
    out["trades"] = grouped["trades"].sum(min_count=1)
    out["vwap"] = (out["pv"] / out["volume"]).where(out["volume"] > 0)
    out = out.reset_index().rename(columns={"bucket": "ts"})
    return out[
        ["symbol", "ts", "open", "high", "low", "close", "volume", "vwap", "trades", "last", "src"]
    ]
