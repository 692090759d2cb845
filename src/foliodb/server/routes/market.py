"""Market data: OHLCV bars and their gaps, trading calendars, economic series and regimes,
news and economic events. Shared by every user; any signed-in principal reads them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query

from foliodb.server.deps import Principal, State
from foliodb.server.schemas.common import NAME_PATTERN, problems
from foliodb.server.schemas.market import (
    ArticlePublic,
    BarPublic,
    EventPublic,
    ExchangePublic,
    GapReportPublic,
    MarketStatusPublic,
    PointPublic,
    RegimePublic,
    SeriesSummaryPublic,
    SessionPublic,
)

router = APIRouter(responses=problems(401, 404, 422))
Interval = Literal["1m", "5m", "15m", "1h", "1d"]
Symbol = Annotated[str, Path(min_length=1, max_length=64, pattern=NAME_PATTERN)]
Exchange = Annotated[
    str, Path(min_length=1, max_length=64, pattern=NAME_PATTERN, examples=["XNYS"])
]
Instant = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=NAME_PATTERN,
        description="A date (YYYY-MM-DD, a whole UTC day) or an ISO 8601 time (naive: UTC)",
    ),
]
Day = Annotated[dt.date | None, Query()]
Limit = Annotated[int, Query(ge=1, le=100_000)]
Code = Annotated[str, Path(min_length=1, max_length=64, pattern=NAME_PATTERN)]
Optional = Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN)]


def _plain(value: Any) -> Any:
    """pandas and numpy scalars as Python values; NaN and NaT as null."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime() if value == value else None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        missing = bool(value != value)  # NaN-like
    except TypeError:  # pandas NA: its comparisons are NA, which has no truth value
        missing = True
    return None if missing else value


# --- bars -----------------------------------------------------------------------------------
@router.get("/bars/{symbol}", response_model=list[BarPublic], tags=["market data"])
def bars(
    symbol: Symbol,
    _: Principal,
    state: State,
    interval: Interval = "1d",
    start: Instant = None,
    end: Instant = None,
    limit: Limit = 10_000,
) -> list[BarPublic]:
    """Bars of one symbol, oldest first (the first `limit`); `ts` is the bar's start (UTC)."""
    frame = state.database.bars.query(symbol, interval, start, end).head(limit)
    return [
        BarPublic.model_validate({k: _plain(v) for k, v in row.items()})
        for row in frame.reset_index().to_dict("records")
    ]


@router.get("/bars/{symbol}/gaps", response_model=GapReportPublic, tags=["market data"])
def gaps(
    symbol: Symbol,
    _: Principal,
    state: State,
    interval: Interval = "1d",
    start: Day = None,
    end: Day = None,
    exchange: Optional = None,
) -> GapReportPublic:
    """Expected bars without a bar, as runs (1d: sessions; intraday: bar starts in them)."""
    report = state.database.calendars.gaps(symbol, interval, start, end, exchange)
    return GapReportPublic.model_validate(report)


# --- calendars ------------------------------------------------------------------------------
@router.get("/calendars", response_model=list[ExchangePublic], tags=["calendars"])
def exchanges(_: Principal, state: State) -> list[ExchangePublic]:
    """The seeded exchanges and the window their calendars cover."""
    return [ExchangePublic.model_validate(e) for e in state.database.calendars.exchanges()]


@router.get(
    "/calendars/{exchange}/sessions", response_model=list[SessionPublic], tags=["calendars"]
)
def sessions(
    exchange: Exchange,
    _: Principal,
    state: State,
    start: Annotated[dt.date | None, Query(description="First session (default today)")] = None,
    end: Annotated[dt.date | None, Query(description="Last (default a week on)")] = None,
) -> list[SessionPublic]:
    """Sessions with their kind, open, close and break, in local time and UTC."""
    first = start or dt.datetime.now(dt.UTC).date()
    last = end or first + dt.timedelta(days=7)
    frame = state.database.calendars.sessions(exchange, first, last)
    return [
        SessionPublic.model_validate(
            {"session": session.date(), **{k: _plain(v) for k, v in row.items()}}
        )
        for session, row in zip(frame.index, frame.to_dict("records"), strict=True)
    ]


def _both(name: str, value: dt.datetime | None, zone: str) -> dict[str, Any]:
    local = value.astimezone(ZoneInfo(zone)) if value is not None else None
    utc = value.astimezone(dt.UTC) if value is not None else None
    return {f"{name}_local": local, f"{name}_utc": utc}


