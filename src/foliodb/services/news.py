"""News articles and economic calendar events: deduplicated imports and queries (docs/news.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String

from foliodb.errors import InputError, InputProblem
from foliodb.ingest import news as news_files
from foliodb.ingest.news import Article, EconomicEvent
from foliodb.services import widths
from foliodb.services.retry import rerun_on_conflict
from foliodb.store import repos
from foliodb.store.base import Base
from foliodb.store.repos import news as news_repo
from foliodb.store.tables_news import EconomicEventRow, NewsArticleRow
from foliodb.store.uow import UnitOfWork

__all__ = ["Article", "EconomicEvent", "News", "NewsImportResult"]

log = logging.getLogger(__name__)

PathLike = str | Path
#: A query bound: a date (a whole UTC day), an instant (naive = UTC) or ISO text of either.
Bound = dt.date | dt.datetime | str | None

_EVENT_FIELDS = ("currency", "impact", "actual", "forecast", "previous")
_FIGURES = ("actual", "forecast", "previous")


def _widths(row_class: type[Base], *columns: str) -> Mapping[str, int]:
    found: dict[str, int] = {}
    for name in columns:
        kind = row_class.__table__.c[name].type
        assert isinstance(kind, String) and kind.length is not None
        found[name] = kind.length
    return found


ARTICLE_WIDTHS = _widths(NewsArticleRow, "url", "title", "source", "author")
EVENT_WIDTHS = _widths(EconomicEventRow, "name", "actual", "forecast", "previous")


@dataclasses.dataclass(frozen=True)
class NewsImportResult:
    """What one import of articles or events did. Counts are of distinct articles (URLs) or
    events ((ts, name, country)); `rows` counts the records read, repeats included.
    An article is `updated` when it gains symbols (`symbols_added` of them); an event when
    a value it had changes or a missing one is filled."""

    files: tuple[str, ...]
    kind: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    symbols_added: int = 0


# --- arguments ----------------------------------------------------------------------------------
def _paths(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    listed = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not listed:
        raise InputError(InputProblem("no files given", expected="one or more files"))
    return listed


def _point(value: dt.date | dt.datetime | str, field: str) -> dt.date | dt.datetime:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return _instant(value)
    except ValueError:
        raise InputError(
            InputProblem(
                "is not a date or a date and time",
                field=field,
                value=value,
                expected="YYYY-MM-DD or ISO 8601 such as 2024-05-01T14:30:00Z",
            )
        ) from None


def _instant(value: str | dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        return news_files.parse_instant(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _range(start: Bound, end: Bound) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[since, before): a date `start` from its midnight UTC, a date `end` through its last
    instant; date-times exactly, both ends included."""
    since = before = None
    if start is not None:
        first = _point(start, "start")
        since = (
            _instant(first)
            if isinstance(first, dt.datetime)
            else dt.datetime.combine(first, dt.time(0), dt.UTC)
        )
    if end is not None:
        last = _point(end, "end")
        before = (
            _instant(last) + dt.timedelta(microseconds=1)
            if isinstance(last, dt.datetime)
            else dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), dt.UTC)
        )
    if since is not None and before is not None and before <= since:
        raise InputError(
            InputProblem("is before start", field="end", value=str(end), expected="end >= start")
        )
    return since, before


def _limit(limit: int | None) -> int | None:
    if limit is not None and limit < 0:
        raise InputError(
            InputProblem("is negative", field="limit", value=str(limit), expected=">= 0")
        )
    return limit


# --- articles -----------------------------------------------------------------------------------
def _article_row(article: Article) -> dict[str, Any]:
    return {
        "url": article.url,
        "title": article.title,
        "source": article.source,
        "author": article.author,
        "published_at": article.published_at,
        "summary": article.summary,
    }


