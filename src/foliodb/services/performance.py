"""Performance of a portfolio from its daily history: the period table (time-weighted),
the money-weighted return since inception, and the risk metrics of the daily returns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from foliodb.analytics import metrics, mwr, returns
from foliodb.errors import NotFoundError
from foliodb.services import history

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class Performance:
    """`periods`: one row per period (start, end, total_return, years, annualised);
    `metrics`: every metric of the daily time-weighted returns (252 periods a year);
    `money_weighted_return`: XIRR since inception (ACT/365F, annual)."""

    portfolio: str
    base_currency: str
    as_of: dt.date
    periods: pd.DataFrame
    metrics: pd.Series
    money_weighted_return: float


def performance(
    engine: Engine, portfolio: str, owner: str | None = None, as_of: dt.date | None = None
) -> Performance:
    import pandas as pd

    days = history.daily_history(engine, portfolio, owner)
    if as_of is not None:
        kept = tuple(d for d in days.days if d.date <= as_of)
        days = dataclasses.replace(days, days=kept)
    if not days.days:
        raise NotFoundError(f"{portfolio} has no valued day yet: create a pricing pack")
    index = pd.DatetimeIndex([d.date for d in days.days])
    daily = pd.Series([d.daily_return for d in days.days], index=index, name=portfolio)
    end = days.days[-1].date
    periods = returns.period_returns(daily, end)
    table: Any = metrics.summary(daily.fillna(0.0))[portfolio]
    flows = [(d.date, float(d.external_flows)) for d in days.days if d.external_flows != 0]
    first = days.days[0].date - dt.timedelta(days=1)
    try:
        irr = mwr.money_weighted_return(
            0.0,
            float(days.days[-1].nav),
            [f[0] for f in flows],
            [f[1] for f in flows],
            first,
            end,
            outflows_at="end",
        )
    except ValueError:
        irr = math.nan  # no money in, or no sign change: no internal rate
    return Performance(portfolio, days.base_currency, end, periods, table, irr)
