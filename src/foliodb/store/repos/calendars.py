"""Repositories of trading calendars (exchanges, regular hours, holidays) and the reads of
securities and bars that gap detection needs. They never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from foliodb.store.tables import SecurityRow
from foliodb.store.tables_bars import OhlcvBarRow
from foliodb.store.tables_calendars import ExchangeRow, MarketHoursRow, TradingHolidayRow

HOURS_FIELDS = (
    "valid_from",
    "weekmask",
    "open_time",
    "close_time",
    "break_start",
    "break_end",
    "open_offset",
    "close_offset",
)
HOLIDAY_FIELDS = (
    "date",
    "kind",
    "name",
    "open_time",
    "close_time",
    "break_start",
    "break_end",
)


# --- calendars --------------------------------------------------------------------------------
def get_exchange(session: Session, code: str) -> ExchangeRow | None:
    """The seeded exchange `code`, matched exactly, else ignoring case."""
    found = session.get(ExchangeRow, code)
    if found is None:
        stmt = select(ExchangeRow).where(func.upper(ExchangeRow.code) == code.upper())
        found = session.scalars(stmt.order_by(ExchangeRow.code).limit(1)).one_or_none()
    return found


def list_exchanges(session: Session) -> list[ExchangeRow]:
    """Every seeded exchange, by code in code-point order (sorted here: PostgreSQL's collation
    would put `us_futures` before `XNYS`, SQLite after)."""
    return sorted(session.scalars(select(ExchangeRow)), key=lambda row: row.code)


def replace_calendar(
    session: Session,
    exchange: dict[str, Any],
    hours: Sequence[dict[str, Any]],
    holidays: Sequence[dict[str, Any]],
) -> None:
    """Store an exchange's calendar in place of whatever it had (rows of every table)."""
    code = exchange["code"]
    session.execute(delete(TradingHolidayRow).where(TradingHolidayRow.exchange == code))
    session.execute(delete(MarketHoursRow).where(MarketHoursRow.exchange == code))
    session.execute(delete(ExchangeRow).where(ExchangeRow.code == code))
    session.execute(insert(ExchangeRow), [exchange])
    session.execute(insert(MarketHoursRow), [{"exchange": code, **row} for row in hours])
    if holidays:
        session.execute(insert(TradingHolidayRow), [{"exchange": code, **row} for row in holidays])


def load_hours(session: Session, code: str) -> list[dict[str, Any]]:
    """Every period of regular hours of `code`, oldest first."""
    columns = [getattr(MarketHoursRow, name) for name in HOURS_FIELDS]
    stmt = (
        select(*columns).where(MarketHoursRow.exchange == code).order_by(MarketHoursRow.valid_from)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def load_holidays(
    session: Session, code: str, start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    """The closed days and special sessions of `code` from `start` to `end` inclusive."""
    columns = [getattr(TradingHolidayRow, name) for name in HOLIDAY_FIELDS]
    stmt = (
        select(*columns)
        .where(
            TradingHolidayRow.exchange == code,
            TradingHolidayRow.date >= start,
            TradingHolidayRow.date <= end,
        )
        .order_by(TradingHolidayRow.date)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


# --- what gap detection reads -----------------------------------------------------------------
def security_exchange(session: Session, symbol: str) -> tuple[bool, str | None]:
    """Whether `symbol` is a known security, and its exchange (None when not set)."""
    stmt = select(SecurityRow.exchange).where(SecurityRow.symbol == symbol)
    found = session.execute(stmt).one_or_none()
    if found is None:
        return False, None
    return True, found.exchange or None


def bar_span(
    session: Session, symbol: str, interval: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Start of the first and of the last bar of `symbol` at `interval` (None: no bars)."""
    stmt = select(func.min(OhlcvBarRow.ts), func.max(OhlcvBarRow.ts)).where(
        OhlcvBarRow.symbol == symbol, OhlcvBarRow.interval == interval
    )
    first, last = session.execute(stmt).one()  # typed by the column: aware UTC instants
    return first, last


def bar_times(
    session: Session, symbol: str, interval: str, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    """Starts of the bars of `symbol` at `interval` from `start` to `end` inclusive."""
    stmt = (
        select(OhlcvBarRow.ts)
        .where(
            OhlcvBarRow.symbol == symbol,
            OhlcvBarRow.interval == interval,
            OhlcvBarRow.ts >= start,
            OhlcvBarRow.ts <= end,
        )
        .order_by(OhlcvBarRow.ts)
    )
    return list(session.scalars(stmt))
