"""Roll-ups: recomputing coarser bars in SQL (PostgreSQL) or from loaded bars read back
(SQLite), their watermarks, and the locks that serialise roll-ups of the same symbols."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from foliodb.columnar.bars import Array, BarColumns
from foliodb.store.repos.bars.instants import (
    as_us,
    sqlite_instant,
    sqlite_us,
    to_datetime,
    to_us,
    utc_param,
)
from foliodb.store.repos.bars.writes import (
    ROLLUP,
    SQLITE_INSERT,
    SQLITE_REPLACE,
    VALUE_COLUMNS,
    executemany,
    sqlite_rows,
)
from foliodb.store.tables import SecurityRow
from foliodb.store.tables_bars import INTERVALS, BarRollupWatermarkRow, OhlcvBarRow

_RANK = {interval: rank for rank, interval in enumerate(INTERVALS)}
#: Key of the advisory locks serialising roll-ups of the same symbols.
_ROLLUP_LOCK = 0x0B0006


def lock_symbols(session: Session, symbols: Sequence[str]) -> None:
    """Serialise roll-ups of the same symbols until the transaction ends (PostgreSQL): a
    roll-up must see every committed bar of its buckets, so one that overlaps another's
    symbols waits for it. Symbols share 64 locks, taken in one order (no deadlock)."""
    if session.connection().dialect.name != "postgresql" or not symbols:
        return
    session.execute(
        text(
            """
            SELECT pg_advisory_xact_lock(:key, slot)
            FROM (SELECT DISTINCT hashtext(s) & 63 AS slot
                  FROM unnest(CAST(:symbols AS text[])) AS s ORDER BY 1) AS slots
            """
        ),
        {"key": _ROLLUP_LOCK, "symbols": list(symbols)},
    ).all()


# --- computing roll-ups ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Ranges:
    """Time ranges [lo, hi) of source bars to roll up, per symbol; `tz` is the zone whose
    local date groups daily bars (IANA name)."""

    symbols: list[str]
    lo: Array
    hi: Array
    tz: list[str]

    def __len__(self) -> int:
        return len(self.symbols)


def _bucket_sql(target: str) -> str:
    if target == "1d":
        return "(((b.ts AT TIME ZONE r.tz)::date)::timestamp AT TIME ZONE 'UTC')"
    step = {"5m": "5 minutes", "15m": "15 minutes", "1h": "1 hour"}[target]
    return f"date_bin(INTERVAL '{step}', b.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')"


def rollup_postgresql(
    session: Session, target: str, sources: Sequence[str], ranges: Ranges
) -> tuple[int, int]:
    """Recompute, in SQL, the `target` bars of every bucket the ranges cover, from the finest
    source interval with loaded bars in the bucket; store them as 'rollup' bars except where
    a loaded bar holds the key, and advance the watermarks. Returns (buckets, bars written).

    Each symbol's range is aggregated on its own (a LATERAL subquery over the primary key):
    its bars sort in memory, where one GROUP BY over every symbol would sort them all on
    disk, and the ordered array_agg gives each bucket's first open and last close."""
    if not len(ranges) or not sources:
        return 0, 0
    rank = "CASE {} " + " ".join(f"WHEN '{i}' THEN {r}" for i, r in _RANK.items()) + " END"
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    session.execute(
        text(
            """
            CREATE TEMP TABLE bar_rollup_ranges ON COMMIT DROP AS
            SELECT symbol,
                   TIMESTAMPTZ 'epoch' + lo * INTERVAL '1 microsecond' AS lo,
                   TIMESTAMPTZ 'epoch' + hi * INTERVAL '1 microsecond' AS hi, tz
            FROM unnest(CAST(:symbols AS text[]), CAST(:lo AS int8[]), CAST(:hi AS int8[]),
                        CAST(:tz AS text[])) AS r(symbol, lo, hi, tz)
            """
        ),
        {
            "symbols": ranges.symbols,
            "lo": ranges.lo.tolist(),
            "hi": ranges.hi.tolist(),
            "tz": ranges.tz,
        },
    )
    session.execute(text("ANALYZE bar_rollup_ranges"))
    listed = ", ".join(f"'{s}'" for s in sources if s in _RANK)
    counts = session.execute(
        text(
            f"""
            WITH agg AS MATERIALIZED (
                SELECT r.symbol, x.*
                FROM bar_rollup_ranges r
                CROSS JOIN LATERAL (
                    SELECT DISTINCT ON (g.ts) g.*
                    FROM (
                        SELECT b."interval" AS src, {_bucket_sql(target)} AS ts,
                               (array_agg(b.open ORDER BY b.ts))[1] AS open,
                               max(b.high) AS high, min(b.low) AS low,
                               (array_agg(b.close ORDER BY b.ts DESC))[1] AS close,
                               sum(b.volume) AS volume,
                               sum(coalesce(b.vwap, b.close) * b.volume) AS pv,
                               sum(b.trades) AS trades, max(b.ts) AS last
                        FROM ohlcv_bars b
                        WHERE b.symbol = r.symbol AND b."interval" IN ({listed})
                          AND b.source <> :rollup AND b.ts >= r.lo AND b.ts < r.hi
                        GROUP BY 1, 2
                    ) g
                    ORDER BY g.ts, {rank.format("g.src")}
                ) x
            ),
            written AS (
                INSERT INTO ohlcv_bars AS t (symbol, "interval", ts, open, high, low, close,
                                             volume, vwap, trades, source)
                SELECT symbol, :target, ts, open, high, low, close, volume,
                       pv / NULLIF(volume, 0), trades, :rollup
                FROM agg
                ON CONFLICT (symbol, "interval", ts) DO UPDATE
                SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
                    close = EXCLUDED.close, volume = EXCLUDED.volume, vwap = EXCLUDED.vwap,
                    trades = EXCLUDED.trades
                WHERE t.source = :rollup
                  AND (t.open, t.high, t.low, t.close, t.volume, t.vwap, t.trades)
                      IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low,
                      EXCLUDED.close, EXCLUDED.volume, EXCLUDED.vwap, EXCLUDED.trades)
                RETURNING 1
            ),
            marks AS (
                INSERT INTO bar_rollup_watermarks
                    (symbol, "interval", source_interval, watermark, updated_at)
                SELECT symbol, :target, (array_agg(src ORDER BY {rank.format("src")}))[1],
                       max(last), now()
                FROM agg GROUP BY symbol
                ON CONFLICT (symbol, "interval") DO UPDATE
                SET watermark = GREATEST(bar_rollup_watermarks.watermark, EXCLUDED.watermark),
                    source_interval = EXCLUDED.source_interval,
                    updated_at = EXCLUDED.updated_at
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM agg), (SELECT count(*) FROM written),
                   (SELECT count(*) FROM marks)
            """
        ),
        {"target": target, "rollup": ROLLUP},
    ).one()
    session.execute(text("DROP TABLE bar_rollup_ranges"))
    return int(counts[0]), int(counts[1])


