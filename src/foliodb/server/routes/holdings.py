"""What a portfolio holds: valuation (holdings) at a sealed pack, open lots, realized gains."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from foliodb.errors import InputError, InputProblem
from foliodb.server.deps import ReadablePortfolio, State
from foliodb.server.schemas.common import NAME_PATTERN, problems
from foliodb.server.schemas.ledger import LotPublic, RealizedGainPublic
from foliodb.server.schemas.valuation import ValuationPublic

router = APIRouter(tags=["holdings"])
READ = problems(401, 404, 422)
PackQuery = Annotated[
    str | None,
    Query(max_length=32, pattern=NAME_PATTERN, description="A pack id, e.g. PP_2025-06-30"),
]
DateQuery = Annotated[
    dt.date | None, Query(description="The newest sealed pack dated on or before this date")
]


def _valuation(
    portfolio: ReadablePortfolio, state: State, pack: str | None, date: dt.date | None
) -> ValuationPublic:
    if pack is not None and date is not None:
        raise InputError(InputProblem("give pack or date, not both", field="date"))
    result = state.database.valuation(portfolio.name, pack, date, owner=portfolio.owner)
    return ValuationPublic.of(result)


@router.get("/portfolios/{portfolio_id}/valuation", response_model=ValuationPublic, responses=READ)
def valuation(
    portfolio: ReadablePortfolio, state: State, pack: PackQuery = None, date: DateQuery = None
) -> ValuationPublic:
    """The portfolio valued at a sealed pricing pack (default: the newest): totals in its
    base currency, positions and cash."""
    return _valuation(portfolio, state, pack, date)


@router.get("/portfolios/{portfolio_id}/holdings", response_model=ValuationPublic, responses=READ)
def holdings(
    portfolio: ReadablePortfolio, state: State, pack: PackQuery = None, date: DateQuery = None
) -> ValuationPublic:
    """The same document as /valuation (the CLI's `holdings`)."""
    return _valuation(portfolio, state, pack, date)


@router.get("/portfolios/{portfolio_id}/lots", response_model=list[LotPublic], responses=READ)
def lots(portfolio: ReadablePortfolio, state: State) -> list[LotPublic]:
    """Open tax lots."""
    result = state.database.lots(portfolio.name, owner=portfolio.owner)
    return [LotPublic.model_validate(lot) for lot in result.lots]


@router.get(
    "/portfolios/{portfolio_id}/realized-gains",
    response_model=list[RealizedGainPublic],
    responses=READ,
)
def realized_gains(
    portfolio: ReadablePortfolio,
    state: State,
    year: Annotated[int | None, Query(ge=1, le=9999)] = None,
) -> list[RealizedGainPublic]:
    """Realized gains per closed lot slice (of one year, by disposal date)."""
    result = state.database.realized_gains(portfolio.name, year, owner=portfolio.owner)
    return [RealizedGainPublic.model_validate(g) for g in result.gains]
