"""Trading calendars (migration 0007): exchanges, regular hours by period, holidays and
special sessions, seeded from exchange_calendars.

Every time of day here is the exchange's local wall-clock time; the UTC instants are computed
at query time with the exchange's IANA zone, so a daylight-saving change needs no new rows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from foliodb.store.base import Base, UtcDateTime

HOLIDAY_KINDS = ("CLOSED", "EARLY_CLOSE", "LATE_OPEN", "SPECIAL")


class ExchangeRow(Base):
    """One seeded calendar. `window_start`..`window_end` is the seeded window: days outside
    it are unknown, not closed."""

    __tablename__ = "exchanges"
    # ISO 10383 MIC (XNYS) or any other exchange_calendars name (us_futures, 24/7)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))  # IANA zone, e.g. America/New_York
    country: Mapped[str | None] = mapped_column(String(2))
    first_session: Mapped[dt.date] = mapped_column(Date)
    last_session: Mapped[dt.date] = mapped_column(Date)
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(64))  # e.g. "exchange_calendars 4.13.2"
    seeded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    __table_args__ = (
        CheckConstraint(
            "window_start <= first_session AND first_session <= last_session "
            "AND last_session <= window_end",
            name="window",
        ),
    )


class MarketHoursRow(Base):
    """Regular hours in the exchange's local time, valid from `valid_from` until the next row.
    `weekmask`: seven 0/1 characters, Monday first. `open_offset` / `close_offset`: days from
    the session date to the open / close (-1 for futures that open the evening before, 1 for a
    close at midnight ending the session date)."""

    __tablename__ = "market_hours"
    exchange: Mapped[str] = mapped_column(
        ForeignKey("exchanges.code", ondelete="CASCADE"), primary_key=True
    )
    valid_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    weekmask: Mapped[str] = mapped_column(String(7))
    open_time: Mapped[dt.time] = mapped_column(Time)
    close_time: Mapped[dt.time] = mapped_column(Time)
    break_start: Mapped[dt.time | None] = mapped_column(Time)
    break_end: Mapped[dt.time | None] = mapped_column(Time)
    open_offset: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    close_offset: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    __table_args__ = (
        CheckConstraint("length(weekmask) = 7", name="weekmask"),
        CheckConstraint("(break_start IS NULL) = (break_end IS NULL)", name="break"),
    )


class TradingHolidayRow(Base):
    """A day whose session differs from the regular hours in force: CLOSED (a weekmask day
    without a session), or a session with its own local hours: EARLY_CLOSE (closes earlier),
    LATE_OPEN (opens later), SPECIAL (any other difference, or a session on a day the weekmask
    excludes). A session row carries all its hours, its break (or none) included, read with
    the day offsets of the regular hours in force."""

    __tablename__ = "trading_holidays"
    exchange: Mapped[str] = mapped_column(
        ForeignKey("exchanges.code", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    open_time: Mapped[dt.time | None] = mapped_column(Time)
    close_time: Mapped[dt.time | None] = mapped_column(Time)
    break_start: Mapped[dt.time | None] = mapped_column(Time)
    break_end: Mapped[dt.time | None] = mapped_column(Time)
    __table_args__ = (
        CheckConstraint("kind IN ('CLOSED', 'EARLY_CLOSE', 'LATE_OPEN', 'SPECIAL')", name="kind"),
        CheckConstraint(
            "(kind = 'CLOSED') = (open_time IS NULL) "
            "AND (open_time IS NULL) = (close_time IS NULL)",
            name="hours",
        ),
        CheckConstraint("(break_start IS NULL) = (break_end IS NULL)", name="break"),
    )
