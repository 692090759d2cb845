"""Economic series with vintages and macro regimes (migration 0008)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from foliodb.store.base import Base, UtcDateTime


class EconomicSeriesRow(Base):
    __tablename__ = "economic_series"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. GDPC1, CPIAUCSL
    title: Mapped[str] = mapped_column(String(300))
    frequency: Mapped[str] = mapped_column(String(16))  # D, W, M, Q, A
    units: Mapped[str | None] = mapped_column(String(100))
    seasonal_adjustment: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class EconomicObservationRow(Base):
    """The value of `date` as published from `realtime_start` until the day before
    `realtime_end` (exclusive; None: still current), so the value known on a date D is the row
    with realtime_start <= D < realtime_end. A revision is a new row with a later
    realtime_start, and the row it replaces ends that day. `value` None: published missing."""

    __tablename__ = "economic_observations"
    series_code: Mapped[str] = mapped_column(
        ForeignKey("economic_series.code", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    realtime_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    realtime_end: Mapped[dt.date | None] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)
    preliminary: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (
        CheckConstraint(
            "realtime_end IS NULL OR realtime_end > realtime_start", name="realtime_period"
        ),
    )


class RegimeHistoryRow(Base):
    __tablename__ = "regime_history"
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    method: Mapped[str] = mapped_column(String(160), primary_key=True)  # zscore10y:GDPC1:CPIAUCSL
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    regime: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    growth: Mapped[float | None] = mapped_column(Float)
    inflation: Mapped[float | None] = mapped_column(Float)
    growth_z: Mapped[float | None] = mapped_column(Float)
    inflation_z: Mapped[float | None] = mapped_column(Float)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    __table_args__ = (
        CheckConstraint(
            "regime IN ('GOLDILOCKS', 'REFLATION', 'STAGFLATION', 'DEFLATION')", name="regime"
        ),
    )
