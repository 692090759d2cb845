"""`foliodb data gaps SYMBOL`: expected sessions or minutes without a bar, as ranges."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from foliodb.cli import render
from foliodb.cli.calendars import EndOption, StartOption, when
from foliodb.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    handles_errors,
    open_db,
    parse_date,
)
from foliodb.cli.data import app as data_app


@data_app.command("gaps")
@handles_errors
def gaps(
    symbol: Annotated[str, typer.Argument(help="The symbol whose bars to check.")],
    interval: Annotated[
        str, typer.Option("--interval", "-i", help="Bar interval: 1d, 1h, 15m, 5m or 1m.")
    ] = "1d",
    start: StartOption = None,
    end: EndOption = None,
    exchange: Annotated[
        str | None,
        typer.Option(
            "--exchange",
            help="MIC whose calendar to use, for a symbol without an exchange in securities.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Expected bars that are missing, as runs of consecutive missing bars.

    1d: sessions without a bar; intraday: bar starts within sessions (aligned on the
    interval in UTC, like roll-ups) without a bar. Default span: the symbol's first to last
    bar.
    """
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    with open_db(db) as database:
        report = database.calendars.gaps(symbol, interval, first, last, exchange)
    zone = report.timezone
    daily = report.interval == "1d"

    def shown(value: Any) -> Any:
        return value if daily else when(value, "UTC", fmt)

    totals = {
        "symbol": report.symbol,
        "exchange": report.exchange,
        "timezone": zone,
        "interval": report.interval,
        "start": shown(report.start),
        "end": shown(report.end),
        "expected": report.expected,
        "present": report.present,
        "missing": report.missing,
        "unexpected": report.unexpected,
    }
    rows = [
        {"first_missing": shown(g.first_missing), "last_missing": shown(g.last_missing)}
        | (
            {}
            if daily
            else {
                "first_missing_local": when(g.first_missing, zone, fmt),
                "last_missing_local": when(g.last_missing, zone, fmt),
            }
        )
        | {"count": g.count}
        for g in report.gaps
    ]
    title = f"{report.symbol} {report.interval} gaps on {report.exchange}"
    render.emit_document(totals, {"gaps": rows}, fmt.value, title)
