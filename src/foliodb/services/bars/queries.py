"""Reading bars back: one symbol's bars over a span as a DataFrame, and its newest bar."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine

from foliodb.errors import InputError, InputProblem
from foliodb.store.repos import bars as store
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:  # pandas loads when bars are returned, not at start-up
    import pandas as pd

_FAR = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class Bar:
    symbol: str
    interval: str
    ts: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float | None
    trades: int | None
    source: str


def query(
    engine: Engine,
    symbol: str,
    interval: str,
    start: dt.date | dt.datetime | str | None = None,
    end: dt.date | dt.datetime | str | None = None,
) -> pd.DataFrame:
    """Bars of one symbol and interval as a DataFrame: `Bars.query`, which says how."""
    import pandas as pd

    from foliodb.ingest import bars as ingest

    interval = ingest.parse_interval(interval)
    lo = _instant(start, "start") if start is not None else store.to_datetime(0)
    hi = _instant(end, "end", end_of_day=True) if end is not None else _FAR
    if hi <= lo:
        raise InputError(
            InputProblem("is before start", field="end", value=str(end), expected="a later end")
        )
    with UnitOfWork(engine) as uow:
        rows = store.bars_between(uow.session, _symbol(symbol), interval, lo, hi)
    ts, *values = zip(*rows, strict=True) if rows else [()] * 9
    data: dict[str, Any] = {
        name: np.array([np.nan if v is None else v for v in column], dtype=np.float64)
        for name, column in zip(store.VALUE_COLUMNS[:6], values[:6], strict=True)
    }
    data["trades"] = pd.array(list(values[6]), dtype="Int64")
    data["source"] = pd.array(list(values[7]), dtype=str)
    index = pd.DatetimeIndex(pd.to_datetime(list(ts), utc=True), name="ts")
    return pd.DataFrame(data, index=index)


def latest(engine: Engine, symbol: str, interval: str) -> Bar | None:
    """The newest bar of a symbol and interval, or None."""
    from foliodb.ingest import bars as ingest

    interval = ingest.parse_interval(interval)
    symbol = _symbol(symbol)
    with UnitOfWork(engine) as uow:
        row = store.latest_bar(uow.session, symbol, interval)
    if row is None:
        return None
    ts, o, h, lo, c, v, vwap, trades, source = row
    return Bar(symbol, interval, ts, o, h, lo, c, v, vwap, trades, source)


def _symbol(symbol: str) -> str:
    value = symbol.strip().upper()
    if not value:
        raise InputError(InputProblem("is required", field="symbol", expected="a symbol"))
    return value


def _instant(
    value: dt.date | dt.datetime | str, field: str, end_of_day: bool = False
) -> dt.datetime:
    """A datetime (naive = UTC) as given, or a date's 00:00 UTC (with end_of_day: the next
    day's, so the whole day is included). The result is the exclusive end for `end`."""
    when: dt.date | dt.datetime
    if isinstance(value, str):
        try:
            when = (
                dt.date.fromisoformat(value)
                if len(value.strip()) == 10
                else dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            )
        except ValueError:
            raise InputError(
                InputProblem(
                    "is not a date or time", field=field, value=value,
                    expected="YYYY-MM-DD or an ISO 8601 time",
                )
            ) from None  # fmt: skip
    else:
        when = value
    if isinstance(when, dt.datetime):
        instant = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        return instant.astimezone(dt.UTC) + (
            dt.timedelta(microseconds=1) if end_of_day else dt.timedelta()
        )
    day = dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC)
    return day + dt.timedelta(days=1) if end_of_day else day
