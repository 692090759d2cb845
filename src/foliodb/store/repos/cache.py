"""Repositories of the computed-figures cache and its counters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from foliodb.store.base import utcnow
from foliodb.store.tables import CacheCounterRow, PortfolioMetricRow

Figures = Mapping[tuple[str, str], float | None]


def cached_figures(
    session: Session, portfolio_id: int, pack_id: str, fingerprint: str
) -> dict[tuple[str, str], float | None]:
    """The figures stored under this key that have not expired (empty: a miss)."""
    stmt = select(PortfolioMetricRow.metric, PortfolioMetricRow.period, PortfolioMetricRow.value)
    stmt = stmt.where(
        PortfolioMetricRow.portfolio_id == portfolio_id,
        PortfolioMetricRow.pack_id == pack_id,
        PortfolioMetricRow.fingerprint == fingerprint,
        or_(PortfolioMetricRow.expires_at.is_(None), PortfolioMetricRow.expires_at > utcnow()),
    )
    return {(metric, period): value for metric, period, value in session.execute(stmt)}


def store_figures(
    session: Session,
    portfolio_id: int,
    pack_id: str,
    fingerprint: str,
    figures: Figures,
    ttl: dt.timedelta | None,
) -> None:
    """Replace the portfolio's cached figures (older fingerprints can never hit again)."""
    session.execute(
        delete(PortfolioMetricRow).where(PortfolioMetricRow.portfolio_id == portfolio_id)
    )
    now = utcnow()
    session.add_all(
        PortfolioMetricRow(
            portfolio_id=portfolio_id,
            pack_id=pack_id,
            metric=metric,
            period=period,
            fingerprint=fingerprint,
            value=value,
            computed_at=now,
            expires_at=None if ttl is None else now + ttl,
        )
        for (metric, period), value in figures.items()
    )


def count(session: Session, cache: str, hit: bool) -> None:
    row = session.get(CacheCounterRow, cache)
    if row is None:
        session.add(CacheCounterRow(cache=cache, hits=int(hit), misses=int(not hit)))
        session.flush()
        return
    column = CacheCounterRow.hits if hit else CacheCounterRow.misses
    session.execute(
        update(CacheCounterRow).where(CacheCounterRow.cache == cache).values({column: column + 1})
    )


def counters(session: Session) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(CacheCounterRow.cache, CacheCounterRow.hits, CacheCounterRow.misses)
    )
    return {cache: (hits, misses) for cache, hits, misses in rows}
