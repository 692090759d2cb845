"""Market data (bars and gaps), trading calendars, economic series, news and events."""

from __future__ import annotations

import datetime as dt

from foliodb.server.schemas.common import Exact, Schema


class BarPublic(Schema):
    """One bar; `ts` is its start in UTC. Numbers as the vendor wrote them."""

    ts: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float | None
    trades: int | None
    source: str


class GapPublic(Schema):
    first_missing: dt.date | dt.datetime
    last_missing: dt.date | dt.datetime
    count: int


class GapReportPublic(Schema):
    """Expected bars without a bar, as runs: session dates for 1d, UTC bar starts otherwise."""

    symbol: str
    exchange: str
    timezone: str
    interval: str
    start: dt.date | dt.datetime | None
    end: dt.date | dt.datetime | None
    expected: int
    present: int
    missing: int
    unexpected: int
    gaps: list[GapPublic]


class ExchangePublic(Schema):
    code: str
    name: str
    timezone: str
    country: str | None
    first_session: dt.date
    last_session: dt.date
    window_start: dt.date
    window_end: dt.date
    source: str
    seeded_at: dt.datetime


class SessionPublic(Schema):
    """One session; instants in the exchange's zone (`*_local`) and in UTC (`*_utc`)."""

    session: dt.date
    kind: str
    open_local: dt.datetime
    break_start_local: dt.datetime | None
    break_end_local: dt.datetime | None
    close_local: dt.datetime
    open_utc: dt.datetime
    break_start_utc: dt.datetime | None
    break_end_utc: dt.datetime | None
    close_utc: dt.datetime


class MarketStatusPublic(Schema):
    exchange: str
    timezone: str
    is_open: bool
    state: str
    session: dt.date | None
    next_session: dt.date | None
    at_local: dt.datetime
    at_utc: dt.datetime
    next_open_local: dt.datetime | None
    next_open_utc: dt.datetime | None
    next_close_local: dt.datetime | None
    next_close_utc: dt.datetime | None
    previous_close_local: dt.datetime | None
    previous_close_utc: dt.datetime | None
    break_end_local: dt.datetime | None
    break_end_utc: dt.datetime | None


class SeriesSummaryPublic(Schema):
    code: str
    title: str
    frequency: str
    units: str | None
    seasonal_adjustment: str | None
    source: str
    dates: int
    vintages: int
    first_date: dt.date | None
    last_date: dt.date | None
    last_realtime_start: dt.date | None
    updated_at: dt.datetime


class PointPublic(Schema):
    date: dt.date
    value: float | None


class RegimePublic(Schema):
    month: dt.date
    regime: str
    confidence: float | None
    growth: float | None
    inflation: float | None
    growth_z: float | None
    inflation_z: float | None


class ArticlePublic(Schema):
    url: str
    title: str
    source: str
    author: str | None
    published_at: dt.datetime
    summary: str | None
    symbols: list[str]


class EventPublic(Schema):
    ts: dt.datetime
    name: str
    country: str
    currency: str | None
    impact: int
    actual: str | None
    forecast: str | None
    previous: str | None
    actual_value: Exact | None
    forecast_value: Exact | None
    previous_value: Exact | None
    surprise: Exact | None
