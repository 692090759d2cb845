"""OHLCV bars: bulk import (CSV, Parquet), validation, roll-ups, retention and queries.

Conventions (docs/marketdata.md): `ts` is the bar's start in UTC; a 1d bar's ts is 00:00 UTC
of the exchange-local session date; prices are float64. Roll-up bars carry source 'rollup'
and never replace a bar loaded from a vendor.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from foliodb.errors import ConflictError, InputError, InputProblem
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.repos import bars as store
from foliodb.store.tables_bars import INTERVALS
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:  # pandas and pyarrow load when bars are read or returned, not at start-up
    import pandas as pd

    from foliodb.ingest.bars import BarColumns, BarLoad

log = logging.getLogger(__name__)

ON_CONFLICT = ("skip", "update", "error")
ROLLUP_TARGETS = ("5m", "15m", "1h", "1d")
SOURCE_WIDTH = 64
STEP_US = {"1m": 60_000_000, "5m": 300_000_000, "15m": 900_000_000, "1h": 3_600_000_000}
_RANK = {interval: rank for rank, interval in enumerate(INTERVALS)}
_AGE = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)

#: progress(stage, done, total): "reading FILE", "checking", "writing" (rows), "rolling up".
Progress = Callable[[str, int, int], None]


@dataclasses.dataclass(frozen=True)
class Bar:
    symbol: str
    interval: str
    ts: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float | None
    trades: int | None
    source: str


@dataclasses.dataclass(frozen=True)
class RollupResult:
    """One target interval of a roll-up: buckets computed, bars written (new or changed),
    and how many of the buckets lay below the watermark (a backfill)."""

    interval: str
    buckets: int
    written: int
    backfilled: int = 0


@dataclasses.dataclass(frozen=True)
class BarImportResult:
    files: tuple[str, ...]
    interval: str
    rows_read: int
    inserted: int
    updated: int
    skipped: int
    rejected: int
    seconds: float
    rollups: tuple[RollupResult, ...] = ()
    reject_file: str | None = None
    partitions_created: tuple[str, ...] = ()

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0


@dataclasses.dataclass(frozen=True)
class RetentionResult:
    interval: str
    cutoff: dt.datetime
    partitions_dropped: tuple[str, ...]
    rows_deleted: int


class Bars:
    """`Database.bars`: the market-data store's Python API."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- import ---------------------------------------------------------------------------
    def import_files(
        self,
        paths: Sequence[str | Path] | str | Path,
        interval: str,
        source: str | None = None,
        on_conflict: str = "skip",
        column_map: Mapping[str, str] | Iterable[str] | None = None,
        reject_file: str | Path | None = None,
        progress: Progress | None = None,
        symbol: str | None = None,
        rollup: bool = True,
    ) -> BarImportResult:
        """Load bar files (CSV, or Parquet by suffix) in one transaction.

        Any invalid row refuses the whole load, naming every problem; with `reject_file` the
        invalid rows are written there instead (original columns plus file, row, rule) and
        the rest loads. A stored bar with the same symbol, interval and ts is kept (skip),
        replaced when different (update) or refuses the load when different (error); an
        identical one is skipped in every mode, and a roll-up bar is always replaced. With
        `rollup` the coarser intervals are brought up to date in the same transaction.
        """
        from foliodb.ingest import bars as ingest

        started = time.perf_counter()
        files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
        interval = ingest.parse_interval(interval)
        source = _source(source)
        if on_conflict not in ON_CONFLICT:
            raise InputError(
                InputProblem(
                    "is not a conflict rule", field="on_conflict", value=on_conflict,
                    expected=" or ".join(ON_CONFLICT),
                )
            )  # fmt: skip
        if not files:
            raise InputError(InputProblem("no file given", field="files", expected="a path"))
        mapping = ingest.parse_column_map(column_map)
        load = ingest.read_bars(files, interval, mapping, symbol, progress)
        if len(load.violations) and reject_file is None:
            raise InputError(load.problems())
        batch = _batch(load.bars)
        created = self._ensure_partitions(interval, load.bars, rollup)
        for attempt in range(3):
            try:
                counts, rollups = self._store(
                    load, batch, interval, source, on_conflict, rollup, progress
                )
                break
            except IntegrityError as exc:
                # A partition dropped by retention meanwhile, or a concurrent writer: again.
                if attempt == 2:
                    raise ConflictError(
                        f"importing bars kept conflicting with concurrent writes; nothing was "
                        f"written, run it again ({exc.orig})"
                    ) from exc
                created += self._ensure_partitions(interval, load.bars, rollup)
        rejected = 0
        if reject_file is not None:
            load.write_rejects(Path(reject_file))
            rejected = load.rejected
        skipped = len(batch) - counts.inserted - counts.updated
        result = BarImportResult(
            files=tuple(str(f) for f in files),
            interval=interval,
            rows_read=load.rows_read,
            inserted=counts.inserted,
            updated=counts.updated,
            skipped=skipped,
            rejected=rejected,
            seconds=time.perf_counter() - started,
            rollups=tuple(rollups),
            reject_file=None if reject_file is None else str(reject_file),
            partitions_created=tuple(created),
        )
        log.info(
            "imported %d %s bars from %d files: %d inserted, %d updated, %d skipped, "
            "%d rejected, %.2fs (%.0f rows/s)",
            result.rows_read, interval, len(files), result.inserted, result.updated,
            result.skipped, result.rejected, result.seconds, result.rows_per_s,
        )  # fmt: skip
        return result

    def _ensure_partitions(self, interval: str, bars: BarColumns, rollup: bool) -> list[str]:
        if self.engine.dialect.name != "postgresql" or not len(bars):
            return []
        parts = store.partitions_covering(interval, bars.ts)
        if rollup:
            for target in _targets(interval):
                # A roll-up's bucket starts in its bar's month, but a daily label (00:00 UTC
                # of the local date) can fall up to 14 hours either side of its bars.
                margin = store.DAY_US if target == "1d" else 0
                parts |= store.partitions_covering(target, bars.ts, margin)
        return store.ensure_partitions(self.engine, parts)

    def _store(
        self,
        load: BarLoad,
        batch: store.BarBatch,
        interval: str,
        source: str,
        on_conflict: str,
        rollup: bool,
        progress: Progress | None,
    ) -> tuple[store.WriteCounts, list[RollupResult]]:
        total = len(batch)

        def written(done: int) -> None:
            if progress is not None:
                progress("writing", done, total)

        with UnitOfWork(self.engine) as uow:
            counts = store.write_bars(uow.session, interval, source, batch, on_conflict, written)
            if len(counts.conflicts):
                raise InputError(_conflicts(load, counts.conflicts))
            rollups: list[RollupResult] = []
            unchanged = counts.unchanged
            changed = batch.take(~np.isin(batch.ref, unchanged)) if len(unchanged) else batch
            store.analyze_new_partitions(uow.session, interval, changed.ts)
            if rollup and len(changed):
                store.lock_symbols(uow.session, changed.symbols)
                targets = _targets(interval)
                for number, target in enumerate(targets):
                    if progress is not None:
                        progress(f"rolling up {target}", number, len(targets))
                    rollups.append(self._rollup_changed(uow, changed, target))
            if counts.inserted or counts.updated:
                repos.audit(
                    uow.session, "import_bars", "ohlcv_bars", interval,
                    after={
                        "files": [s.name for s in load.files], "inserted": counts.inserted,
                        "updated": counts.updated, "source": source,
                    },
                )  # fmt: skip
            uow.commit()
        return counts, rollups

    # --- roll-ups -------------------------------------------------------------------------
    def rollup(
        self, symbols: Sequence[str] | None = None, intervals: Sequence[str] | None = None
    ) -> list[RollupResult]:
        """(Re)build roll-up bars of `symbols` (default: every symbol with loaded bars) into
        `intervals` (default 5m, 15m, 1h, 1d) from every loaded finer bar. Buckets without
        a source bar any more (after retention) keep their roll-up."""
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
        with UnitOfWork(self.engine) as uow:
            for target in targets:
                sources = INTERVALS[: _RANK[target]]
                extent = store.source_extent(uow.session, sources, wanted)
                zones = self._zones([s for s, _, _ in extent], uow) if target == "1d" else {}
                plans.append((target, _extent_ranges(target, extent, zones)))
        parts: set[store.Partition] = set()
        for target, ranges in plans:
            # A daily label (00:00 UTC of the local date) is within 14 h of its bucket.
            margin = store.DAY_US if target == "1d" else 0
            for lo, hi in zip(ranges.lo, ranges.hi, strict=True):
                parts |= store.partitions_between(target, int(lo) - margin, int(hi) - 1 + margin)
        store.ensure_partitions(self.engine, parts)
        results = []
        with UnitOfWork(self.engine) as uow:
            store.lock_symbols(uow.session, sorted({s for _, r in plans for s in r.symbols}))
            for target, ranges in plans:
                buckets, written = self._rollup_ranges(uow, target, ranges)
                results.append(RollupResult(target, buckets, written))
            uow.commit()
        return results

    def _rollup_changed(
        self, uow: UnitOfWork, changed: store.BarBatch, target: str
    ) -> RollupResult:
        """Recompute the `target` buckets holding the changed bars. Buckets that end at or
        before the watermark are a backfill: counted, and recomputed just the same."""
        zones = self._zones(changed.symbols, uow) if target == "1d" else {}
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
        buckets, written = self._rollup_ranges(uow, target, ranges)
        log.debug(
            "roll-up %s: %d ranges, %d buckets, %d written, %.2fs",
            target, len(ranges), buckets, written, time.perf_counter() - started,
        )  # fmt: skip
        return RollupResult(target, buckets, written, backfilled)

    def _rollup_ranges(self, uow: UnitOfWork, target: str, ranges: store.Ranges) -> tuple[int, int]:
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
        rolled = store.BarBatch(
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

    def _zones(self, symbols: Sequence[str], uow: UnitOfWork | None = None) -> dict[str, str]:
        """{symbol: IANA zone of its security's exchange}; UTC without security or exchange."""
        if uow is None:
            with UnitOfWork(self.engine) as own:
                return self._zones(symbols, own)
        codes = store.exchanges(uow.session, list(symbols))
        return {s: _exchange_zone(codes.get(s)) for s in symbols}

    # --- queries --------------------------------------------------------------------------
    def query(
        self,
        symbol: str,
        interval: str,
        start: dt.date | dt.datetime | str | None = None,
        end: dt.date | dt.datetime | str | None = None,
    ) -> pd.DataFrame:
        """Bars of one symbol and interval, indexed by ts (UTC): open, high, low, close,
        volume, vwap, trades, source. A date as `start` means its 00:00 UTC; as `end`, the
        whole day (end is inclusive either way)."""
        import pandas as pd

        from foliodb.ingest import bars as ingest

        interval = ingest.parse_interval(interval)
        lo = _instant(start, "start") if start is not None else store.to_datetime(0)
        hi = _instant(end, "end", end_of_day=True) if end is not None else _FAR
        if hi <= lo:
            raise InputError(
                InputProblem("is before start", field="end", value=str(end), expected="a later end")
            )
        with UnitOfWork(self.engine) as uow:
            rows = store.bars_between(uow.session, _symbol(symbol), interval, lo, hi)
        ts, *values = zip(*rows, strict=True) if rows else [()] * 9
        data: dict[str, Any] = {
            name: np.array([np.nan if v is None else v for v in column], dtype=np.float64)
            for name, column in zip(store.VALUE_COLUMNS[:6], values[:6], strict=True)
        }
        data["trades"] = pd.array(list(values[6]), dtype="Int64")
        data["source"] = pd.array(list(values[7]), dtype=str)
        index = pd.DatetimeIndex(pd.to_datetime(list(ts), utc=True), name="ts")
        return pd.DataFrame(data, index=index)

    def latest(self, symbol: str, interval: str) -> Bar | None:
        """The newest bar of a symbol and interval, or None."""
        from foliodb.ingest import bars as ingest

        interval = ingest.parse_interval(interval)
        symbol = _symbol(symbol)
        with UnitOfWork(self.engine) as uow:
            row = store.latest_bar(uow.session, symbol, interval)
        if row is None:
            return None
        ts, o, h, lo, c, v, vwap, trades, source = row
        return Bar(symbol, interval, ts, o, h, lo, c, v, vwap, trades, source)

    # --- retention ------------------------------------------------------------------------
    def apply_retention(
        self,
        interval: str,
        older_than: str | None = None,
        before: dt.date | str | None = None,
    ) -> RetentionResult:
        """Remove the bars of `interval` that start before a cutoff: `older_than` an age
        (90d, 12w, 6m, 2y: counted back from today 00:00 UTC) or `before` a date (00:00 UTC).
        PostgreSQL drops whole partitions that are entirely older and deletes the other old
        rows; roll-ups already made from the removed bars stay."""
        from foliodb.ingest import bars as ingest

        interval = ingest.parse_interval(interval)
        cutoff = _cutoff(older_than, before)
        with UnitOfWork(self.engine) as uow:
            dropped, deleted = store.drop_older(uow.session, interval, cutoff)
            repos.audit(
                uow.session, "retention", "ohlcv_bars", interval,
                after={"cutoff": cutoff.isoformat(), "partitions": dropped, "rows": deleted},
            )  # fmt: skip
            uow.commit()
        return RetentionResult(interval, cutoff, tuple(dropped), deleted)


# --- helpers --------------------------------------------------------------------------------
_FAR = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def _source(source: str | None) -> str:
    value = (source or "").strip()
    if value == store.ROLLUP:
        raise InputError(
            InputProblem(
                "is reserved for bars foliodb derives", field="source", value=value,
                expected="a vendor's name",
            )
        )  # fmt: skip
    if len(value) > SOURCE_WIDTH:
        raise InputError(
            InputProblem(
                f"is longer than {SOURCE_WIDTH} characters", field="source", value=value,
                expected=f"at most {SOURCE_WIDTH} characters",
            )
        )  # fmt: skip
    return value


def _symbol(symbol: str) -> str:
    value = symbol.strip().upper()
    if not value:
        raise InputError(InputProblem("is required", field="symbol", expected="a symbol"))
    return value


def _targets(interval: str) -> list[str]:
    return [t for t in ROLLUP_TARGETS if _RANK[t] > _RANK[interval]]


def _batch(bars: BarColumns) -> store.BarBatch:
    return store.BarBatch(
        symbols=bars.symbols, codes=bars.codes, ts=bars.ts, open=bars.open, high=bars.high,
        low=bars.low, close=bars.close, volume=bars.volume, vwap=bars.vwap,
        trades=bars.trades, ref=np.arange(len(bars), dtype=np.int64),
    )  # fmt: skip


def _conflicts(load: BarLoad, refs: Any) -> list[InputProblem]:
    bars = load.bars
    problems = []
    for ref in refs[:100]:
        name, line = load.where(int(bars.file[ref]), int(bars.row[ref]))
        problems.append(
            InputProblem(
                "a different bar is already stored for this symbol and ts",
                name, line, "ts", None,
                "--on-conflict skip (keep the stored bar) or update (replace it)",
            )
        )  # fmt: skip
    if len(refs) > 100:
        problems.append(InputProblem(f"... and {len(refs) - 100:,} more conflicting rows"))
    return problems


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


def _instant(
    value: dt.date | dt.datetime | str, field: str, end_of_day: bool = False
) -> dt.datetime:
    """A datetime (naive = UTC) as given, or a date's 00:00 UTC (with end_of_day: the next
    day's, so the whole day is included). The result is the exclusive end for `end`."""
    when: dt.date | dt.datetime
    if isinstance(value, str):
        try:
            when = (
                dt.date.fromisoformat(value)
                if len(value.strip()) == 10
                else dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            )
        except ValueError:
            raise InputError(
                InputProblem(
                    "is not a date or time", field=field, value=value,
                    expected="YYYY-MM-DD or an ISO 8601 time",
                )
            ) from None  # fmt: skip
    else:
        when = value
    if isinstance(when, dt.datetime):
        instant = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        return instant.astimezone(dt.UTC) + (
            dt.timedelta(microseconds=1) if end_of_day else dt.timedelta()
        )
    day = dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC)
    return day + dt.timedelta(days=1) if end_of_day else day


