"""`foliodb macro ...`: economic series as known on a date, derived indicators, regimes."""

from __future__ import annotations

import enum
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from foliodb.cli import common, render
from foliodb.cli.common import DbOption, FormatOption, OutputFormat, handles_errors
from foliodb.services.macro import DEFAULT_WINDOW_YEARS, SeriesImport

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(help="Economic series with vintages, and macro regimes.", no_args_is_help=True)

AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Values as known on this date, YYYY-MM-DD (default: latest)."),
]
StartOption = Annotated[str | None, typer.Option("--start", help="First date, YYYY-MM-DD.")]
EndOption = Annotated[str | None, typer.Option("--end", help="Last date, YYYY-MM-DD.")]


class Indicator(enum.StrEnum):
    TERM_SPREAD = "term-spread"
    REAL_RATE = "real-rate"
    YOY = "yoy"


def _report(results: list[SeriesImport]) -> None:
    for r in results:
        extra = f", {r.updated} updated" if r.updated else ""
        render.console.print(
            f"{r.origin}: {r.code}, {r.observations} observations, {r.added} periods added"
            f"{extra}" + ("" if r.added or r.updated else " (nothing new)"),
            highlight=False,
        )


def _points(series: pd.Series) -> list[dict[str, Any]]:
    import pandas as pd

    return [
        {"date": day.date(), "value": None if math.isnan(value) else float(value)}
        for day, value in zip(pd.DatetimeIndex(series.index), series.to_numpy(), strict=True)
    ]


@app.command("import")
@handles_errors
def import_files(
    files: Annotated[list[Path], typer.Argument(help="FRED or ALFRED CSV files.")],
    code: Annotated[
        str | None,
        typer.Option("--code", help="The series of a file whose columns do not name it."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Series title.")] = None,
    frequency: Annotated[
        str | None,
        typer.Option("--frequency", help="D, W, BW, M, Q, SA or A (default: from dates)."),
    ] = None,
    units: Annotated[str | None, typer.Option("--units", help="Units, e.g. Percent.")] = None,
    seasonal_adjustment: Annotated[
        str | None, typer.Option("--seasonal-adjustment", help="e.g. SA, NSA, SAAR.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="Who publishes it.")] = None,
    known_since: Annotated[
        str | None,
        typer.Option(
            "--known-since",
            help="For files without vintages: the date their values were known "
            "(their realtime_start). Default today (UTC).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Import FRED downloads and ALFRED vintage files, atomically; re-importing adds nothing."""
    with common.open_db(db) as database:
        _report(
            database.macro.import_files(
                files,
                code=code,
                title=title,
                frequency=frequency,
                units=units,
                seasonal_adjustment=seasonal_adjustment,
                source=source,
                known_since=common.parse_date(known_since, "--known-since"),
            )
        )


@app.command("fetch")
@handles_errors
def fetch(
    codes: Annotated[list[str], typer.Argument(help="FRED series ids, e.g. GDPC1 CPIAUCSL.")],
    start: StartOption = None,
    end: EndOption = None,
    vintages: Annotated[
        bool, typer.Option("--vintages", help="Every vintage (ALFRED), not only today's values.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Fetch series from the FRED API (key in FOLIODB_FRED_API_KEY) and store them."""
    first, last = common.parse_date(start, "--start"), common.parse_date(end, "--end")
    with common.open_db(db) as database:
        _report(database.macro.fetch(codes, start=first, end=last, vintages=vintages))


@app.command("list")
@handles_errors
def list_series(db: DbOption = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Stored series with their dates and vintages."""
    with common.open_db(db) as database:
        series = database.macro.list_series()
    render.emit(
        series,
        fmt.value,
        title="Economic series",
        columns=None
        if fmt is not OutputFormat.TABLE
        else [
            "code",
            "title",
            "frequency",
            "units",
            "dates",
            "vintages",
            "first_date",
            "last_date",
        ],
    )


@app.command("series")
@handles_errors
def series(
    code: str,
    as_of: AsOfOption = None,
    start: StartOption = None,
    end: EndOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """A series' values as known on a date (each date's vintage current then)."""
    day = common.parse_date(as_of, "--as-of")
    first, last = common.parse_date(start, "--start"), common.parse_date(end, "--end")
    with common.open_db(db) as database:
        values = database.macro.series(code, as_of=day, start=first, end=last)
    title = f"{values.name} as known on {day}" if day else f"{values.name} (latest)"
    render.emit(_points(values), fmt.value, title=title, columns=["date", "value"])


@app.command("indicator")
@handles_errors
def indicator(
    name: Annotated[Indicator, typer.Argument(help="term-spread, real-rate or yoy.")],
    code: Annotated[str | None, typer.Argument(help="The series, for yoy.")] = None,
    as_of: AsOfOption = None,
    start: StartOption = None,
    end: EndOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Term spread, real rate or a series' year-over-year change, as known on --as-of.

    term-spread: DGS10 - DGS2 on each day both have a value. real-rate: DGS10 at each month's
    last observation minus CPIAUCSL's year-over-year inflation of that month. yoy CODE: the
    series' year-over-year change in percent (12 months, 4 quarters, 52 weeks...).
    """
    day = common.parse_date(as_of, "--as-of")
    first, last = common.parse_date(start, "--start"), common.parse_date(end, "--end")
    with common.open_db(db) as database:
        values = database.macro.indicator(name.value, code, as_of=day, start=first, end=last)
    when = f"as known on {day}" if day else "(latest)"
    render.emit(
        _points(values), fmt.value, title=f"{values.name} {when}", columns=["date", "value"]
    )


@app.command("regime")
@handles_errors
def regime(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Data as known on this date (default today).")
    ] = None,
    window: Annotated[
        int, typer.Option("--window", help="z-score window in years.", min=1, max=100)
    ] = DEFAULT_WINDOW_YEARS,
    growth: Annotated[
        str | None, typer.Option("--growth", help="Growth series (default GDPC1, else INDPRO).")
    ] = None,
    inflation: Annotated[
        str | None, typer.Option("--inflation", help="Inflation series (default CPIAUCSL).")
    ] = None,
    last: Annotated[
        int, typer.Option("--last", help="Show the last N months (0: all).", min=0)
    ] = 12,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Macro regime of each month from growth and inflation z-scores; stored and shown.

    GOLDILOCKS (growth up, inflation down), REFLATION (both up), STAGFLATION (growth down,
    inflation up), DEFLATION (both down), from year-over-year changes z-scored over --window
    years of what was known on --as-of (docs/macro.md).
    """
    day = common.parse_date(as_of, "--as-of")
    with common.open_db(db) as database:
        table = database.macro.regimes(day, window=window, growth=growth, inflation=inflation)
    rows = [
        {"month": month.date(), **{k: row[k] for k in _REGIME_COLUMNS}}
        for month, row in zip(table.index, table.to_dict("records"), strict=True)
    ]
    render.emit(
        rows[-last:] if last else rows,
        fmt.value,
        title=f"Regimes {table.attrs['method']} as known on {table.attrs['as_of']}",
        columns=["month", *_REGIME_COLUMNS],
    )


_REGIME_COLUMNS = ("regime", "confidence", "growth", "inflation", "growth_z", "inflation_z")
