"""Every table foliodb keeps, as typed SQLAlchemy rows (`<Entity>Row`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from foliodb.store.base import Base, Money, UtcDateTime, utcnow

Timestamp = UtcDateTime()


# --- identity -------------------------------------------------------------------------------
class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="USER")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    __table_args__ = (CheckConstraint("role IN ('ADMIN','MANAGER','USER','VIEWER')", name="role"),)


class AuditLogRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(128))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)


# --- portfolios -----------------------------------------------------------------------------
class PortfolioRow(Base):
    __tablename__ = "portfolios"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200))
    base_currency: Mapped[str] = mapped_column(String(3))
    booking_method: Mapped[str] = mapped_column(String(16), default="FIFO")
    ledger_version: Mapped[int] = mapped_column(Integer, default=0)
    benchmark: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    __table_args__ = (
        UniqueConstraint("owner_id", "name"),
        CheckConstraint(
            "booking_method IN ('FIFO','LIFO','HIFO','AVERAGE','SPECIFIC')", name="booking_method"
        ),
    )


class AccountRow(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    broker: Mapped[str | None] = mapped_column(String(200))
    account_number: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("portfolio_id", "name"),)


# --- reference ------------------------------------------------------------------------------
class SecurityRow(Base):
    __tablename__ = "securities"
    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(16), default="EQUITY")
    currency: Mapped[str] = mapped_column(String(3))
    exchange: Mapped[str | None] = mapped_column(String(16))
    sector: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))


# --- ledger ---------------------------------------------------------------------------------
class TransactionRow(Base):
    __tablename__ = "transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    tx_id: Mapped[str] = mapped_column(String(128))
    external_id: Mapped[str | None] = mapped_column(String(128))
    content_hash: Mapped[str] = mapped_column(String(64))
    trade_date: Mapped[dt.date]
    type: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str | None] = mapped_column(ForeignKey("securities.symbol"))
    quantity: Mapped[Decimal | None] = mapped_column(Money)
    price: Mapped[Decimal | None] = mapped_column(Money)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    fee: Mapped[Decimal] = mapped_column(Money)
    fx_rate: Mapped[Decimal] = mapped_column(Money)
    counter_currency: Mapped[str | None] = mapped_column(String(3))
    counter_amount: Mapped[Decimal | None] = mapped_column(Money)
    ratio: Mapped[str | None] = mapped_column(String(64))
    lot_ids: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(String(16))
    acquired_date: Mapped[dt.date | None]
    account: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    #: On a reversal entry: the tx_id of the transaction it reverses (0011).
    reverses: Mapped[str | None] = mapped_column(String(128))
    #: False on a reversed transaction and on its reversal: the ledger replays active ones.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    __table_args__ = (
        UniqueConstraint("portfolio_id", "tx_id"),
        Index("ix_transactions_portfolio_date", "portfolio_id", "trade_date"),
        Index("ux_transactions_reverses", "portfolio_id", "reverses", unique=True),
    )


class LotRow(Base):
    __tablename__ = "lots"
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    lot_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"))
    currency: Mapped[str] = mapped_column(String(3))
    acquired_date: Mapped[dt.date]
    original_quantity: Mapped[Decimal] = mapped_column(Money)
    open_quantity: Mapped[Decimal] = mapped_column(Money)
    cost_basis: Mapped[Decimal] = mapped_column(Money)
    cost_basis_base: Mapped[Decimal] = mapped_column(Money)


class RealizedGainRow(Base):
    __tablename__ = "realized_gains"
    id: Mapped[int] = mapped_column(primary_key=True)
    portfolio_id: Mapped[int] = mapped_column(ForeignKey("portfolios.id", ondelete="CASCADE"))
    lot_id: Mapped[str] = mapped_column(String(128))
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"))
    currency: Mapped[str] = mapped_column(String(3))
    tx_id: Mapped[str] = mapped_column(String(128))
    acquired_date: Mapped[dt.date]
    disposed_date: Mapped[dt.date]
    quantity: Mapped[Decimal] = mapped_column(Money)
    proceeds: Mapped[Decimal] = mapped_column(Money)
    cost_basis: Mapped[Decimal] = mapped_column(Money)
    gain: Mapped[Decimal] = mapped_column(Money)
    proceeds_base: Mapped[Decimal] = mapped_column(Money)
    cost_basis_base: Mapped[Decimal] = mapped_column(Money)
    gain_base: Mapped[Decimal] = mapped_column(Money)
    term: Mapped[str] = mapped_column(String(5))
    is_short: Mapped[bool]
    __table_args__ = (Index("ix_realized_gains_portfolio_date", "portfolio_id", "disposed_date"),)


class CashBalanceRow(Base):
    __tablename__ = "cash_balances"
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(Money)


# --- pricing --------------------------------------------------------------------------------
class PriceRow(Base):
    """An imported closing price (raw input; a pack copies what it uses)."""

    __tablename__ = "prices"
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"), primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str | None] = mapped_column(String(64))


class FxRateRow(Base):
    """An imported FX rate: one `base` buys `rate` units of `quote` on `date`."""

    __tablename__ = "fx_rates"
    base: Mapped[str] = mapped_column(String(3), primary_key=True)
    quote: Mapped[str] = mapped_column(String(3), primary_key=True)
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str | None] = mapped_column(String(64))


class PricingPackRow(Base):
    __tablename__ = "pricing_packs"
    pack_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[dt.date] = mapped_column(index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    content_hash: Mapped[str | None] = mapped_column(String(64))
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("pricing_packs.pack_id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    sealed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    __table_args__ = (
        CheckConstraint("status IN ('PENDING','COMPLETE','FAILED')", name="status"),
        UniqueConstraint("date", "revision"),
    )


class PackPriceRow(Base):
    __tablename__ = "pack_prices"
    pack_id: Mapped[str] = mapped_column(ForeignKey("pricing_packs.pack_id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(ForeignKey("securities.symbol"), primary_key=True)
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    price_date: Mapped[dt.date]


class PackFxRateRow(Base):
    __tablename__ = "pack_fx_rates"
    pack_id: Mapped[str] = mapped_column(ForeignKey("pricing_packs.pack_id"), primary_key=True)
    base: Mapped[str] = mapped_column(String(3), primary_key=True)
    quote: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(Money)
    rate_date: Mapped[dt.date]


# --- time series ----------------------------------------------------------------------------
class PortfolioDailyValueRow(Base):
    """A portfolio's value at one sealed pack date, in its base currency (derived, rebuildable)."""

    __tablename__ = "portfolio_daily_values"
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(primary_key=True)
    pack_id: Mapped[str] = mapped_column(ForeignKey("pricing_packs.pack_id"))
    nav: Mapped[Decimal] = mapped_column(Money)
    nav_at_prior_fx: Mapped[Decimal] = mapped_column(Money)
    securities_value: Mapped[Decimal] = mapped_column(Money)
    cash_value: Mapped[Decimal] = mapped_column(Money)
    external_flows: Mapped[Decimal] = mapped_column(Money)
    income: Mapped[Decimal] = mapped_column(Money)
    fees: Mapped[Decimal] = mapped_column(Money)
    daily_pnl: Mapped[Decimal] = mapped_column(Money)