def _cutoff(older_than: str | None, before: dt.date | str | None) -> dt.datetime:
    if (older_than is None) == (before is None):
        raise InputError(
            InputProblem(
                "give either an age or a date", field="older_than / before",
                expected="--older-than 90d|12w|6m|2y or --before YYYY-MM-DD",
            )
        )  # fmt: skip
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    if before is not None:
        if isinstance(before, str):
            text = before
            try:
                before = dt.date.fromisoformat(text.strip())
            except ValueError:
                raise InputError(
                    InputProblem("is not a date", field="before", value=text, expected="YYYY-MM-DD")
                ) from None
        cutoff = dt.datetime(before.year, before.month, before.day, tzinfo=dt.UTC)
        if cutoff > today:
            raise InputError(
                InputProblem(
                    "is in the future: it would remove bars that are not old", field="before",
                    value=before.isoformat(), expected="today or an earlier date",
                )
            )  # fmt: skip
        return cutoff
    assert older_than is not None
    match = _AGE.match(older_than)
    if match is None or int(match.group(1)) == 0:
        raise InputError(
            InputProblem(
                "is not an age", field="older_than", value=older_than,
                expected="a whole number of days, weeks, months or years above zero: "
                "90d, 12w, 6m, 2y",
            )
        )  # fmt: skip
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit in "dw":
        days = count * (7 if unit == "w" else 1)
        if days > 100 * 366:
            raise InputError(
                InputProblem(
                    "is too long", field="older_than", value=older_than, expected="at most 100y"
                )
            )
        return today - dt.timedelta(days=days)
    months = count * (12 if unit == "y" else 1)
    if months > 1200:
        raise InputError(
            InputProblem(
                "is too long", field="older_than", value=older_than, expected="at most 100y"
            )
        )
    total = today.year * 12 + today.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return today.replace(year=year, month=month, day=min(today.day, last_day))
