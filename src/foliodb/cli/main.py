"""`foliodb` commands. Each parses its options, makes one call, renders the answer."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from foliodb.cli import calendars as calendars_cli
from foliodb.cli import common, render
from foliodb.cli import data as data_cli
from foliodb.cli import gaps as gaps_cli  # noqa: F401  (registers `data gaps`)
from foliodb.cli import ledger as ledger_cli
from foliodb.cli import macro as macro_cli
from foliodb.cli import news as news_cli
from foliodb.cli import serve as serve_cli
from foliodb.cli import users as users_cli
from foliodb.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    OwnerOption,
    SourceOption,
    handles_errors,
)
from foliodb.config import Settings
from foliodb.errors import InputError
from foliodb.services.results import ImportResult

app = typer.Typer(
    help="foliodb: portfolio database — exact ledger, sealed pricing packs, valuation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Schema migrations.", no_args_is_help=True)
portfolio_app = typer.Typer(help="Create and inspect portfolios.", no_args_is_help=True)
import_app = typer.Typer(help="Import CSV files (atomic and idempotent).", no_args_is_help=True)
pack_app = typer.Typer(
    help="Pricing packs: sealed point-in-time prices and FX.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(portfolio_app, name="portfolio")
app.add_typer(import_app, name="import")
app.add_typer(pack_app, name="pack")
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(data_cli.app, name="data")
app.add_typer(calendars_cli.app, name="calendar")
app.add_typer(macro_cli.app, name="macro")
app.add_typer(news_cli.news_app, name="news")
app.add_typer(news_cli.events_app, name="events")
app.add_typer(users_cli.app, name="user")
app.command("serve")(serve_cli.serve)

_url = common.url
_open = common.open_db
_date = common.parse_date


# --- schema -----------------------------------------------------------------------------------
@app.command()
@handles_errors
def init(db: DbOption = None) -> None:
    """Create the database (if needed) and migrate it to the current schema."""
    with _open(db, create=True) as database:
        state = database.status()
        render.console.print(f"database {database.url} ready at schema {state.current}")


@db_app.command("upgrade")
@handles_errors
def db_upgrade(db: DbOption = None) -> None:
    """Apply pending migrations."""
    with _open(db, create=True) as database:
        render.console.print(f"{database.url}: schema {database.status().current} (head)")


@db_app.command("status")
@handles_errors
def db_status(db: DbOption = None) -> None:
    """Show the current and the newest schema revision."""
    from foliodb.services import bootstrap

    engine = bootstrap.open_engine(_url(db))  # a missing SQLite file is refused, naming init
    try:
        state = bootstrap.status(engine)
    finally:
        engine.dispose()
    verdict = "up to date" if state.is_current else "needs `foliodb db upgrade`"
    render.console.print(f"current {state.current or 'none'}, head {state.head}: {verdict}")
    if not state.is_current:
        raise typer.Exit(1)


# --- portfolios -------------------------------------------------------------------------------
@portfolio_app.command("create")
@handles_errors
def portfolio_create(
    name: str,
    base: Annotated[str, typer.Option("--base", help="Base currency (ISO 4217).")] = "USD",
    method: Annotated[
        str, typer.Option("--method", help="FIFO, LIFO, HIFO, AVERAGE or SPECIFIC.")
    ] = "FIFO",
    owner: Annotated[str | None, typer.Option("--owner", help="Owner's email.")] = None,
    db: DbOption = None,
) -> None:
    """Create a portfolio."""
    with _open(db) as database:
        info = database.create_portfolio(name, base, method, owner)
        render.console.print(
            f"created portfolio {info.name!r} ({info.base_currency}, "
            f"{info.booking_method}) for {info.owner}"
        )


@portfolio_app.command("list")
@handles_errors
def portfolio_list(db: DbOption = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List portfolios."""
    with _open(db) as database:
        render.emit(database.portfolios(), fmt.value, title="Portfolios")