@rerun_on_conflict
def import_articles(
    engine: Engine, paths: Sequence[Path], source: str | None = None
) -> NewsImportResult:
    """Import articles from every file, all or nothing. An article is stored once per URL:
    the first version seen is kept, and later ones only add symbols it lacks."""
    started = time.perf_counter()
    if too_long := widths.too_wide({"source": source}, {"source": ARTICLE_WIDTHS["source"]}):
        raise InputError(too_long)  # before reading: every record without a source has it
    problems: list[InputProblem] = []
    articles: dict[str, Article] = {}  # the first version of each URL
    symbols: dict[str, dict[str, None]] = {}  # every symbol of each URL (an ordered set)
    rows = 0
    for path in paths:
        found: list[InputProblem] = []
        try:
            parsed = news_files.parse_articles(path, source, collect=found)
        except InputError as exc:  # a file read no further (not JSON, bad header): go on
            problems += exc.problems
            continue
        for item in parsed:
            article = item.value
            text = {f: getattr(article, f) for f in ARTICLE_WIDTHS}
            found += widths.too_wide(text, ARTICLE_WIDTHS, str(path), item.line)
            rows += 1
            articles.setdefault(article.url, article)
            symbols.setdefault(article.url, {}).update(dict.fromkeys(article.symbols))
        problems += sorted(found, key=lambda p: p.line or 0)
    if problems:
        raise InputError(problems)
    with UnitOfWork(engine) as uow:
        session = uow.session
        ids = news_repo.article_ids(session, list(articles))
        new = [url for url in articles if url not in ids]
        new_ids = news_repo.add_articles(session, [_article_row(articles[url]) for url in new])
        tagged = news_repo.symbols_of(session, [ids[url] for url in articles if url in ids])
        pairs = [(new_ids[url], s) for url in new for s in symbols[url]]
        updated = added_to_stored = 0
        for url in ids.keys() & symbols.keys():
            missing = [s for s in symbols[url] if s not in tagged.get(ids[url], set())]
            pairs += [(ids[url], s) for s in missing]
            updated += bool(missing)
            added_to_stored += len(missing)
        news_repo.add_symbols(session, pairs)
        result = NewsImportResult(
            tuple(str(p) for p in paths),
            "articles",
            rows,
            len(new),
            updated,
            len(articles) - len(new) - updated,
            added_to_stored,
        )
        _audit(uow, "import_news", "news_articles", result)
        uow.commit()
    return _logged(result, started)