def source_bars(
    session: Session, sources: Sequence[str], ranges: Ranges
) -> tuple[list[str], dict[str, Array]]:
    """Loaded (not roll-up) bars of the `sources` intervals within the ranges (SQLite), as
    columns: symbol (a list), interval (rank in INTERVALS), ts, open, high, low, close,
    volume, vwap, trades (NaN for none)."""
    query = (
        "SELECT ts, open, high, low, close, volume, ifnull(vwap, -1.0), ifnull(trades, -1) "
        'FROM ohlcv_bars WHERE symbol = ? AND "interval" = ? AND source <> ? '
        "AND ts >= ? AND ts < ?"
    )
    raw = session.connection().connection.driver_connection
    assert raw is not None
    symbols: list[str] = []
    ranks: list[Array] = []
    rows: list[Any] = []
    for interval in sources:
        for symbol, lo, hi in zip(ranges.symbols, ranges.lo, ranges.hi, strict=True):
            found = raw.execute(
                query,
                (symbol, interval, ROLLUP, sqlite_instant(int(lo)), sqlite_instant(int(hi))),
            ).fetchall()
            symbols += [symbol] * len(found)
            ranks.append(np.full(len(found), _RANK[interval], dtype=np.int64))
            rows += found
    if not rows:
        return [], {}
    ts, *values = zip(*rows, strict=True)
    out: dict[str, Array] = {"interval": np.concatenate(ranks), "ts": sqlite_us(ts)}
    for name, column in zip(VALUE_COLUMNS, values, strict=True):
        number = np.array(column, dtype=np.float64)
        if name in ("vwap", "trades"):  # stored NULL, read as -1 (never a stored value)
            number[number < 0] = np.nan
        out[name] = number
    return symbols, out


