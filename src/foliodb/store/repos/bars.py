"""Repository of OHLCV bars: bulk writes, partitions, roll-up SQL, watermarks, retention and
queries. Like every repository it never commits; the caller's unit of work does.

PostgreSQL gets bars through binary COPY (numpy builds the wire format, so no Python runs per
row) and computes roll-ups in SQL; SQLite gets batched executemany. Timestamps cross this
module as int64 microseconds since the epoch (UTC) in arrays, as aware datetimes one by one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, func, select, text
from sqlalchemy.orm import Session

from foliodb.store.base import UtcDateTime
from foliodb.store.tables import SecurityRow
from foliodb.store.tables_bars import INTERVALS, BarRollupWatermarkRow, OhlcvBarRow

Array = np.ndarray[Any, Any]
ROLLUP = "rollup"  # the source of derived bars; a vendor's bar is never overwritten by one
US = 1_000_000
DAY_US = 86_400 * US
_PG_EPOCH_US = 946_684_800 * US  # PostgreSQL counts binary timestamps from 2000-01-01
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
VALUE_COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "trades")
_RANK = {interval: rank for rank, interval in enumerate(INTERVALS)}
#: Keys of the advisory locks serialising partition DDL (creation and retention drops) and
#: roll-ups of the same symbols.
_PARTITION_LOCK = 0x666F6C696F_0006
_ROLLUP_LOCK = 0x0B0006


def to_datetime(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(us))


def to_us(when: dt.datetime) -> int:
    delta = when.astimezone(dt.UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


@dataclasses.dataclass(frozen=True)
class BarBatch:
    """Bars to write, as columns: `codes` index `symbols`; `ts` int64 microseconds; prices,
    volume, vwap and trades float64 with NaN for none; `ref` identifies each row to the
    caller (for reporting conflicts and what was left unchanged)."""

    symbols: Sequence[str]
    codes: Array
    ts: Array
    open: Array
    high: Array
    low: Array
    close: Array
    volume: Array
    vwap: Array
    trades: Array
    ref: Array

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: Array) -> BarBatch:
        values = {
            f.name: getattr(self, f.name)[index]
            for f in dataclasses.fields(self)
            if f.name != "symbols"
        }
        return BarBatch(symbols=self.symbols, **values)

    def ranges(self) -> tuple[list[str], Array, Array]:
        """(symbol, first ts, last ts) of each symbol that has rows."""
        if not len(self):
            return [], np.zeros(0, np.int64), np.zeros(0, np.int64)
        count = np.bincount(self.codes, minlength=len(self.symbols))
        used = np.flatnonzero(count)
        lo = np.full(len(self.symbols), np.iinfo(np.int64).max)
        hi = np.full(len(self.symbols), np.iinfo(np.int64).min)
        np.minimum.at(lo, self.codes, self.ts)
        np.maximum.at(hi, self.codes, self.ts)
        return [self.symbols[int(i)] for i in used], lo[used], hi[used]


@dataclasses.dataclass(frozen=True)
class WriteCounts:
    inserted: int
    updated: int
    unchanged: Array  # refs of rows that changed nothing (skipped)
    conflicts: Array  # refs of rows refused by on_conflict="error" (then nothing was written)
    fast_path: bool  # PostgreSQL: COPY straight into the table (nothing overlapped)


# --- layout and partitions ------------------------------------------------------------------
def layout(connection: Connection | Session) -> str:
    """'sqlite', 'partitioned' (PostgreSQL partitions we manage) or 'table' (TimescaleDB
    hypertable: the extension manages its chunks)."""
    bind = connection.connection() if isinstance(connection, Session) else connection
    if bind.dialect.name != "postgresql":
        return "sqlite"
    kind = bind.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass('ohlcv_bars')")
    ).scalar()
    return "partitioned" if kind == "p" else "table"


@dataclasses.dataclass(frozen=True, order=True)
class Partition:
    """A leaf partition: monthly for intraday intervals, yearly for 1d; [lo, hi) in UTC."""

    interval: str
    lo: dt.datetime
    hi: dt.datetime

    @property
    def name(self) -> str:
        suffix = f"{self.lo.year}" if self.interval == "1d" else f"{self.lo:%Y_%m}"
        return f"ohlcv_bars_{self.interval}_p{suffix}"


def partitions_for(interval: str, ts: Array) -> set[Partition]:
    """The partitions holding bars of `interval` at the microsecond instants `ts`."""
    if not len(ts):
        return set()
    unit = "datetime64[Y]" if interval == "1d" else "datetime64[M]"
    starts = np.unique(np.asarray(ts, dtype=np.int64).astype("datetime64[us]").astype(unit))
    out = set()
    for start in starts:
        lo = start.astype("datetime64[us]").astype(np.int64)
        hi = (start + 1).astype("datetime64[us]").astype(np.int64)
        out.add(Partition(interval, to_datetime(int(lo)), to_datetime(int(hi))))
    return out


def partitions_between(interval: str, lo_us: int, hi_us: int) -> set[Partition]:
    """Every partition of `interval` that [lo_us, hi_us] touches."""
    unit = "Y" if interval == "1d" else "M"
    first = np.datetime64(int(lo_us), "us").astype(f"datetime64[{unit}]")
    last = np.datetime64(int(hi_us), "us").astype(f"datetime64[{unit}]")
    starts = np.arange(first, last + 1).astype("datetime64[us]").astype(np.int64)
    return partitions_for(interval, starts)


def partitions_covering(interval: str, ts: Array, margin: int = 0) -> set[Partition]:
    """The partitions for bars of `interval` at the instants `ts` (each widened by `margin`
    microseconds either way): when the first and last are at most three partitions apart
    (the usual load), every partition between them, which costs a min and a max; otherwise
    only those holding a bar, so a sparse load makes no empty partitions."""
    if not len(ts):
        return set()
    lo, hi = int(ts.min()) - margin, int(ts.max()) + margin
    if len(between := partitions_between(interval, lo, hi)) <= 3:
        return between
    if not margin:
        return partitions_for(interval, ts)
    return partitions_for(interval, np.concatenate([ts - margin, ts + margin]))


def ensure_partitions(engine: Engine, partitions: set[Partition]) -> list[str]:
    """Create the missing partitions, each in its own short transaction before the load
    (an empty partition left by a load that then failed holds nothing and is harmless).

    A partition is created as a table and ATTACHed: that takes SHARE UPDATE EXCLUSIVE on the
    interval's table, which readers and other writers do not wait for, where CREATE TABLE
    ... PARTITION OF would take ACCESS EXCLUSIVE. Concurrent loaders serialise on an advisory
    lock and each creates only what is still missing. Returns the names created."""
    if engine.dialect.name != "postgresql" or not partitions:
        return []
    with engine.connect() as connection:
        if layout(connection) != "partitioned":
            return []
        missing = _missing(connection, partitions)
    if not missing:
        return []
    created = []
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PARTITION_LOCK})
        for part in sorted(_missing(connection, missing)):
            parent = f"ohlcv_bars_{part.interval}"
            connection.exec_driver_sql(
                f"CREATE TABLE {part.name} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            connection.exec_driver_sql(
                f"ALTER TABLE {parent} ATTACH PARTITION {part.name} FOR VALUES FROM "
                f"('{part.lo.isoformat()}') TO ('{part.hi.isoformat()}')"
            )
            created.append(part.name)
    return created


def _missing(connection: Connection, partitions: set[Partition]) -> set[Partition]:
    names = {p.name for p in list_partitions(connection)}
    return {p for p in partitions if p.name not in names}


def list_partitions(connection: Connection, interval: str | None = None) -> list[Partition]:
    """The leaf partitions that exist (PostgreSQL, partitioned layout), oldest first."""
    rows = connection.execute(
        text(
            """
            SELECT parent.relname, child.relname,
                   (regexp_match(pg_get_expr(child.relpartbound, child.oid),
                                 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz,
                   (regexp_match(pg_get_expr(child.relpartbound, child.oid),
                                 'TO \\(''([^'']+)''\\)'))[1]::timestamptz
            FROM pg_inherits i
            JOIN pg_class parent ON parent.oid = i.inhparent
            JOIN pg_class child ON child.oid = i.inhrelid
            JOIN pg_inherits top ON top.inhrelid = parent.oid
            WHERE top.inhparent = to_regclass('ohlcv_bars')
            """
        )
    ).all()
    out = []
    for parent, _child, lo, hi in rows:
        part_interval = parent.removeprefix("ohlcv_bars_")
        if lo is None or hi is None or (interval and part_interval != interval):
            continue
        out.append(Partition(part_interval, lo.astimezone(dt.UTC), hi.astimezone(dt.UTC)))
    return sorted(out, key=lambda p: (p.interval, p.lo))


# --- writing bars: PostgreSQL ---------------------------------------------------------------
def _copy_chunks(
    batch: BarBatch, interval: str | None, source: str | None, with_ref: bool
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
            out["n_ts"], out["ts"] = 8, batch.ts[part] - _PG_EPOCH_US
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


def _overlaps(session: Session, interval: str, batch: BarBatch) -> bool:
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
    batch: BarBatch,
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
    inserted = _rowcount(
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
    updated = _rowcount(
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


def _rowcount(result: Any) -> int:
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


# --- writing bars: SQLite -------------------------------------------------------------------
def _sqlite_text(us: Array) -> tuple[list[str], list[str]]:
    """Each instant as SQLAlchemy stores a DateTime on SQLite ('YYYY-MM-DD HH:MM:SS.ffffff'),
    in two parts (date, time) joined by SQLite: the parts repeat, so only the distinct ones
    are formatted in Python."""
    days, times = np.divmod(np.asarray(us, dtype=np.int64), DAY_US)
    day_values, day_codes = np.unique(days, return_inverse=True)
    time_values, time_codes = np.unique(times, return_inverse=True)
    day_text = np.array(
        [f"{to_datetime(int(d) * DAY_US):%Y-%m-%d} " for d in day_values], dtype=object
    )
    time_text = np.array([f"{to_datetime(int(t)):%H:%M:%S.%f}" for t in time_values], dtype=object)
    return day_text[day_codes].tolist(), time_text[time_codes].tolist()


def sqlite_us(values: Sequence[str]) -> Array:
    return np.array(values, dtype="datetime64[us]").astype(np.int64)


def _sqlite_rows(batch: BarBatch, interval: str, source: str) -> Iterator[tuple[Any, ...]]:
    day, time = _sqlite_text(batch.ts)
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


def _executemany(
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


_SQLITE_INSERT = (
    'INSERT {verb} INTO ohlcv_bars (symbol, "interval", ts, open, high, low, close, volume, '
    "vwap, trades, source) VALUES (?, ?, ? || ?, ?, ?, ?, ?, ?, ?, ?, ?){tail}"
)
_SQLITE_REPLACE = (
    ' ON CONFLICT (symbol, "interval", ts) DO UPDATE SET open = excluded.open, '
    "high = excluded.high, low = excluded.low, close = excluded.close, "
    "volume = excluded.volume, vwap = excluded.vwap, trades = excluded.trades, "
    "source = excluded.source"
)


def _stored_sqlite(session: Session, interval: str, batch: BarBatch) -> tuple[Array, Array, Array]:
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
                "lo": _sqlite_instant(int(first)),
                "hi": _sqlite_instant(int(last)),
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
    batch: BarBatch,
    on_conflict: str,
    progress: Callable[[int], None] | None,
) -> WriteCounts:
    empty = np.zeros(0, np.int64)
    found, derived, differs = _stored_sqlite(session, interval, batch)
    if on_conflict == "error" and (refused := found & differs & ~derived).any():
        return WriteCounts(0, 0, empty, batch.ref[refused], False)
    replace = found & (derived | (differs if on_conflict == "update" else False))
    new = batch.take(~found)
    inserted = _executemany(
        session,
        _SQLITE_INSERT.format(verb="OR IGNORE", tail=""),
        _sqlite_rows(new, interval, source),
        progress,
    )
    updated = _executemany(
        session,
        _SQLITE_INSERT.format(verb="", tail=_SQLITE_REPLACE),
        _sqlite_rows(batch.take(replace), interval, source),
        progress,
        done=len(new),
    )
    unchanged = batch.ref[found & ~replace]
    return WriteCounts(inserted, updated, unchanged, empty, False)


def analyze_new_partitions(session: Session, interval: str, ts: Array) -> list[str]:
    """ANALYZE the partitions holding `ts` that have no statistics yet (first load into
    them). Without statistics the planner takes a fresh partition of millions of rows for a
    handful and picks nested loops that make a roll-up of it take minutes instead of seconds.
    Later loads need not: estimates scale with the partition's size, and autovacuum keeps
    the statistics current."""
    if session.connection().dialect.name != "postgresql" or layout(session) != "partitioned":
        return []
    names = sorted(p.name for p in partitions_covering(interval, ts))
    if not names:
        return []
    fresh = session.execute(
        text(
            "SELECT relname FROM pg_class WHERE relname IN :names AND reltuples < 0 "
            "ORDER BY relname"
        ).bindparams(_expanding("names")),
        {"names": names},
    ).scalars()
    analyzed = list(fresh)
    if analyzed:
        # A small sample (3,000 rows) is plenty to know the partition is large and how many
        # symbols it holds, and costs a fraction of the default 30,000.
        target = session.execute(text("SHOW default_statistics_target")).scalar_one()
        session.execute(text("SET LOCAL default_statistics_target = 10"))
        for name in analyzed:
            session.execute(text(f"ANALYZE {name}"))
        session.execute(text(f"SET LOCAL default_statistics_target = {int(target)}"))
    return analyzed


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


def write_bars(
    session: Session,
    interval: str,
    source: str,
    batch: BarBatch,
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


# --- roll-ups -------------------------------------------------------------------------------
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


def _expanding(name: str) -> Any:
    return bindparam(name, expanding=True)


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
                (symbol, interval, ROLLUP, _sqlite_instant(int(lo)), _sqlite_instant(int(hi))),
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


def _sqlite_instant(us: int) -> str:
    return f"{to_datetime(us):%Y-%m-%d %H:%M:%S.%f}"


def upsert_rollups(session: Session, target: str, bars: BarBatch) -> int:
    """Store computed roll-up bars (SQLite); a loaded bar at the same key is left alone, an
    identical roll-up is not rewritten. Returns the bars written."""
    update = (
        _SQLITE_REPLACE
        + " WHERE ohlcv_bars.source = 'rollup' AND (ohlcv_bars.open, ohlcv_bars.high, "
        "ohlcv_bars.low, ohlcv_bars.close, ohlcv_bars.volume, ohlcv_bars.vwap, "
        "ohlcv_bars.trades) IS NOT (excluded.open, excluded.high, excluded.low, "
        "excluded.close, excluded.volume, excluded.vwap, excluded.trades)"
    )
    return _executemany(
        session,
        _SQLITE_INSERT.format(verb="", tail=update),
        _sqlite_rows(bars, target, ROLLUP),
        None,
    )


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
        ).bindparams(_typed("watermark"), _typed("now")),
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


def _typed(name: str) -> Any:
    return bindparam(name, type_=UtcDateTime())


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
        out.append((symbol, _as_us(lo), _as_us(hi)))
    return out


def _as_us(value: Any) -> int:
    """An aggregate's datetime: aware on PostgreSQL, text on SQLite (no type on min/max)."""
    if isinstance(value, dt.datetime):
        return to_us(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return int(sqlite_us([str(value)])[0])


def exchanges(session: Session, symbols: Sequence[str]) -> dict[str, str | None]:
    rows = session.execute(
        select(SecurityRow.symbol, SecurityRow.exchange).where(
            SecurityRow.symbol.in_(list(symbols))
        )
    ).all()
    return {str(symbol): exchange for symbol, exchange in rows}


# --- retention ------------------------------------------------------------------------------
def drop_older(session: Session, interval: str, cutoff: dt.datetime) -> tuple[list[str], int]:
    """Remove the bars of `interval` that start before `cutoff`: whole partitions entirely
    older are dropped (PostgreSQL, partitioned), the other old rows deleted. Returns (names
    of the dropped partitions, rows deleted one by one)."""
    dropped: list[str] = []
    connection = session.connection()
    if layout(connection) == "partitioned":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PARTITION_LOCK})
        for part in list_partitions(connection, interval):
            if part.hi <= cutoff:
                connection.exec_driver_sql(f"DROP TABLE {part.name}")
                dropped.append(part.name)
    deleted = _rowcount(
        session.execute(
            text('DELETE FROM ohlcv_bars WHERE "interval" = :interval AND ts < :cutoff').bindparams(
                _typed("cutoff")
            ),
            {"interval": interval, "cutoff": cutoff},
        )
    )
    return dropped, int(deleted)


# --- queries --------------------------------------------------------------------------------
_BAR_COLUMNS = (
    OhlcvBarRow.ts, OhlcvBarRow.open, OhlcvBarRow.high, OhlcvBarRow.low, OhlcvBarRow.close,
    OhlcvBarRow.volume, OhlcvBarRow.vwap, OhlcvBarRow.trades, OhlcvBarRow.source,
)  # fmt: skip


def bars_between(
    session: Session, symbol: str, interval: str, lo: dt.datetime, hi: dt.datetime
) -> list[tuple[Any, ...]]:
    """(ts, open, high, low, close, volume, vwap, trades, source) with lo <= ts < hi."""
    stmt = (
        select(*_BAR_COLUMNS)
        .where(
            OhlcvBarRow.symbol == symbol,
            OhlcvBarRow.interval == interval,
            OhlcvBarRow.ts >= lo,
            OhlcvBarRow.ts < hi,
        )
        .order_by(OhlcvBarRow.ts)
    )
    return [tuple(row) for row in session.execute(stmt).all()]


def latest_bar(session: Session, symbol: str, interval: str) -> tuple[Any, ...] | None:
    stmt = (
        select(*_BAR_COLUMNS)
        .where(OhlcvBarRow.symbol == symbol, OhlcvBarRow.interval == interval)
        .order_by(OhlcvBarRow.ts.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return None if row is None else tuple(row)


def daily_closes(
    session: Session, on: dt.date, carry_forward: bool
) -> list[tuple[str, dt.date, float, str]]:
    """(symbol, session date, close, the security's currency) of each security's 1d bar dated
    `on`; with carry_forward, its latest 1d bar dated on or before `on`. Bars of symbols that
    are not securities are left out (a pack price needs a currency)."""
    from sqlalchemy import func

    day = dt.datetime(on.year, on.month, on.day, tzinfo=dt.UTC)
    bar = OhlcvBarRow
    if carry_forward:
        latest = (
            select(bar.symbol, func.max(bar.ts).label("ts"))
            .where(bar.interval == "1d", bar.ts <= day)
            .group_by(bar.symbol)
            .subquery()
        )
        stmt = select(bar.symbol, bar.ts, bar.close, SecurityRow.currency).join(
            latest, (bar.symbol == latest.c.symbol) & (bar.ts == latest.c.ts)
        )
    else:
        stmt = select(bar.symbol, bar.ts, bar.close, SecurityRow.currency).where(bar.ts == day)
    stmt = stmt.join(SecurityRow, SecurityRow.symbol == bar.symbol).where(bar.interval == "1d")
    return [
        (symbol, ts.astimezone(dt.UTC).date(), close, currency)
        for symbol, ts, close, currency in session.execute(stmt).all()
    ]
