"""Trading calendars (migration 0007): exchanges, regular hours by period, holidays and
special sessions, seeded from exchange_calendars."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from foliodb.store.base import Base


class ExchangeRow(Base):
    __tablename__ = "exchanges"
    code: Mapped[str] = mapped_column(String(8), primary_key=True)  # ISO 10383 MIC, e.g. XNYS
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))  # IANA zone, e.g. America/New_York
    country: Mapped[str | None] = mapped_column(String(2))
    first_session: Mapped[dt.date] = mapped_column(Date)
    last_session: Mapped[dt.date] = mapped_column(Date)


class MarketHoursRow(Base):
    """Regular hours in the exchange's local time, valid from `valid_from` until the next row.
    `weekmask`: seven 0/1 characters, Monday first."""

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


class TradingHolidayRow(Base):
    """A weekday that is not a regular session: CLOSED, or an EARLY_CLOSE / LATE_OPEN with its
    local close / open time."""

    __tablename__ = "trading_holidays"
    exchange: Mapped[str] = mapped_column(
        ForeignKey("exchanges.code", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    open_time: Mapped[dt.time | None] = mapped_column(Time)
    close_time: Mapped[dt.time | None] = mapped_column(Time)
    __table_args__ = (
        CheckConstraint("kind IN ('CLOSED', 'EARLY_CLOSE', 'LATE_OPEN')", name="kind"),
    )