def upsert_rollups(session: Session, target: str, bars: BarColumns) -> int:
    """Store computed roll-up bars (SQLite); a loaded bar at the same key is left alone, an
    identical roll-up is not rewritten. Returns the bars written."""
    update = (
        SQLITE_REPLACE
        + " WHERE ohlcv_bars.source = 'rollup' AND (ohlcv_bars.open, ohlcv_bars.high, "
        "ohlcv_bars.low, ohlcv_bars.close, ohlcv_bars.volume, ohlcv_bars.vwap, "
        "ohlcv_bars.trades) IS NOT (excluded.open, excluded.high, excluded.low, "
        "excluded.close, excluded.volume, excluded.vwap, excluded.trades)"
    )
    return executemany(
        session,
        SQLITE_INSERT.format(verb="", tail=update),
        sqlite_rows(bars, target, ROLLUP),
        None,
    )


# --- watermarks and what to roll up ---------------------------------------------------------
def watermarks(session: Session, target: str, symbols: Sequence[str]) -> dict[str, int]:
    """{symbol: watermark in microseconds} of the roll-up into `target`."""
    rows = session.execute(
        select(BarRollupWatermarkRow.symbol, BarRollupWatermarkRow.watermark).where(
            BarRollupWatermarkRow.interval == target,
            BarRollupWatermarkRow.symbol.in_(list(symbols)),
        )
    ).all()
    return {symbol: to_us(mark) for symbol, mark in rows}


def set_watermarks(
    session: Session, target: str, marks: dict[str, tuple[str, int]], now: dt.datetime
) -> None:
    """Advance watermarks ({symbol: (source interval, microseconds)}); never moves one back."""
    if not marks:
        return
    greatest = "GREATEST" if session.connection().dialect.name == "postgresql" else "MAX"
    session.execute(
        text(
            f"""
            INSERT INTO bar_rollup_watermarks
                (symbol, "interval", source_interval, watermark, updated_at)
            VALUES (:symbol, :target, :source, :watermark, :now)
            ON CONFLICT (symbol, "interval") DO UPDATE
            SET watermark = {greatest}(bar_rollup_watermarks.watermark, excluded.watermark),
                source_interval = excluded.source_interval, updated_at = excluded.updated_at
            """
        ).bindparams(utc_param("watermark"), utc_param("now")),
        [
            {
                "symbol": symbol,
                "target": target,
                "source": source,
                "watermark": to_datetime(mark),
                "now": now,
            }
            for symbol, (source, mark) in marks.items()
        ],
    )


def source_extent(
    session: Session, sources: Sequence[str], symbols: Sequence[str] | None
) -> list[tuple[str, int, int]]:
    """(symbol, first ts, last ts) of the loaded bars of the `sources` intervals."""
    stmt = (
        select(OhlcvBarRow.symbol, func.min(OhlcvBarRow.ts), func.max(OhlcvBarRow.ts))
        .where(OhlcvBarRow.interval.in_(list(sources)), OhlcvBarRow.source != ROLLUP)
        .group_by(OhlcvBarRow.symbol)
        .order_by(OhlcvBarRow.symbol)
    )
    if symbols is not None:
        stmt = stmt.where(OhlcvBarRow.symbol.in_(list(symbols)))
    out = []
    for symbol, lo, hi in session.execute(stmt).all():
        out.append((symbol, as_us(lo), as_us(hi)))
    return out


def exchanges(session: Session, symbols: Sequence[str]) -> dict[str, str | None]:
    rows = session.execute(
        select(SecurityRow.symbol, SecurityRow.exchange).where(
            SecurityRow.symbol.in_(list(symbols))
        )
    ).all()
    return {str(symbol): exchange for symbol, exchange in rows}
