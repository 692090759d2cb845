"""Repositories of news articles (with their symbols) and economic calendar events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from foliodb.store import bulk
from foliodb.store.tables_news import EconomicEventRow, NewsArticleRow, NewsSymbolRow

#: Values bound per IN (...) list: far below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500

EventKey = tuple[dt.datetime, str, str]


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


# --- articles -----------------------------------------------------------------------------------
def article_ids(session: Session, urls: Sequence[str]) -> dict[str, int]:
    """The id of each of `urls` already stored."""
    found: dict[str, int] = {}
    for chunk in _chunks(urls):
        stmt = select(NewsArticleRow.url, NewsArticleRow.id).where(NewsArticleRow.url.in_(chunk))
        for url, article_id in session.execute(stmt):
            found[url] = article_id
    return found


def add_articles(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert articles (dicts of news_articles columns without id); returns their ids by URL."""
    bulk.insert_rows(session, NewsArticleRow, rows)
    return article_ids(session, [row["url"] for row in rows])


def symbols_of(session: Session, ids: Sequence[int]) -> dict[int, set[str]]:
    """The symbols each stored article is tagged with (articles without any are left out)."""
    found: dict[int, set[str]] = {}
    for chunk in _chunks(ids):
        stmt = select(NewsSymbolRow.article_id, NewsSymbolRow.symbol).where(
            NewsSymbolRow.article_id.in_(chunk)
        )
        for article_id, symbol in session.execute(stmt):
            found.setdefault(article_id, set()).add(symbol)
    return found


def add_symbols(session: Session, pairs: Sequence[tuple[int, str]]) -> None:
    """Tag articles with symbols; every (article_id, symbol) pair must be new."""
    rows = [{"article_id": article_id, "symbol": symbol} for article_id, symbol in pairs]
    bulk.insert_rows(session, NewsSymbolRow, rows)


def list_articles(
    session: Session,
    *,
    symbol: str | None = None,
    since: dt.datetime | None = None,
    before: dt.datetime | None = None,
    source: str | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[tuple[NewsArticleRow, tuple[str, ...]]]:
    """Articles published in [since, before), newest first, each with its symbols (sorted).
    `source` matches whole and `search` part of the title, both ignoring case."""
    stmt = select(NewsArticleRow)
    if symbol is not None:
        tagged = select(NewsSymbolRow.article_id).where(NewsSymbolRow.symbol == symbol)
        stmt = stmt.where(NewsArticleRow.id.in_(tagged))
    if since is not None:
        stmt = stmt.where(NewsArticleRow.published_at >= since)
    if before is not None:
        stmt = stmt.where(NewsArticleRow.published_at < before)
    if source is not None:
        # lower() on both sides: SQLite's folds ASCII only, and Python's must not differ from it.
        stmt = stmt.where(func.lower(NewsArticleRow.source) == func.lower(source))
    if search is not None:
        stmt = stmt.where(NewsArticleRow.title.icontains(search, autoescape=True))
    stmt = stmt.order_by(NewsArticleRow.published_at.desc(), NewsArticleRow.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list(session.scalars(stmt))
    symbols = symbols_of(session, [row.id for row in rows])
    return [(row, tuple(sorted(symbols.get(row.id, ())))) for row in rows]


# --- economic events ----------------------------------------------------------------------------
def events_by_key(session: Session, keys: Sequence[EventKey]) -> dict[EventKey, EconomicEventRow]:
    """The stored events among `keys`, read once over the keys' time range."""
    if not keys:
        return {}
    wanted = set(keys)
    stmt = select(EconomicEventRow).where(
        EconomicEventRow.ts >= min(k[0] for k in keys),
        EconomicEventRow.ts <= max(k[0] for k in keys),
    )
    found = {(row.ts, row.name, row.country): row for row in session.scalars(stmt)}
    return {key: row for key, row in found.items() if key in wanted}


def add_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert events (dicts of economic_events columns without id, all with the same keys)."""
    bulk.insert_rows(session, EconomicEventRow, rows)


def update_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Replace the values of stored events; each dict carries the row's `id`."""
    if rows:
        session.execute(update(EconomicEventRow), list(rows))


def list_events(
    session: Session,
    *,
    since: dt.datetime | None = None,
    before: dt.datetime | None = None,
    country: str | None = None,
    currency: str | None = None,
    min_impact: int | None = None,
    name: str | None = None,
    limit: int | None = None,
) -> list[EconomicEventRow]:
    """Events in [since, before) in time order; `name` matches part of it, ignoring case."""
    stmt = select(EconomicEventRow)
    if country is not None:
        stmt = stmt.where(EconomicEventRow.country == country)
    if currency is not None:
        stmt = stmt.where(EconomicEventRow.currency == currency)
    if min_impact is not None:
        stmt = stmt.where(EconomicEventRow.impact >= min_impact)
    if name is not None:
        stmt = stmt.where(EconomicEventRow.name.icontains(name, autoescape=True))
    if since is not None:
        stmt = stmt.where(EconomicEventRow.ts >= since)
    if before is not None:
        stmt = stmt.where(EconomicEventRow.ts < before)
    stmt = stmt.order_by(EconomicEventRow.ts, EconomicEventRow.country, EconomicEventRow.name)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
