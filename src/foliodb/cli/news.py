"""`foliodb news ...` and `foliodb events ...`: import and query articles and events."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from foliodb.cli import common, render
from foliodb.cli.common import DbOption, FormatOption, OutputFormat, handles_errors
from foliodb.services.news import Article, EconomicEvent, NewsImportResult

news_app = typer.Typer(help="News articles: import and query.", no_args_is_help=True)
events_app = typer.Typer(help="Economic calendar events: import and query.", no_args_is_help=True)

FilesArgument = Annotated[
    list[Path], typer.Argument(help="JSON (a list or JSON Lines) or CSV files.", show_default=False)
]
StartOption = Annotated[
    str | None,
    typer.Option("--start", help="From this date (UTC) or ISO 8601 time, included."),
]
EndOption = Annotated[
    str | None,
    typer.Option("--end", help="To this date (UTC, the whole day) or ISO 8601 time, included."),
]
ARTICLE_COLUMNS = ("published_at", "source", "symbols", "title")
EVENT_COLUMNS = (
    "ts",
    "country",
    "currency",
    "impact",
    "name",
    "actual",
    "forecast",
    "previous",
    "surprise",
)


def _report(result: NewsImportResult) -> None:
    extra = f" ({result.symbols_added} symbols added)" if result.symbols_added else ""
    render.console.print(
        f"{', '.join(result.files)}: {result.rows} records; {result.kind}: {result.inserted} "
        f"inserted, {result.updated} updated{extra}, {result.unchanged} unchanged",
        highlight=False,
    )


def _limit(limit: int) -> int | None:
    return limit or None


@news_app.command("import")
@handles_errors
def news_import(
    files: FilesArgument,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Publisher of the records that name none."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Import articles (docs/news.md): one per URL, all files or nothing; re-importing
    changes nothing but adds the symbols an article did not have."""
    with common.open_db(db) as database:
        _report(database.news.import_articles(files, source))


def _article_row(article: Article, fmt: OutputFormat) -> dict[str, Any]:
    row = dataclasses.asdict(article)
    # CSV and the table write symbols as the import reads them; JSON keeps the list.
    row["symbols"] = list(article.symbols) if fmt is OutputFormat.JSON else ";".join(row["symbols"])
    return row


@news_app.command("list")
@handles_errors
def news_list(
    symbol: Annotated[str | None, typer.Option("--symbol", help="About this symbol.")] = None,
    start: StartOption = None,
    end: EndOption = None,
    source: Annotated[
        str | None, typer.Option("--source", help="From this publisher (any case).")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", help="Title contains this text (any case).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest N articles (0: all).", min=0)] = 50,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List articles, newest first."""
    with common.open_db(db) as database:
        found = database.news.articles(symbol, start, end, source, search, _limit(limit))
    render.emit(
        [_article_row(a, fmt) for a in found],
        fmt.value,
        title="News",
        columns=ARTICLE_COLUMNS if fmt is OutputFormat.TABLE else None,
    )


@events_app.command("import")
@handles_errors
def events_import(files: FilesArgument, db: DbOption = None) -> None:
    """Import calendar events (docs/news.md), all files or nothing. A known event (same ts,
    name and country) takes every value a later record gives; empty values erase nothing."""
    with common.open_db(db) as database:
        _report(database.news.import_events(files))


def _event_row(event: EconomicEvent) -> dict[str, Any]:
    return {**dataclasses.asdict(event), "surprise": event.surprise}


@events_app.command("list")
@handles_errors
def events_list(
    start: StartOption = None,
    end: EndOption = None,
    country: Annotated[
        str | None, typer.Option("--country", help="ISO 3166 country code, e.g. US.")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="ISO 4217 currency, e.g. USD.")
    ] = None,
    min_impact: Annotated[
        str | None,
        typer.Option("--min-impact", help="At least this impact: 1-4 or holiday/low/medium/high."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Name contains this text (any case).")
    ] = None,
    limit: Annotated[int, typer.Option(help="First N events (0: all).", min=0)] = 0,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List calendar events in time order, with surprise = actual - forecast."""
    with common.open_db(db) as database:
        found = database.news.events(start, end, country, currency, min_impact, name, _limit(limit))
    render.emit(
        [_event_row(e) for e in found],
        fmt.value,
        title="Economic events",
        columns=EVENT_COLUMNS if fmt is OutputFormat.TABLE else None,
    )
