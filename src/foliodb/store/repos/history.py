"""Repositories of the derived time series: daily values and external cash flows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from foliodb.domain.types import FxRate, PackStatus
from foliodb.store import bulk
from foliodb.store.tables import (
    PackFxRateRow,
    PackPriceRow,
    PortfolioCashFlowRow,
    PortfolioDailyValueRow,
    PricingPackRow,
)


def sealed_pack_ids_by_date(session: Session, since: dt.date | None = None) -> dict[dt.date, str]:
    """The pack each date is valued at: its newest sealed restatement."""
    stmt = select(PricingPackRow.date, PricingPackRow.pack_id).where(
        PricingPackRow.status == PackStatus.COMPLETE.value
    )
    if since is not None:
        stmt = stmt.where(PricingPackRow.date >= since)
    newest: dict[dt.date, str] = {}
    for date, pack_id in session.execute(
        stmt.order_by(PricingPackRow.date, PricingPackRow.revision)
    ):
        newest[date] = pack_id
    return newest


def last_history_date(session: Session, portfolio_id: int) -> dt.date | None:
    stmt = select(func.max(PortfolioDailyValueRow.date)).where(
        PortfolioDailyValueRow.portfolio_id == portfolio_id
    )
    return session.scalar(stmt)


def history_row(
    session: Session, portfolio_id: int, date: dt.date
) -> PortfolioDailyValueRow | None:
    return session.get(PortfolioDailyValueRow, (portfolio_id, date))


def invalidate_history(session: Session, portfolio_id: int | None, since: dt.date) -> None:
    """Forget daily values and flows from `since` on (of every portfolio when None)."""
    for row_class, column in (
        (PortfolioDailyValueRow, PortfolioDailyValueRow.date),
        (PortfolioCashFlowRow, PortfolioCashFlowRow.value_date),
    ):
        stmt = delete(row_class).where(column >= since)
        if portfolio_id is not None:
            stmt = stmt.where(row_class.portfolio_id == portfolio_id)
        session.execute(stmt)


def add_history(
    session: Session, values: Sequence[dict[str, Any]], flows: Sequence[dict[str, Any]]
) -> None:
    bulk.insert_rows(session, PortfolioDailyValueRow, values)
    bulk.insert_rows(session, PortfolioCashFlowRow, flows)


def load_history(session: Session, portfolio_id: int) -> list[Any]:
    """Plain rows (attribute access by column name), oldest first; they outlive the session."""
    table = PortfolioDailyValueRow.__table__
    stmt = select(table).where(table.c.portfolio_id == portfolio_id).order_by(table.c.date)
    return list(session.execute(stmt).all())


def pack_quotes(
    session: Session, pack_ids: Sequence[str], symbol: str
) -> tuple[dict[str, tuple[Any, str]], dict[str, list[FxRate]]]:
    """One security's (price, currency) in each pack that has it, and each pack's FX rates."""
    prices = {
        pack_id: (price, currency)
        for pack_id, price, currency in session.execute(
            select(PackPriceRow.pack_id, PackPriceRow.price, PackPriceRow.currency).where(
                PackPriceRow.symbol == symbol, PackPriceRow.pack_id.in_(pack_ids)
            )
        )
    }
    rates: dict[str, list[FxRate]] = {}
    for r in session.scalars(select(PackFxRateRow).where(PackFxRateRow.pack_id.in_(pack_ids))):
        rates.setdefault(r.pack_id, []).append(FxRate(r.base, r.quote, r.rate, r.rate_date))
    return prices, rates
