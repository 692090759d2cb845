"""Repositories of the computed-figures cache and its counters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from foliodb.store.base import utcnow
from foliodb.store.tables import CacheCounterRow, CurrencyAttributionRow, PortfolioMetricRow

#: Metric-name prefix of the figures the batch (many portfolios at once) caches.
BATCH_SCOPE = "batch:"

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
    scope: str = "",
) -> None:
    """Replace the portfolio's cached figures of one scope (older fingerprints can never hit
    again). A scope is a prefix of the metric names, such as ``batch:``; the default scope
    holds every other name."""
    stale = delete(PortfolioMetricRow).where(PortfolioMetricRow.portfolio_id == portfolio_id)
    if scope:
        stale = stale.where(PortfolioMetricRow.metric.startswith(scope, autoescape=True))
    else:
        stale = stale.where(~PortfolioMetricRow.metric.startswith(BATCH_SCOPE, autoescape=True))
    session.execute(stale)
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


def cached_attribution(
    session: Session, portfolio_id: int, start_pack_id: str, end_pack_id: str, fingerprint: str
) -> list[CurrencyAttributionRow]:
    """The cached rows of one period (overall row ``*`` included), or [] on a miss."""
    stmt = select(CurrencyAttributionRow).where(
        CurrencyAttributionRow.portfolio_id == portfolio_id,
        CurrencyAttributionRow.start_pack_id == start_pack_id,
        CurrencyAttributionRow.end_pack_id == end_pack_id,
        CurrencyAttributionRow.fingerprint == fingerprint,
    )
    return list(session.scalars(stmt.order_by(CurrencyAttributionRow.currency)))


def store_attribution(
    session: Session,
    portfolio_id: int,
    start_pack_id: str,
    end_pack_id: str,
    rows: list[CurrencyAttributionRow],
) -> None:
    """Replace one period's cached rows, and drop the portfolio's rows of other fingerprints
    (computed from a ledger or packs that have changed since: they can never hit again)."""
    fingerprints = {row.fingerprint for row in rows}
    session.execute(
        delete(CurrencyAttributionRow).where(
            CurrencyAttributionRow.portfolio_id == portfolio_id,
            or_(
                CurrencyAttributionRow.fingerprint.not_in(fingerprints),
                (CurrencyAttributionRow.start_pack_id == start_pack_id)
                & (CurrencyAttributionRow.end_pack_id == end_pack_id),
            ),
        )
    )
    session.add_all(rows)