@router.get("/calendars/{exchange}/status", response_model=MarketStatusPublic, tags=["calendars"])
def market_status(
    exchange: Exchange,
    _: Principal,
    state: State,
    at: Annotated[
        str | None,
        Query(
            max_length=40, pattern=NAME_PATTERN, description="ISO time (naive: UTC); default now"
        ),
    ] = None,
) -> MarketStatusPublic:
    """Whether an exchange is open at an instant (a lunch break is closed), with the opens
    and closes around it."""
    status = state.database.calendars.status(exchange, at)
    zone = status.timezone
    return MarketStatusPublic.model_validate(
        {
            "exchange": status.exchange,
            "timezone": zone,
            "is_open": status.is_open,
            "state": status.state,
            "session": status.session,
            "next_session": status.next_session,
            **_both("at", status.at, zone),
            **_both("next_open", status.next_open, zone),
            **_both("next_close", status.next_close, zone),
            **_both("previous_close", status.previous_close, zone),
            **_both("break_end", status.break_end, zone),
        }
    )


# --- macro ----------------------------------------------------------------------------------
AsOf = Annotated[dt.date | None, Query(description="Values as known on this date")]


def _points(series: Any) -> list[PointPublic]:
    return [
        PointPublic(date=_plain(day).date(), value=_plain(value)) for day, value in series.items()
    ]


@router.get("/macro/series", response_model=list[SeriesSummaryPublic], tags=["macro"])
def list_series(_: Principal, state: State) -> list[SeriesSummaryPublic]:
    """Stored economic series with their dates and vintages."""
    return [SeriesSummaryPublic.model_validate(s) for s in state.database.macro.list_series()]


@router.get("/macro/series/{code}", response_model=list[PointPublic], tags=["macro"])
def series(
    code: Code, _: Principal, state: State, as_of: AsOf = None, start: Day = None, end: Day = None
) -> list[PointPublic]:
    """A series' values as known on `as_of` (each date's vintage current then; default the
    latest values)."""
    return _points(state.database.macro.series(code, as_of=as_of, start=start, end=end))


@router.get("/macro/indicators/{name}", response_model=list[PointPublic], tags=["macro"])
def indicator(
    name: Literal["term-spread", "real-rate", "yoy"],
    _: Principal,
    state: State,
    code: Optional = None,
    as_of: AsOf = None,
    start: Day = None,
    end: Day = None,
) -> list[PointPublic]:
    """term-spread (DGS10 - DGS2), real-rate (DGS10 - CPI inflation) or `yoy` of `code`."""
    values = state.database.macro.indicator(name, code, as_of=as_of, start=start, end=end)
    return _points(values)


@router.get("/macro/regimes", response_model=list[RegimePublic], tags=["macro"])
def regimes(
    _: Principal,
    state: State,
    as_of: AsOf = None,
    window: Annotated[int, Query(ge=1, le=100, description="z-score window, years")] = 10,
    growth: Optional = None,
    inflation: Optional = None,
    last: Annotated[int, Query(ge=0, le=10_000, description="The last N months (0: all)")] = 12,
) -> list[RegimePublic]:
    """Macro regime of each month (GOLDILOCKS, REFLATION, STAGFLATION, DEFLATION) from growth
    and inflation z-scores, as known on `as_of` (docs/macro.md)."""
    table = state.database.macro.regimes(as_of, window=window, growth=growth, inflation=inflation)
    rows = [
        RegimePublic.model_validate(
            {"month": _plain(month).date(), **{k: _plain(v) for k, v in row.items()}}
        )
        for month, row in zip(table.index, table.to_dict("records"), strict=True)
    ]
    return rows[-last:] if last else rows


# --- news and events ------------------------------------------------------------------------
@router.get("/news", response_model=list[ArticlePublic], tags=["news"])
def news(
    _: Principal,
    state: State,
    symbol: Optional = None,
    start: Instant = None,
    end: Instant = None,
    source: Annotated[str | None, Query(max_length=200, pattern=NAME_PATTERN)] = None,
    search: Annotated[str | None, Query(max_length=200, pattern=NAME_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> list[ArticlePublic]:
    """Articles newest first: about `symbol`, published from `start` to `end`."""
    found = state.database.news.articles(symbol, start, end, source, search, limit)
    return [ArticlePublic.model_validate(a) for a in found]


@router.get("/events", response_model=list[EventPublic], tags=["news"])
def events(
    _: Principal,
    state: State,
    start: Instant = None,
    end: Instant = None,
    country: Annotated[str | None, Query(max_length=2, pattern=NAME_PATTERN)] = None,
    currency: Annotated[str | None, Query(max_length=3, pattern=NAME_PATTERN)] = None,
    min_impact: Annotated[
        str | None, Query(max_length=16, pattern=NAME_PATTERN, description="1-4 or a word")
    ] = None,
    name: Annotated[str | None, Query(max_length=200, pattern=NAME_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[EventPublic]:
    """Economic calendar events in time order, with surprise = actual - forecast."""
    found = state.database.news.events(start, end, country, currency, min_impact, name, limit)
    return [
        EventPublic.model_validate(dataclasses.asdict(e) | {"surprise": e.surprise}) for e in found
    ]
