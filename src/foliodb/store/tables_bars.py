"""OHLCV bars and roll-up watermarks (migration 0006).

On PostgreSQL `ohlcv_bars` is partitioned (by interval, then monthly by time; yearly for 1d)
or a TimescaleDB hypertable; on SQLite it is a WITHOUT ROWID table. The migration owns that
DDL and store/repos/bars/partitions.py creates the partitions; this mapping only reads and writes.
Roll-up bars carry source 'rollup'; a bar with any other source was loaded from a vendor.
Prices are float64: a vendor's decimal with up to 15 significant digits round-trips exactly
(`repr` of the float gives it back), which is how packs built from bars get exact prices.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from foliodb.store.base import Base, UtcDateTime

INTERVALS = ("1m", "5m", "15m", "1h", "1d")


class OhlcvBarRow(Base):
    __tablename__ = "ohlcv_bars"
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval: Mapped[str] = mapped_column(String(4), primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(UtcDateTime(), primary_key=True)
    open: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float] = mapped_column(Float)
    vwap: Mapped[float | None] = mapped_column(Float)
    trades: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(64), default="", server_default="")
    __table_args__ = (
        # Equalities, not IN (...): SQLite evaluates an IN list per row at twice the cost of
        # the whole insert without it.
        CheckConstraint(
            "interval = '1m' OR interval = '5m' OR interval = '15m' OR interval = '1h' "
            "OR interval = '1d'",
            name="interval",
        ),
        CheckConstraint("open > 0 AND high > 0 AND low > 0 AND close > 0", name="prices_positive"),
        CheckConstraint("high >= open AND high >= close AND high >= low", name="high"),
        CheckConstraint("low <= open AND low <= close", name="low"),
        CheckConstraint("volume >= 0", name="volume"),
        CheckConstraint("vwap IS NULL OR vwap > 0", name="vwap"),
        CheckConstraint("trades IS NULL OR trades >= 0", name="trades"),
    )


class BarRollupWatermarkRow(Base):
    """How far the roll-up of `symbol` into `interval` (from `source_interval`) has got: the
    start of the last complete source bar it has seen."""

    __tablename__ = "bar_rollup_watermarks"
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval: Mapped[str] = mapped_column(String(4), primary_key=True)
    source_interval: Mapped[str] = mapped_column(String(4))
    watermark: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
