"""`foliodb ledger ...`: a portfolio's entries, reversing one, and proving the replay."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from foliodb.cli import render
from foliodb.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    OwnerOption,
    handles_errors,
    open_db,
    parse_date,
)
from foliodb.services import transactions

app = typer.Typer(help="The ledger: entries, reversals, replay checks.", no_args_is_help=True)


@app.command("transactions")
@handles_errors
def ledger_transactions(
    portfolio: str,
    status: Annotated[
        str | None,
        typer.Option(help="Only active, reversed or reversal entries (default: every entry)."),
    ] = None,
    type: Annotated[str | None, typer.Option("--type", help="A transaction type.")] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this security.")] = None,
    start: Annotated[str | None, typer.Option(help="First trade date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last trade date (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 1000,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The ledger's entries by trade date, reversed ones and their reversals included."""
    with open_db(db) as database:
        page = database.transactions(
            portfolio,
            owner,
            status=status,
            type=type,
            symbol=symbol,
            start=parse_date(start, "--start"),
            end=parse_date(end, "--end"),
            limit=limit,
            offset=offset,
        )
    rows = [transactions.entry_fields(e) for e in page.entries]
    if fmt is OutputFormat.TABLE:  # the columns a reader scans; JSON and CSV carry every one
        rows = [{k: r[k] for k in _ENTRY_COLUMNS} for r in rows]
    shown = f"{offset + 1}-{offset + len(rows)} of {page.count}" if rows else f"0 of {page.count}"
    render.emit(rows, fmt.value, title=f"{portfolio} transactions ({shown})")
    if offset + len(rows) < page.count:
        render.error(f"showing {shown}: --offset {offset + len(rows)} for the next ones")


_ENTRY_COLUMNS = (
    "tx_id",
    "trade_date",
    "type",
    "symbol",
    "quantity",
    "price",
    "amount",
    "currency",
    "fee",
    "status",
    "reverses",
    "reversed_by",
)


@app.command("reverse")
@handles_errors
def ledger_reverse(
    portfolio: str,
    tx_id: str,
    reason: Annotated[
        str | None, typer.Option(help="Why; kept as the reversal entry's note.")
    ] = None,
    owner: OwnerOption = None,
    db: DbOption = None,
) -> None:
    """Reverse a transaction by appending a reversal entry; nothing is deleted.

    Both entries leave the ledger's replay; both stay listed. Refused while a later
    transaction depends on the one reversed.
    """
    with open_db(db) as database:
        entry = database.reverse_transaction(portfolio, tx_id, reason, owner)
    render.console.print(
        f"{portfolio}: {tx_id} reversed by {entry.tx_id}", highlight=False, markup=False
    )


@app.command("rebuild")
@handles_errors
def ledger_rebuild(
    portfolio: str,
    check: Annotated[
        bool, typer.Option("--check", help="Only compare; leave the stored state as it is.")
    ] = False,
    owner: OwnerOption = None,
    db: DbOption = None,
) -> None:
    """Replay every transaction and prove the stored lots, gains and cash are reproduced.

    Exit 0 when they are identical. Otherwise each difference is listed, the stored state is
    replaced by the replay (unless --check), and the exit code is 1.
    """
    with open_db(db) as database:
        result = database.rebuild(portfolio, owner, repair=not check)
    if result.identical:
        render.console.print(
            f"{portfolio}: replayed {result.transactions} transactions -> "
            f"{result.lots} lots, {result.realized_gains} realized gains: "
            "identical to the stored state",
            highlight=False,
        )
        return
    for line in result.differences:
        render.console.print(Text(line, style="yellow"))
    verdict = (
        "the stored state was replaced by the replay"
        if result.repaired
        else "nothing was changed (--check)"
    )
    render.error(f"{portfolio}: {len(result.differences)} differences; {verdict}")
    raise typer.Exit(1)