def list_articles(
    engine: Engine,
    symbol: str | None = None,
    start: Bound = None,
    end: Bound = None,
    source: str | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[Article]:
    since, before = _range(start, end)
    with UnitOfWork(engine) as uow:
        found = news_repo.list_articles(
            uow.session,
            symbol=symbol.strip().upper() if symbol else None,
            since=since,
            before=before,
            source=source,
            search=search,
            limit=_limit(limit),
        )
        return [
            Article(
                url=row.url,
                title=row.title,
                source=row.source,
                author=row.author,
                published_at=row.published_at,
                summary=row.summary,
                symbols=tags,
            )
            for row, tags in found
        ]


# --- economic events ----------------------------------------------------------------------------
def _key(event: EconomicEvent) -> news_repo.EventKey:
    return (event.ts, event.name, event.country)


def _merge(stored: EconomicEvent | None, later: EconomicEvent) -> EconomicEvent:
    """The update rule: every value the later record gives wins; a value it leaves empty
    keeps what was there (an older calendar never erases a published actual)."""
    if stored is None:
        return later
    changes: dict[str, Any] = {
        name: getattr(later, name) for name in _EVENT_FIELDS if getattr(later, name) is not None
    }
    changes.update(
        {f"{name}_value": getattr(later, f"{name}_value") for name in _FIGURES if name in changes}
    )
    return dataclasses.replace(stored, **changes)


def _event_of(row: EconomicEventRow) -> EconomicEvent:
    return EconomicEvent(
        ts=row.ts,
        name=row.name,
        country=row.country,
        currency=row.currency,
        impact=row.impact,
        actual=row.actual,
        forecast=row.forecast,
        previous=row.previous,
        actual_value=row.actual_value,
        forecast_value=row.forecast_value,
        previous_value=row.previous_value,
    )


@rerun_on_conflict
def import_events(engine: Engine, paths: Sequence[Path]) -> NewsImportResult:
    """Import events from every file, all or nothing. Records apply in order, file after
    file, under the update rule of `_merge`; an event is inserted, updated or unchanged."""
    started = time.perf_counter()
    problems: list[InputProblem] = []
    events: dict[news_repo.EventKey, EconomicEvent] = {}
    rows = 0
    for path in paths:
        found: list[InputProblem] = []
        try:
            parsed = news_files.parse_events(path, collect=found)
        except InputError as exc:  # a file read no further (not JSON, bad header): go on
            problems += exc.problems
            continue
        for item in parsed:
            event = item.value
            values = {"name": event.name} | {f: getattr(event, f) for f in _FIGURES}
            found += widths.too_wide(values, EVENT_WIDTHS, str(path), item.line)
            rows += 1
            events[_key(event)] = _merge(events.get(_key(event)), event)
        problems += sorted(found, key=lambda p: p.line or 0)
    if problems:
        raise InputError(problems)
    with UnitOfWork(engine) as uow:
        stored = news_repo.events_by_key(uow.session, list(events))
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for key, event in events.items():
            row = stored.get(key)
            if row is None:
                new.append(dataclasses.asdict(event))
                continue
            before = _event_of(row)
            after = _merge(before, event)
            if after != before:
                changed.append({"id": row.id, **dataclasses.asdict(after)})
        news_repo.add_events(uow.session, new)
        news_repo.update_events(uow.session, changed)
        result = NewsImportResult(
            tuple(str(p) for p in paths),
            "events",
            rows,
            len(new),
            len(changed),
            len(events) - len(new) - len(changed),
        )
        _audit(uow, "import_events", "economic_events", result)
        uow.commit()
    return _logged(result, started)


def list_events(
    engine: Engine,
    start: Bound = None,
    end: Bound = None,
    country: str | None = None,
    currency: str | None = None,
    min_impact: int | str | None = None,
    name: str | None = None,
    limit: int | None = None,
) -> list[EconomicEvent]:
    since, before = _range(start, end)
    impact: int | None = None
    if min_impact is not None:
        try:
            impact = news_files.parse_impact(str(min_impact))
        except ValueError:
            raise InputError(
                InputProblem(
                    "is not an impact",
                    field="min_impact",
                    value=str(min_impact),
                    expected="1-4, or holiday, low, medium, high",
                )
            ) from None
    with UnitOfWork(engine) as uow:
        rows = news_repo.list_events(
            uow.session,
            since=since,
            before=before,
            country=country.strip().upper() if country else None,
            currency=currency.strip().upper() if currency else None,
            min_impact=impact,
            name=name,
            limit=_limit(limit),
        )
        return [_event_of(row) for row in rows]


# --- both ---------------------------------------------------------------------------------------
def _audit(uow: UnitOfWork, action: str, entity: str, result: NewsImportResult) -> None:
    """One audit entry for an import that changed something (none for a no-op re-import)."""
    if result.inserted or result.updated:
        after = {
            "files": list(result.files),
            "inserted": result.inserted,
            "updated": result.updated,
            "symbols_added": result.symbols_added,
        }
        repos.audit(uow.session, action, entity, Path(result.files[0]).name[:128], after=after)


def _logged(result: NewsImportResult, started: float) -> NewsImportResult:
    log.info(
        "imported %s: %d %s rows, %d inserted, %d updated, %d unchanged, %.2fs",
        ", ".join(result.files),
        result.rows,
        result.kind,
        result.inserted,
        result.updated,
        result.unchanged,
        time.perf_counter() - started,
    )
    return result


class News:
    """`Database.news`: articles by symbol and time, events by time, country and impact."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def import_articles(
        self, paths: PathLike | Sequence[PathLike], source: str | None = None
    ) -> NewsImportResult:
        """Import articles from JSON, JSON Lines or CSV files (docs/news.md), all files or
        nothing; `source` is the default for records without one. Re-importing changes
        nothing but the symbols an article did not have."""
        return import_articles(self.engine, _paths(paths), source)

    def articles(
        self,
        symbol: str | None = None,
        start: Bound = None,
        end: Bound = None,
        source: str | None = None,
        search: str | None = None,
        limit: int | None = None,
    ) -> list[Article]:
        """Articles newest first: about `symbol`, published from `start` to `end` (dates are
        whole UTC days), from `source`, with `search` in the title (both ignoring case)."""
        return list_articles(self.engine, symbol, start, end, source, search, limit)

    def import_events(self, paths: PathLike | Sequence[PathLike]) -> NewsImportResult:
        """Import calendar events from JSON, JSON Lines or CSV files, all files or nothing.
        A known event (same ts, name, country) takes every value a later record gives."""
        return import_events(self.engine, _paths(paths))

    def events(
        self,
        start: Bound = None,
        end: Bound = None,
        country: str | None = None,
        currency: str | None = None,
        min_impact: int | str | None = None,
        name: str | None = None,
        limit: int | None = None,
    ) -> list[EconomicEvent]:
        """Events in time order from `start` to `end` (dates are whole UTC days), of a
        country and currency, at least `min_impact` (1-4 or a word), `name` containing."""
        return list_events(self.engine, start, end, country, currency, min_impact, name, limit)
