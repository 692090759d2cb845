"""Partitions of ohlcv_bars on PostgreSQL (monthly, yearly for 1d): which exist, creating the
missing ones before a load, statistics for fresh ones, and dropping old ones (retention)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.orm import Session

from foliodb.columnar.bars import Array
from foliodb.store.repos.bars.instants import to_datetime, utc_param
from foliodb.store.repos.bars.writes import rowcount

#: Key of the advisory lock serialising partition DDL (creation and retention drops).
_PARTITION_LOCK = 0x666F6C696F_0006


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


def _expanding(name: str) -> Any:
    return bindparam(name, expanding=True)


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
    deleted = rowcount(
        session.execute(
            text('DELETE FROM ohlcv_bars WHERE "interval" = :interval AND ts < :cutoff').bindparams(
                utc_param("cutoff")
            ),
            {"interval": interval, "cutoff": cutoff},
        )
    )
    return dropped, int(deleted)
