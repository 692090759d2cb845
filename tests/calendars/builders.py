"""What the calendar tests put in a database: securities and bars, written the way the bar
import would store them (bar import is not used: these tests cover calendars only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest
import sqlalchemy as sa

import foliodb
from foliodb.store.tables import SecurityRow
from foliodb.store.tables_bars import OhlcvBarRow

#: exchange_calendars itself uses APIs pandas 3 deprecates; not ours to fix (`pytestmark`).
EXCHANGE_CALENDARS_WARNINGS = [
    pytest.mark.filterwarnings("ignore:DatetimeIndex.weekday is deprecated"),
    pytest.mark.filterwarnings("ignore:Series.values returning an ndarray"),
]


def utc(text: str) -> dt.datetime:
    """An aware instant from ISO text; without an offset the text is UTC."""
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def minutes(first: str, last: str, step: int = 1) -> list[dt.datetime]:
    """Every `step`-minute start from `first` to `last` inclusive (ISO, UTC unless offset)."""
    start, end = utc(first), utc(last)
    count = int((end - start) / dt.timedelta(minutes=step)) + 1
    return [start + dt.timedelta(minutes=step * i) for i in range(count)]


def add_security(db: foliodb.Database, symbol: str, exchange: str | None) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            sa.insert(SecurityRow).values(
                symbol=symbol, currency="USD", name=symbol, type="EQUITY", exchange=exchange
            )
        )


def add_bars(
    db: foliodb.Database, symbol: str, interval: str, starts: Iterable[dt.datetime]
) -> None:
    """One flat bar per start (a 1d bar's start is 00:00 UTC of its session date)."""
    rows = [
        {
            "symbol": symbol,
            "interval": interval,
            "ts": ts,
            "open": 10.0,
            "high": 10.0,
            "low": 10.0,
            "close": 10.0,
            "volume": 100.0,
        }
        for ts in starts
    ]
    with db.engine.begin() as connection:
        _partition_for(connection, interval)
        connection.execute(sa.insert(OhlcvBarRow), rows)


def add_daily_bars(db: foliodb.Database, symbol: str, days: Iterable[str]) -> None:
    add_bars(db, symbol, "1d", [utc(f"{day}T00:00") for day in days])


def _partition_for(connection: sa.Connection, interval: str) -> None:
    """On PostgreSQL without TimescaleDB, ohlcv_bars' time partitions are made by the bar
    loader; give the interval a default partition so that plain inserts land."""
    if connection.dialect.name != "postgresql":
        return
    parent = f"ohlcv_bars_{interval}"
    default = connection.execute(
        sa.text("SELECT partdefid FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"),
        {"t": parent},
    ).scalar()
    if default == 0:  # partitioned, and no default partition yet
        connection.exec_driver_sql(f"CREATE TABLE {parent}_default PARTITION OF {parent} DEFAULT")
