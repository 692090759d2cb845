"""How a portfolio performed: the period table and metrics, daily values (NAV), currency
attribution, and the HTML report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from foliodb.errors import InputError, InputProblem
from foliodb.server.deps import ReadablePortfolio, State
from foliodb.server.schemas.common import NAME_PATTERN, problems
from foliodb.server.schemas.performance import (
    AttributionPublic,
    DailyValuePublic,
    PerformancePublic,
)

router = APIRouter(tags=["performance"])
READ = problems(401, 404, 422)
Benchmark = Annotated[
    str | None,
    Query(max_length=64, pattern=NAME_PATTERN, description="A security to compare with"),
]


def _number(value: Any) -> Any:
    """NaN (not defined) as null; pandas timestamps as dates."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.date() if value == value else None
    return value


@router.get(
    "/portfolios/{portfolio_id}/performance", response_model=PerformancePublic, responses=READ
)
def performance(
    portfolio: ReadablePortfolio,
    state: State,
    benchmark: Benchmark = None,
    start: Annotated[dt.date | None, Query(description="Adds a CUSTOM period")] = None,
    end: Annotated[dt.date | None, Query(description="Last date (default: last valued)")] = None,
) -> PerformancePublic:
    """Time-weighted period returns, the money-weighted return and risk metrics (the CLI's
    `perf --format json`); with a benchmark also its return in each period."""
    try:
        result = state.database.performance(portfolio.name, portfolio.owner, end, benchmark, start)
    except ValueError as exc:
        if start is None or isinstance(exc, InputError):
            raise
        # The CUSTOM period refuses a start outside the history with a ValueError
        # (analytics.returns.custom_period); it is the request's `start` that is wrong.
        raise InputError(InputProblem(str(exc), field="start", value=start.isoformat())) from None
    periods = [
        {"period": name, **{k: _number(v) for k, v in row.items()}}
        for name, row in result.periods.iterrows()
    ]
    if result.benchmark_periods is not None:
        totals = result.benchmark_periods["total_return"].to_dict()
        for row in periods:
            row["benchmark_return"] = _number(totals.get(row["period"], math.nan))
    metrics = [{"metric": k, "value": _number(float(v))} for k, v in result.metrics.items()]
    metrics.append(
        {"metric": "money_weighted_return", "value": _number(result.money_weighted_return)}
    )
    metrics.append({"metric": "modified_dietz", "value": _number(result.modified_dietz)})
    return PerformancePublic.model_validate(
        {
            "portfolio": portfolio.name,
            "as_of": result.as_of,
            "base_currency": result.base_currency,
            "benchmark": result.benchmark,
            "periods": periods,
            "metrics": metrics,
        }
    )


@router.get("/portfolios/{portfolio_id}/nav", response_model=list[DailyValuePublic], responses=READ)
def nav(portfolio: ReadablePortfolio, state: State) -> list[DailyValuePublic]:
    """Daily values at every sealed pack date: NAV, cash, flows, P&L, time-weighted return
    (null on a day without capital)."""
    history = state.database.daily_values(portfolio.name, portfolio.owner)
    return [
        DailyValuePublic.model_validate({k: _number(v) for k, v in dataclasses.asdict(day).items()})
        for day in history.days
    ]


@router.get(
    "/portfolios/{portfolio_id}/attribution", response_model=AttributionPublic, responses=READ
)
def attribution(
    portfolio: ReadablePortfolio,
    state: State,
    start: Annotated[dt.date, Query(description="First date")],
    end: Annotated[dt.date, Query(description="Last date")],
) -> AttributionPublic:
    """Currency attribution of a period: local return, FX return and their interaction."""
    result = state.database.attribution(portfolio.name, start, end, portfolio.owner)
    totals = {k: _number(v) for k, v in dataclasses.asdict(result).items() if k != "currencies"}
    currencies = [
        {k: _number(v) for k, v in dataclasses.asdict(c).items()} | {"total": _number(c.total)}
        for c in result.currencies
    ]
    return AttributionPublic.model_validate(totals | {"currencies": currencies})


@router.get(
    "/portfolios/{portfolio_id}/report",
    response_class=HTMLResponse,
    responses={**READ, 200: {"content": {"text/html": {}}, "description": "The tearsheet"}},
)
def report(portfolio: ReadablePortfolio, state: State, benchmark: Benchmark = None) -> HTMLResponse:
    """A self-contained HTML tearsheet (opens offline)."""
    with tempfile.TemporaryDirectory(prefix="foliodb-report-") as folder:
        written = state.database.report(
            portfolio.name, Path(folder) / "report.html", portfolio.owner, benchmark
        )
        page = written.read_text(encoding="utf-8")
    filename = f"report-{portfolio.id}.html"
    return HTMLResponse(page, headers={"Content-Disposition": f'inline; filename="{filename}"'})