class PortfolioCashFlowRow(Base):
    """An external flow (deposit, withdrawal, transfer) valued in base at its value date's pack."""

    __tablename__ = "portfolio_cash_flows"
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    tx_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    trade_date: Mapped[dt.date]
    value_date: Mapped[dt.date]
    type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    amount_base: Mapped[Decimal] = mapped_column(Money)
    __table_args__ = (Index("ix_portfolio_cash_flows_value_date", "portfolio_id", "value_date"),)


# --- caches ---------------------------------------------------------------------------------
class PortfolioMetricRow(Base):
    """A computed figure, keyed by what it was computed from: the portfolio, the pack of its
    last day, the metric, the period and the fingerprint of every other input."""

    __tablename__ = "portfolio_metrics"
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    pack_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class CurrencyAttributionRow(Base):
    """Cached currency attribution of one period: a row per currency and an overall row
    (currency ``*``, which alone carries ``actual``), valid while ``fingerprint`` matches."""

    __tablename__ = "currency_attribution"
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    start_pack_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    end_pack_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    weight: Mapped[float] = mapped_column(Float)
    local_return: Mapped[float | None] = mapped_column(Float)
    fx_return: Mapped[float | None] = mapped_column(Float)
    local_contribution: Mapped[float] = mapped_column(Float)
    fx_contribution: Mapped[float] = mapped_column(Float)
    interaction: Mapped[float] = mapped_column(Float)
    actual: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class CacheCounterRow(Base):
    """Hits and misses of one cache, so its effect can be observed."""

    __tablename__ = "cache_counters"
    cache: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    misses: Mapped[int] = mapped_column(Integer, default=0)


# --- market data, calendars, macro, news: one module each, registered on the same metadata ---
from foliodb.store.tables_auth import (  # noqa: E402
    ApiKeyRow,
    LoginAttemptRow,
    PortfolioGrantRow,
    RefreshTokenRow,
)
from foliodb.store.tables_bars import BarRollupWatermarkRow, OhlcvBarRow  # noqa: E402
from foliodb.store.tables_calendars import (  # noqa: E402
    ExchangeRow,
    MarketHoursRow,
    TradingHolidayRow,
)
from foliodb.store.tables_macro import (  # noqa: E402
    EconomicObservationRow,
    EconomicSeriesRow,
    RegimeHistoryRow,
)
from foliodb.store.tables_news import EconomicEventRow, NewsArticleRow, NewsSymbolRow  # noqa: E402

__all__ = [
    "ApiKeyRow",
    "BarRollupWatermarkRow",
    "EconomicEventRow",
    "EconomicObservationRow",
    "EconomicSeriesRow",
    "ExchangeRow",
    "LoginAttemptRow",
    "MarketHoursRow",
    "NewsArticleRow",
    "NewsSymbolRow",
    "OhlcvBarRow",
    "PortfolioGrantRow",
    "RefreshTokenRow",
    "RegimeHistoryRow",
    "TradingHolidayRow",
]
