"""Performance, daily values (NAV) and currency attribution."""

from __future__ import annotations

import datetime as dt

from foliodb.server.schemas.common import Exact, Schema


class PeriodPublic(Schema):
    """One period of the time-weighted period table (null: not defined for the period)."""

    period: str
    start: dt.date | None
    end: dt.date | None
    total_return: float | None
    years: float | None
    annualised: float | None
    local_return: float | None
    benchmark_return: float | None = None


class MetricPublic(Schema):
    metric: str
    value: float | None


class PerformancePublic(Schema):
    portfolio: str
    as_of: dt.date
    base_currency: str
    benchmark: str | None
    periods: list[PeriodPublic]
    metrics: list[MetricPublic]


class DailyValuePublic(Schema):
    date: dt.date
    pack_id: str
    nav: Exact
    securities_value: Exact
    cash_value: Exact
    external_flows: Exact
    income: Exact
    fees: Exact
    daily_pnl: Exact
    daily_return: float | None
    local_return: float | None


class CurrencyContributionPublic(Schema):
    currency: str
    weight: float
    local_return: float | None
    fx_return: float | None
    local_contribution: float
    fx_contribution: float
    interaction: float
    total: float


class AttributionPublic(Schema):
    portfolio: str
    base_currency: str
    start: dt.date
    end: dt.date
    start_pack: str
    end_pack: str
    local: float | None
    fx: float | None
    interaction: float | None
    total: float | None
    actual: float | None
    residual_bp: float | None
    currencies: list[CurrencyContributionPublic]
