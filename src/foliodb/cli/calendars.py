"""`foliodb calendar ...`: trading sessions, open/closed, next open, per exchange.

Every instant is shown twice: in the exchange's own zone (`*_local`) and in UTC (`*_utc`).
Tables show minutes and the zone's abbreviation; CSV and JSON carry ISO 8601 with the offset.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from foliodb.cli import render
from foliodb.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    handles_errors,
    open_db,
    parse_date,
)

app = typer.Typer(
    help="Trading calendars of exchanges (times in local and UTC).", no_args_is_help=True
)

StartOption = Annotated[
    str | None, typer.Option("--start", help="First date, YYYY-MM-DD.", show_default=False)
]
EndOption = Annotated[
    str | None, typer.Option("--end", help="Last date, YYYY-MM-DD.", show_default=False)
]
ExchangeArgument = Annotated[
    str, typer.Argument(help="MIC (XNYS, XTKS...) or any exchange_calendars name.")
]
_TIMES = ("open", "break_start", "break_end", "close")


def when(value: Any, zone: str, fmt: OutputFormat) -> str | None:
    """An instant in `zone`: 'YYYY-MM-DD HH:MM ZONE' in tables, ISO 8601 otherwise."""
    if value is None or value != value:  # None or NaT
        return None
    local = value.astimezone(ZoneInfo(zone))
    if fmt is OutputFormat.TABLE:
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return str(local.isoformat())


def clock(value: Any, zone: str, session: dt.date) -> str | None:
    """An instant as HH:MM in `zone`, marked +1d / -1d when that falls on another day than
    the session date (Sydney's open in UTC, a futures open the evening before)."""
    if value is None or value != value:
        return None
    local = value.astimezone(ZoneInfo(zone))
    days = (local.date() - session).days
    return f"{local:%H:%M}" + (f" {days:+d}d" if days else "")


def both(name: str, value: Any, zone: str, fmt: OutputFormat) -> dict[str, str | None]:
    """`name_local` and `name_utc` of one instant."""
    return {f"{name}_local": when(value, zone, fmt), f"{name}_utc": when(value, "UTC", fmt)}


@app.command("seed")
@handles_errors
def seed(
    exchanges: Annotated[
        list[str] | None,
        typer.Argument(
            help="Exchanges to seed (default XNYS XNAS XTSE XLON XETR XPAR XTKS XHKG XASX).",
            show_default=False,
        ),
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Store calendars from exchange_calendars, replacing what the exchanges had.

    The window defaults to 2000-01-01 until a year from today.
    """
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    with open_db(db) as database:
        results = database.calendars.seed(exchanges or None, first, last)
    render.emit(results, fmt.value, title="Seeded calendars")


@app.command("list")
@handles_errors
def list_exchanges(db: DbOption = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """The seeded exchanges and the window their calendars cover."""
    with open_db(db) as database:
        exchanges = database.calendars.exchanges()
    rows = [
        {
            "code": e.code,
            "name": e.name,
            "timezone": e.timezone,
            "country": e.country,
            "first_session": e.first_session,
            "last_session": e.last_session,
            "window_start": e.window_start,
            "window_end": e.window_end,
            "source": e.source,
            "seeded_at": when(e.seeded_at, "UTC", fmt),
        }
        for e in exchanges
    ]
    render.emit(rows, fmt.value, title="Exchanges (seed more with `foliodb calendar seed`)")


@app.command("sessions")
@handles_errors
def sessions(
    exchange: ExchangeArgument,
    start: Annotated[
        str | None, typer.Option("--start", help="First session date (default today, UTC).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last session date (default a week after start).")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Sessions with their kind, open, close and break, in local time and UTC."""
    first = parse_date(start, "--start") or dt.datetime.now(dt.UTC).date()
    last = parse_date(end, "--end") or first + dt.timedelta(days=7)
    with open_db(db) as database:
        frame = database.calendars.sessions(exchange, first, last)
    code, zone = frame.attrs["exchange"], frame.attrs["timezone"]
    # A table leaves out the break columns when no session in it has a break.
    shown = [
        t
        for t in _TIMES
        if fmt is not OutputFormat.TABLE
        or t not in ("break_start", "break_end")
        or frame[f"{t}_utc"].notna().any()
    ]
    rows = [
        _session_row(session.date(), row, zone, shown, fmt)
        for session, row in zip(frame.index, frame.to_dict("records"), strict=True)
    ]
    render.emit(
        rows,
        fmt.value,
        title=f"{code} sessions {first} to {last} (local: {zone})",
        columns=["session", "kind", *(f"{t}_local" for t in shown), *(f"{t}_utc" for t in shown)],
    )


def _session_row(
    session: dt.date, row: dict[Any, Any], zone: str, shown: list[str], fmt: OutputFormat
) -> dict[str, Any]:
    """One session; a table shows clock times (the title names the zone), others ISO 8601."""
    instants = {t: row[f"{t}_utc"] for t in shown}
    if fmt is OutputFormat.TABLE:
        local = {f"{t}_local": clock(v, zone, session) for t, v in instants.items()}
        utc = {f"{t}_utc": clock(v, "UTC", session) for t, v in instants.items()}
    else:
        local = {f"{t}_local": when(v, zone, fmt) for t, v in instants.items()}
        utc = {f"{t}_utc": when(v, "UTC", fmt) for t, v in instants.items()}
    return {"session": session, "kind": row["kind"]} | local | utc


@app.command("is-open")
@handles_errors
def is_open(
    exchange: ExchangeArgument,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="ISO date and time, e.g. 2024-03-08T14:30 (naive means UTC) or "
            "2024-03-08T09:30-05:00. Default now.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Whether an exchange is open at an instant (a lunch break is closed)."""
    with open_db(db) as database:
        status = database.calendars.status(exchange, at)
    zone = status.timezone
    row: dict[str, Any] = {
        "exchange": status.exchange,
        "timezone": zone,
        "is_open": status.is_open,
        "state": status.state,
        "session": status.session,
        **both("at", status.at, zone, fmt),
        **both("next_open", status.next_open, zone, fmt),
        **both("next_close", status.next_close, zone, fmt),
        **both("previous_close", status.previous_close, zone, fmt),
    }
    if status.break_end is not None:
        row |= both("break_end", status.break_end, zone, fmt)
    render.emit_one(row, fmt.value, title=f"{status.exchange} {status.state}")


@app.command("next-open")
@handles_errors
def next_open(
    exchange: ExchangeArgument,
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            help="ISO date and time (naive means UTC). Default now.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The first session open strictly after an instant."""
    with open_db(db) as database:
        status = database.calendars.status(exchange, after)
    if status.next_open is None:
        render.error(
            f"{status.exchange}: no session opens after {status.at.isoformat()} within its "
            "seeded calendar; seed a later --end with `foliodb calendar seed`"
        )
        raise typer.Exit(1)
    zone = status.timezone
    row: dict[str, Any] = {
        "exchange": status.exchange,
        "timezone": zone,
        "session": status.next_session,
        **both("after", status.at, zone, fmt),
        **both("next_open", status.next_open, zone, fmt),
    }
    render.emit_one(row, fmt.value, title=f"{status.exchange} next open")