@portfolio_app.command("show")
@handles_errors
def portfolio_show(
    name: str,
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show one portfolio."""
    with _open(db) as database:
        render.emit_one(database.portfolio(name, owner), fmt.value, title=f"Portfolio {name}")


@portfolio_app.command("set-benchmark")
@handles_errors
def portfolio_set_benchmark(
    name: str,
    symbol: Annotated[str | None, typer.Argument(help="A security; omit to remove it.")] = None,
    owner: OwnerOption = None,
    db: DbOption = None,
) -> None:
    """Give a portfolio its own benchmark, used by perf and report when they name none."""
    with _open(db) as database:
        info = database.set_benchmark(name, symbol, owner)
    verdict = f"benchmark {info.benchmark}" if info.benchmark else "no benchmark"
    render.console.print(f"{info.name}: {verdict}", highlight=False)


# --- imports ----------------------------------------------------------------------------------
def _report(result: ImportResult) -> None:
    extra = f", {result.updated} updated" if result.updated else ""
    render.console.print(
        f"{result.file}: {result.rows} {result.kind} rows, {result.added} "
        f"added{extra}, {result.skipped} already present"
        + (f" ({result.reversed} of them reversed, left out)" if result.reversed else ""),
        highlight=False,
    )
    if result.new_securities:
        # A typo in a symbol makes a new security; say which ones were new.
        render.console.print(f"new securities: {', '.join(result.new_securities)}", highlight=False)


@import_app.command("transactions")
@handles_errors
def import_transactions(
    file: Path,
    portfolio: Annotated[str, typer.Option("--portfolio", "-p", help="Portfolio name.")],
    owner: OwnerOption = None,
    db: DbOption = None,
) -> None:
    """Import transactions (docs/formats.md). All rows or none; re-importing adds nothing."""
    with (
        _open(db) as database,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=render.err_console,
            transient=True,
            disable=not render.err_console.is_terminal,
        ) as bar,
    ):
        task = bar.add_task(f"reading {file.name}", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"{stage} {file.name}", completed=done, total=total)

        _report(database.import_transactions(portfolio, file, progress, owner))


@import_app.command("prices")
@handles_errors
def import_prices(
    file: Path,
    source: SourceOption = None,
    db: DbOption = None,
) -> None:
    """Import closing prices: symbol,date,price,currency[,source]."""
    with _open(db) as database:
        _report(database.import_prices(file, source))


@import_app.command("fx")
@handles_errors
def import_fx(
    file: Path,
    source: SourceOption = None,
    db: DbOption = None,
) -> None:
    """Import FX rates: date,base,quote,rate[,source] (1 base = rate quote)."""
    with _open(db) as database:
        _report(database.import_fx(file, source))


@import_app.command("securities")
@handles_errors
def import_securities(file: Path, db: DbOption = None) -> None:
    """Import security reference data: symbol,currency,name,type,exchange,sector,country."""
    with _open(db) as database:
        _report(database.import_securities(file))


# --- packs ------------------------------------------------------------------------------------
@pack_app.command("create")
@handles_errors
def pack_create(
    date: Annotated[str, typer.Option("--date", help="Pack date, YYYY-MM-DD.")],
    carry_forward: Annotated[
        bool,
        typer.Option(
            "--carry-forward",
            help="Use each security's last earlier price when the date has "
            "none (marked with its own date).",
        ),
    ] = False,
    from_bars: Annotated[
        bool,
        typer.Option(
            "--from-bars",
            help="Also price each security at its 1d bar's close (loaded or rolled up); "
            "with --carry-forward, its latest 1d bar on or before the date.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Build and seal the pricing pack for a date (FAILED with the reason if incomplete)."""
    day = _date(date, "--date")
    assert day is not None
    with _open(db) as database:
        result = database.create_pack(day, carry_forward, from_bars)
    pack = result.pack
    if result.failure:
        render.error(f"not restated: {result.failure}; {pack.pack_id} stays sealed for {day}")
        raise typer.Exit(1)
    if pack.status.value == "FAILED":
        render.error(f"pack {pack.pack_id} FAILED: {pack.reason}")
        raise typer.Exit(1)
    verb = "sealed" if result.created else "unchanged, already sealed as"
    extra = f", restates {pack.supersedes}" if pack.supersedes and result.created else ""
    carried_fx = [f"{r.base}/{r.quote}" for r in pack.fx_rates if r.rate_date != day]
    carried = ", ".join([*result.carried, *carried_fx])
    render.console.print(
        f"{verb} {pack.pack_id}: {len(pack.prices)} prices, {len(pack.fx_rates)} FX rates"
        f"{extra}{f'; carried forward: {carried}' if carried else ''}; "
        f"hash {pack.content_hash}",
        highlight=False,
    )


@pack_app.command("list")
@handles_errors
def pack_list(
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
    limit: Annotated[int, typer.Option(help="Newest N packs (0: all).", min=0)] = 20,
) -> None:
    """List pricing packs, newest first."""
    with _open(db) as database:
        packs = database.packs()
    render.emit(
        packs[:limit] if limit else packs,
        fmt.value,
        title="Pricing packs",
        columns=["pack_id", "date", "status", "prices", "fx_rates", "supersedes", "reason"],
    )


@pack_app.command("show")
@handles_errors
def pack_show(pack_id: str, db: DbOption = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Show a pack's status, hash, prices and FX rates."""
    with _open(db) as database:
        pack = database.pack(pack_id)
    totals = {
        "pack_id": pack.pack_id,
        "date": pack.date,
        "status": pack.status,
        "content_hash": pack.content_hash,
        "supersedes": pack.supersedes,
        "sealed_at": pack.sealed_at,
        "reason": pack.reason,
    }
    render.emit_document(
        totals,
        {"prices": list(pack.prices), "fx_rates": list(pack.fx_rates)},
        fmt.value,
        f"Pack {pack.pack_id}",
    )


# --- holdings, lots, gains, ledger -----------------------------------------------------------
@app.command()
@handles_errors
def holdings(
    portfolio: str,
    pack: Annotated[str | None, typer.Option("--pack", help="Pack id, e.g. PP_2025-06-30.")] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Newest sealed pack on or before this date.")
    ] = None,
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Value a portfolio at a sealed pack: positions, cash and totals in base currency."""
    if pack and date:
        raise InputError("give --pack or --date, not both")
    with _open(db) as database:
        result = database.valuation(portfolio, pack, _date(date, "--date"), owner)
    title = f"{portfolio} at {result.pack_id} ({result.valuation.base_currency})"
    if result.later_transactions and fmt is OutputFormat.TABLE:
        render.console.print(
            f"note: {result.later_transactions} transactions dated after "
            f"{result.valuation.date} are not in this valuation (no sealed pack covers them yet)",
            highlight=False,
        )
    render.emit_document(
        result.totals(),
        {"positions": list(result.positions), "cash": list(result.cash)},
        fmt.value,
        title,
    )


@app.command()
@handles_errors
def lots(
    portfolio: str,
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Open tax lots."""
    with _open(db) as database:
        render.emit(
            list(database.lots(portfolio, owner).lots), fmt.value, title=f"{portfolio} lots"
        )


@app.command()
@handles_errors
def gains(
    portfolio: str,
    year: Annotated[int | None, typer.Option(min=1, max=9999)] = None,
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Realized gains per closed lot slice."""
    with _open(db) as database:
        result = database.realized_gains(portfolio, year, owner)
    render.emit(
        list(result.gains),
        fmt.value,
        title=f"{portfolio} realized gains" + (f" {year}" if year else ""),
    )


@app.command()
@handles_errors
def nav(
    portfolio: str,
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Daily values at every sealed pack date: NAV, cash, flows, P&L, time-weighted return."""
    with _open(db) as database:
        result = database.daily_values(portfolio, owner)
    render.emit(
        list(result.days), fmt.value, title=f"{portfolio} daily values ({result.base_currency})"
    )


@app.command()
@handles_errors
def perf(
    portfolio: str,
    start: Annotated[
        str | None, typer.Option("--start", help="Add a CUSTOM period from this date.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", "--as-of", help="Last date, YYYY-MM-DD.")
    ] = None,
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", help="A security to compare with, e.g. VTI.")
    ] = None,
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Time-weighted period returns, the money-weighted return and risk metrics."""
    with _open(db) as database:
        result = database.performance(
            portfolio, owner, _date(end, "--end"), benchmark, _date(start, "--start")
        )
    periods = [
        {"period": name, **{k: (None if v != v else v) for k, v in row.items()}}  # NaN -> empty
        for name, row in result.periods.iterrows()
    ]
    if result.benchmark_periods is not None:
        benchmark_totals = result.benchmark_periods["total_return"].to_dict()
        for row in periods:
            total = benchmark_totals.get(row["period"])
            row["benchmark_return"] = None if total is None or total != total else total
    figures = [{"metric": k, "value": v} for k, v in result.metrics.items()]
    figures.append({"metric": "money_weighted_return", "value": result.money_weighted_return})
    figures.append({"metric": "modified_dietz", "value": result.modified_dietz})
    title = f"{portfolio} performance to {result.as_of} ({result.base_currency})"
    render.emit_document(
        {"portfolio": portfolio, "as_of": result.as_of, "base_currency": result.base_currency},
        {"periods": periods, "metrics": figures},
        fmt.value,
        title,
    )


@app.command()
@handles_errors
def report(
    portfolio: str,
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", help="A security to compare with, e.g. VTI.")
    ] = None,
    owner: OwnerOption = None,
    db: DbOption = None,
) -> None:
    """Write a self-contained HTML tearsheet (opens offline, no network)."""
    with _open(db) as database:
        written = database.report(portfolio, out, owner, benchmark)
    render.console.print(f"wrote {written}", highlight=False)


@app.command()
@handles_errors
def attribution(
    portfolio: str,
    start: Annotated[str, typer.Option("--start", help="First date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last date, YYYY-MM-DD.")],
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Currency attribution of a period: local return, FX return and their interaction."""
    first, last = _date(start, "--start"), _date(end, "--end")
    assert first is not None and last is not None
    with _open(db) as database:
        result = database.attribution(portfolio, first, last, owner)
    rows = [{**dataclasses.asdict(c), "total": c.total} for c in result.currencies]
    totals = {k: v for k, v in dataclasses.asdict(result).items() if k != "currencies"}
    render.emit_document(
        totals,
        {"currencies": rows},
        fmt.value,
        f"{portfolio} currency attribution {result.start} to {result.end} ({result.base_currency})",
    )


@app.command()
@handles_errors
def demo(
    db: DbOption = None,
    seed: Annotated[int, typer.Option(help="Random seed of the demo data.")] = 7,
) -> None:
    """Load a realistic demo data set, then show holdings and valuations."""
    from foliodb.cli import demo_view

    demo_view.run(_url(db), seed)


@app.callback()
def _configure(db: DbOption = None) -> None:
    """foliodb: portfolio database — exact ledger, sealed pricing packs, valuation.

    Logs at FOLIODB_LOG_LEVEL (default WARNING) to stderr.
    """
    common.state.db = db
    try:
        level = Settings().log_level.upper()
    except ValidationError:
        level = "WARNING"  # the command reports the bad setting, naming it
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else "WARNING",
        format="%(message)s",
        handlers=[RichHandler(console=render.err_console, show_path=False)],
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO is migration chatter


def main() -> None:
    app()
