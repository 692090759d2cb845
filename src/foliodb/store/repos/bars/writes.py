"""Writing bars: binary COPY on PostgreSQL (straight into the table when nothing overlaps,
else through a staging table that merges), batched executemany on SQLite. numpy builds the
COPY wire format, so no Python runs per row."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from foliodb.columnar.bars import Array, BarColumns
from foliodb.store.repos.bars.instants import PG_EPOCH_US, sqlite_instant, sqlite_text, sqlite_us

ROLLUP = "rollup"  # the source of derived bars; a vendor's bar is never overwritten by one
VALUE_COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "trades")


@dataclasses.dataclass(frozen=True)
class WriteCounts:
    inserted: int
    updated: int
    unchanged: Array  # refs of rows that changed nothing (skipped)
    conflicts: Array  # refs of rows refused by on_conflict="error" (then nothing was written)
    fast_path: bool  # PostgreSQL: COPY straight into the table (nothing overlapped)


# --- PostgreSQL -----------------------------------------------------------------------------
def _copy_chunks(
    batch: BarColumns, interval: str | None, source: str | None, with_ref: bool
) -> Iterator[tuple[int, bytes]]:
    """PostgreSQL binary COPY data for the batch: (rows, bytes) chunks, header first and
    trailer last. Rows are grouped by symbol length and by which of vwap and trades are
    NULL, so that every group is one fixed-width numpy record array."""
    yield 0, b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    encoded = [s.encode() for s in batch.symbols]
    lengths = np.array([len(s) for s in encoded] or [0], dtype=np.int64)
    no_vwap = np.isnan(batch.vwap)
    no_trades = np.isnan(batch.trades)
    key = lengths[batch.codes] * 4 + no_vwap * 2 + no_trades
    groups = np.unique(key)
    for group in groups:
        rows = np.flatnonzero(key == group) if len(groups) > 1 else np.arange(len(batch))
        width, vwap_null, trades_null = int(group) // 4, bool(group & 2), bool(group & 1)
        fields: list[tuple[str, str]] = [("count", ">i2")]
        if with_ref:
            fields += [("n_ref", ">i4"), ("ref", ">i8")]
        fields += [("n_symbol", ">i4"), ("symbol", f"S{width}")]
        if interval is not None:
            fields += [("n_interval", ">i4"), ("interval", f"S{len(interval)}")]
        fields += [("n_ts", ">i4"), ("ts", ">i8")]
        for name in VALUE_COLUMNS:
            null = (name == "vwap" and vwap_null) or (name == "trades" and trades_null)
            fields.append((f"n_{name}", ">i4"))
            if not null:
                fields.append((name, ">i8" if name == "trades" else ">f8"))
        if source is not None:
            fields += [("n_source", ">i4"), ("source", f"S{len(source.encode())}")]
        record = np.dtype(fields)
        names = np.array(encoded or [b""], dtype=f"S{max(width, 1)}")
        step = 100_000
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            out = np.empty(len(part), dtype=record)
            out["count"] = sum(1 for f in fields if f[0].startswith("n_"))
            if with_ref:
                out["n_ref"], out["ref"] = 8, batch.ref[part]
            out["n_symbol"], out["symbol"] = width, names[batch.codes[part]]
            if interval is not None:
                out["n_interval"], out["interval"] = len(interval), interval.encode()
            out["n_ts"], out["ts"] = 8, batch.ts[part] - PG_EPOCH_US
            for name in VALUE_COLUMNS:
                if name in (record.names or ()):
                    out[f"n_{name}"] = 8
                    values = getattr(batch, name)[part]
                    out[name] = values.astype(np.int64) if name == "trades" else values
                else:
                    out[f"n_{name}"] = -1
            if source is not None:
                out["n_source"], out["source"] = len(source.encode()), source.encode()
            yield len(part), out.tobytes()
    yield 0, b"\xff\xff"


def _copy(
    session: Session,
    statement: str,
    chunks: Iterator[tuple[int, bytes]],
    progress: Callable[[int], None] | None,
) -> None:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    done = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for rows, data in chunks:
            copy.write(data)
            done += rows
            if progress is not None and rows:
                progress(done)


def _overlaps(session: Session, interval: str, batch: BarColumns) -> bool:
    """Whether any stored bar of `interval` lies within a symbol's [first, last] ts of the
    batch: if none does, no row of the batch can conflict."""
    symbols, lo, hi = batch.ranges()
    if not symbols:
        return False
    found = session.execute(
        text(
            """
            SELECT EXISTS (
                SELECT 1
                FROM unnest(CAST(:symbols AS text[]), CAST(:lo AS int8[]), CAST(:hi AS int8[]))
                     AS r(symbol, lo, hi)
                CROSS JOIN LATERAL (
                    SELECT 1 FROM ohlcv_bars b
                    WHERE b.symbol = r.symbol AND b."interval" = :interval
                      AND b.ts >= TIMESTAMPTZ 'epoch' + r.lo * INTERVAL '1 microsecond'
                      AND b.ts <= TIMESTAMPTZ 'epoch' + r.hi * INTERVAL '1 microsecond'
                    LIMIT 1
                ) hit
            )
            """
        ),
        {"symbols": symbols, "lo": lo.tolist(), "hi": hi.tolist(), "interval": interval},
    ).scalar()
    return bool(found)


def _write_postgresql(
    session: Session,
    interval: str,
    source: str,
    batch: BarColumns,
    on_conflict: str,
    progress: Callable[[int], None] | None,
) -> WriteCounts:
    import psycopg

    empty = np.zeros(0, np.int64)
    columns = 'symbol, "interval", ts, open, high, low, close, volume, vwap, trades, source'
    if not _overlaps(session, interval, batch):
        # Nothing stored where these bars go: COPY them straight into the table, several
        # times faster than INSERT ... SELECT. A concurrent loader that stores one of the
        # same bars first makes the COPY fail; then the staged path below does the merge.
        try:
            with session.begin_nested():
                _copy(
                    session,
                    f"COPY ohlcv_bars ({columns}) FROM STDIN (FORMAT binary)",
                    _copy_chunks(batch, interval, source, with_ref=False),
                    progress,
                )
            return WriteCounts(len(batch), 0, empty, empty, True)
        except psycopg.errors.UniqueViolation:
            pass
    session.execute(
        text(
            """
            CREATE TEMP TABLE bar_stage (
                ref bigint, symbol varchar(64), ts timestamptz, open float8, high float8,
                low float8, close float8, volume float8, vwap float8, trades bigint
            ) ON COMMIT DROP
            """
        )
    )
    _copy(
        session,
        "COPY bar_stage (ref, symbol, ts, open, high, low, close, volume, vwap, trades) "
        "FROM STDIN (FORMAT binary)",
        _copy_chunks(batch, None, None, with_ref=True),
        progress,
    )
    session.execute(text("ANALYZE bar_stage"))
    session.execute(
        text(
            """
            CREATE TEMP TABLE bar_found ON COMMIT DROP AS
            SELECT s.ref, b.source = :rollup AS derived,
                   (b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trades)
                   IS DISTINCT FROM
                   (s.open, s.high, s.low, s.close, s.volume, s.vwap, s.trades) AS differs
            FROM bar_stage s
            JOIN ohlcv_bars b
              ON b.symbol = s.symbol AND b."interval" = :interval AND b.ts = s.ts
            """
        ),
        {"interval": interval, "rollup": ROLLUP},
    )
    if on_conflict == "error":
        refused = _refs(
            session, "SELECT ref FROM bar_found WHERE differs AND NOT derived ORDER BY ref"
        )
        if len(refused):
            return WriteCounts(0, 0, empty, refused, False)
    inserted = rowcount(
        session.execute(
            text(
                f"""
            INSERT INTO ohlcv_bars ({columns})
            SELECT s.symbol, :interval, s.ts, s.open, s.high, s.low, s.close, s.volume,
                   s.vwap, s.trades, :source
            FROM bar_stage s
            WHERE NOT EXISTS (SELECT 1 FROM bar_found f WHERE f.ref = s.ref)
            ON CONFLICT (symbol, "interval", ts) DO NOTHING
            """
            ),
            {"interval": interval, "source": source},
        )
    )
    replace = "f.derived OR f.differs" if on_conflict == "update" else "f.derived"
    updated = rowcount(
        session.execute(
            text(
                f"""
            UPDATE ohlcv_bars b
            SET open = s.open, high = s.high, low = s.low, close = s.close,
                volume = s.volume, vwap = s.vwap, trades = s.trades, source = :source
            FROM bar_stage s JOIN bar_found f ON f.ref = s.ref
            WHERE b.symbol = s.symbol AND b."interval" = :interval AND b.ts = s.ts
              AND ({replace})
            """
            ),
            {"interval": interval, "source": source},
        )
    )
    unchanged = _refs(session, f"SELECT ref FROM bar_found f WHERE NOT ({replace})")
    return WriteCounts(inserted, updated, unchanged, empty, False)


def rowcount(result: Any) -> int:
    """Rows an INSERT, UPDATE or DELETE touched (a CursorResult's rowcount)."""
    return int(result.rowcount)


def _refs(session: Session, query: str) -> Array:
    """An int8 column as a numpy array, through binary COPY (no Python object per row)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    data = bytearray()
    with raw.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as cp:
        for chunk in cp:
            data += chunk
    header = 19  # signature 11, flags 4, extension length 4 (always 0 from the server)
    count = (len(data) - header - 2) // 14
    record = np.dtype([("n", ">i2"), ("len", ">i4"), ("ref", ">i8")])
    refs = np.frombuffer(bytes(data), dtype=record, count=count, offset=header)["ref"]
    return refs.astype(np.int64)


# --- SQLite ---------------------------------------------------------------------------------
def sqlite_rows(batch: BarColumns, interval: str, source: str) -> Iterator[tuple[Any, ...]]:
    day, time = sqlite_text(batch.ts)
    names = np.array(list(batch.symbols) or [""], dtype=object)
    columns = [getattr(batch, c).tolist() for c in VALUE_COLUMNS]  # NaN binds as NULL
    return zip(
        names[batch.codes].tolist(),
        [interval] * len(batch),
        day,
        time,
        *columns,
        [source] * len(batch),
        strict=True,
    )


def executemany(
    session: Session,
    statement: str,
    rows: Iterator[tuple[Any, ...]],
    progress: Callable[[int], None] | None,
    done: int = 0,
) -> int:
    raw = session.connection().connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    changed = 0
    try:
        while True:
            chunk = list(itertools.islice(rows, 50_000))
            if not chunk:
                return changed
            cursor.executemany(statement, chunk)
            changed += max(cursor.rowcount, 0)
            done += len(chunk)
            if progress is not None:
                progress(done)
    finally:
        cursor.close()


SQLITE_INSERT = (
    'INSERT {verb} INTO ohlcv_bars (symbol, "interval", ts, open, high, low, close, volume, '
    "vwap, trades, source) VALUES (?, ?, ? || ?, ?, ?, ?, ?, ?, ?, ?, ?){tail}"
)
SQLITE_REPLACE = (
    ' ON CONFLICT (symbol, "interval", ts) DO UPDATE SET open = excluded.open, '
    "high = excluded.high, low = excluded.low, close = excluded.close, "
    "volume = excluded.volume, vwap = excluded.vwap, trades = excluded.trades, "
    "source = excluded.source"
)


def _stored_sqlite(
    session: Session, interval: str, batch: BarColumns
) -> tuple[Array, Array, Array]:
    """For each batch row: (a bar is stored at its key, that bar is a roll-up, it differs)."""
    n = len(batch)
    found, derived, differs = (np.zeros(n, dtype=bool) for _ in range(3))
    symbols, lo, hi = batch.ranges()
    positions = {s: i for i, s in enumerate(batch.symbols)}
    order = np.argsort(batch.codes, kind="stable")
    bounds = np.searchsorted(batch.codes[order], np.arange(len(batch.symbols) + 1))
    for symbol, first, last in zip(symbols, lo, hi, strict=True):
        stored = session.execute(
            text(
                "SELECT ts, open, high, low, close, volume, vwap, trades, source "
                'FROM ohlcv_bars WHERE symbol = :symbol AND "interval" = :interval '
                "AND ts >= :lo AND ts <= :hi ORDER BY ts"
            ),
            {
                "symbol": symbol,
                "interval": interval,
                "lo": sqlite_instant(int(first)),
                "hi": sqlite_instant(int(last)),
            },
        ).all()
        if not stored:
            continue
        code = positions[symbol]
        mine = order[bounds[code] : bounds[code + 1]]
        stored_ts = sqlite_us([r[0] for r in stored])
        at = np.minimum(np.searchsorted(stored_ts, batch.ts[mine]), len(stored_ts) - 1)
        hit = stored_ts[at] == batch.ts[mine]
        rows, slots = mine[hit], at[hit]
        found[rows] = True
        derived[rows] = np.array([stored[i][8] == ROLLUP for i in slots], dtype=bool)
        for k, name in enumerate(VALUE_COLUMNS, start=1):
            have = np.array([np.nan if stored[i][k] is None else stored[i][k] for i in slots])
            want = getattr(batch, name)[rows]
            same = (have == want) | (np.isnan(have) & np.isnan(want))
            differs[rows] |= ~same
    return found, derived, differs


def _write_sqlite(
    session: Session,
    interval: str,
    source: str,
    batch: BarColumns,
    on_conflict: str,
    progress: Callable[[int], None] | None,
) -> WriteCounts:
    empty = np.zeros(0, np.int64)
    found, derived, differs = _stored_sqlite(session, interval, batch)
    if on_conflict == "error" and (refused := found & differs & ~derived).any():
        return WriteCounts(0, 0, empty, batch.ref[refused], False)
    replace = found & (derived | (differs if on_conflict == "update" else False))
    new = batch.take(~found)
    inserted = executemany(
        session,
        SQLITE_INSERT.format(verb="OR IGNORE", tail=""),
        sqlite_rows(new, interval, source),
        progress,
    )
    updated = executemany(
        session,
        SQLITE_INSERT.format(verb="", tail=SQLITE_REPLACE),
        sqlite_rows(batch.take(replace), interval, source),
        progress,
        done=len(new),
    )
    unchanged = batch.ref[found & ~replace]
    return WriteCounts(inserted, updated, unchanged, empty, False)


# --- either engine --------------------------------------------------------------------------
def write_bars(
    session: Session,
    interval: str,
    source: str,
    batch: BarColumns,
    on_conflict: str,
    progress: Callable[[int], None] | None = None,
) -> WriteCounts:
    """Store the batch. A stored bar with the same key is kept as it is (skip), replaced when
    it differs (update), or, when it differs, makes the whole batch refused (error: nothing
    written, the refused refs returned). Whatever the mode, a roll-up bar is replaced by a
    loaded one and an identical bar counts as unchanged."""
    if session.connection().dialect.name == "postgresql":
        return _write_postgresql(session, interval, source, batch, on_conflict, progress)
    return _write_sqlite(session, interval, source, batch, on_conflict, progress)
