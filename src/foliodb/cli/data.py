"""`foliodb data ...`: import OHLCV bars, query them, roll-ups, retention."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from foliodb.cli import render
from foliodb.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    SourceOption,
    handles_errors,
    open_db,
)

app = typer.Typer(help="Market data: OHLCV bars, roll-ups, gaps, retention.", no_args_is_help=True)

IntervalOption = Annotated[
    str, typer.Option("--interval", "-i", help="Bar interval: 1m, 5m, 15m, 1h or 1d.")
]


class _RateColumn(ProgressColumn):
    """Rows per second of the running stage."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if not speed else f"{speed:,.0f} rows/s", style="cyan")


@app.command("import-bars")
@handles_errors
def import_bars(
    files: Annotated[list[Path], typer.Argument(help="CSV or Parquet (.parquet) files.")],
    interval: IntervalOption,
    source: SourceOption = None,
    on_conflict: Annotated[
        str,
        typer.Option(
            "--on-conflict",
            help="A stored bar with the same symbol and ts: skip (keep it), update (replace "
            "it), error (refuse the load). Identical bars are always skipped.",
        ),
    ] = "skip",
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="VENDOR_COLUMN=OUR_COLUMN, e.g. --map Date=ts --map Ticker=symbol (repeat); "
            "=- drops a column.",
        ),
    ] = None,
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="The symbol of files without a symbol column.")
    ] = None,
    reject_file: Annotated[
        Path | None,
        typer.Option(
            "--reject-file",
            help="Write invalid rows here (original columns + file,row,rule) and load the "
            "rest; without it any invalid row refuses the whole load.",
        ),
    ] = None,
    no_rollup: Annotated[
        bool, typer.Option("--no-rollup", help="Do not update the coarser roll-up bars.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Bulk-load OHLCV bars (docs/marketdata.md). All rows or none; re-importing adds nothing."""
    with (
        open_db(db) as database,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            console=render.err_console,
            transient=True,
            disable=not render.err_console.is_terminal,
        ) as bar,
    ):
        task = bar.add_task("reading", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            if bar.tasks[task].description != stage:
                bar.reset(task, description=stage, total=total, completed=done)
            else:
                bar.update(task, completed=done, total=total)

        result = database.bars.import_files(
            files,
            interval,
            source=source,
            on_conflict=on_conflict,
            column_map=column_map,
            reject_file=reject_file,
            progress=progress,
            symbol=symbol,
            rollup=not no_rollup,
        )
    render.console.print(
        f"{result.rows_read:,} {result.interval} bars read from {len(result.files)} "
        f"file{'s' if len(result.files) != 1 else ''}: {result.inserted:,} inserted, "
        f"{result.updated:,} updated, {result.skipped:,} already present, "
        f"{result.rejected:,} rejected in {result.seconds:.2f} s "
        f"({result.rows_per_s:,.0f} rows/s)",
        highlight=False,
    )
    for rolled in result.rollups:
        backfill = f" ({rolled.backfilled:,} below the watermark)" if rolled.backfilled else ""
        render.console.print(
            f"roll-up {rolled.interval}: {rolled.buckets:,} buckets{backfill}, "
            f"{rolled.written:,} bars written",
            highlight=False,
        )
    if result.reject_file is not None:
        render.console.print(
            f"rejected rows written to {result.reject_file}"
            if result.rejected
            else f"no rejected rows ({result.reject_file} has the header only)",
            highlight=False,
        )


@app.command("rollup")
@handles_errors
def rollup(
    symbols: Annotated[
        list[str] | None, typer.Argument(help="Symbols (default: every symbol with bars).")
    ] = None,
    interval: Annotated[
        list[str] | None,
        typer.Option("--interval", "-i", help="5m, 15m, 1h or 1d (repeat; default all four)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """(Re)build roll-up bars from the finer loaded bars; vendor bars are never replaced."""
    with open_db(db) as database:
        results = database.bars.rollup(symbols or None, interval or None)
    for rolled in results:
        render.console.print(
            f"roll-up {rolled.interval}: {rolled.buckets:,} buckets, "
            f"{rolled.written:,} bars written",
            highlight=False,
        )


@app.command("bars")
@handles_errors
def bars(
    symbol: str,
    interval: IntervalOption = "1d",
    start: Annotated[
        str | None, typer.Option("--start", help="First day (YYYY-MM-DD) or ISO time (UTC).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last day, included, or ISO time (UTC).")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Bars of one symbol, oldest first; ts is the bar's start in UTC."""
    with open_db(db) as database:
        frame = database.bars.query(symbol, interval, start, end)
    columns = ["open", "high", "low", "close", "volume", "vwap", "trades", "source"]
    records: list[dict[Any, Any]] = frame.reset_index().to_dict("records")
    rows = [
        {"ts": r["ts"].to_pydatetime(), **{k: _value(r[k], fmt) for k in columns}} for r in records
    ]
    render.emit(
        rows,
        fmt.value,
        title=f"{symbol.upper()} {interval} bars",
        columns=["ts", "open", "high", "low", "close", "volume", "vwap", "trades", "source"],
    )


def _value(value: Any, fmt: OutputFormat) -> Any:
    """Bar numbers as the vendor wrote them: the float's shortest repr (a Decimal on screen,
    so the table shows 187.35 and not 187.350000); none for a missing vwap or trades."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # a numpy or pandas scalar
        value = value.item()
    if isinstance(value, float) and fmt is OutputFormat.TABLE:
        return Decimal(repr(value))
    return value


@app.command("retention")
@handles_errors
def retention(
    interval: IntervalOption,
    older_than: Annotated[
        str | None,
        typer.Option("--older-than", help="Age of the bars to remove: 90d, 12w, 6m, 1y, 2y."),
    ] = None,
    before: Annotated[
        str | None, typer.Option("--before", help="Remove bars starting before this date.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Remove old bars of one interval (roll-ups made from them stay)."""
    with open_db(db) as database:
        result = database.bars.apply_retention(interval, older_than, before)
    dropped = result.partitions_dropped
    names = f" ({', '.join(dropped)})" if dropped else ""
    render.console.print(
        f"{result.interval} bars before {result.cutoff:%Y-%m-%d %H:%M} UTC: "
        f"{len(dropped)} partition{'s' if len(dropped) != 1 else ''} dropped{names}, "
        f"{result.rows_deleted:,} rows deleted",
        highlight=False,
    )
