"""Output in the three formats every table command offers: rich table, CSV, JSON."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import io
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from foliodb.domain.money import normalize, quantize

# No console markup: portfolio names, paths and cells are user text, and "[old]" or "[/]" in
# them must print as written, not vanish or raise MarkupError. Style with Text instead.
console = Console(width=None if sys.stdout.isatty() else 200, markup=False)
err_console = Console(stderr=True, markup=False)

WRAPPING = frozenset({"reason", "note", "content_hash"})

#: The terminal table of a valuation shows these; CSV and JSON carry every field.
POSITION_COLUMNS = (
    "symbol",
    "currency",
    "quantity",
    "price",
    "fx_rate",
    "market_value_base",
    "cost_basis_base",
    "unrealized_pnl_base",
    "price_effect_base",
    "currency_effect_base",
    "weight",
)

#: Columns shown with 2 decimals in tables (CSV and JSON always carry the exact value).
MONEY_HINTS = ("value", "cost", "pnl", "effect", "proceeds", "gain", "balance", "amount")


def error(message: str) -> None:
    """A message on stderr, printed as written (user values are never read as markup)."""
    # soft_wrap: a long path or file:line must stay on one line in logs and pipes.
    err_console.print(
        Text.assemble(("error: ", "bold red"), message), highlight=False, soft_wrap=True
    )


def plain(value: Any) -> Any:
    """A JSON/CSV-safe value: exact decimals as strings without noise, dates in ISO form."""
    if isinstance(value, Decimal):
        return str(normalize(value))
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp (NaT: not a date)
        return value.date().isoformat() if value == value else None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None  # NaN: no value (JSON has no NaN)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if column == "weight":
            return f"{quantize(value * 100, 2)}%"
        if any(hint in column for hint in MONEY_HINTS) or column in ("price", "market_value"):
            return f"{quantize(value, 2):,}"
        return str(normalize(quantize(value, 8)))
    if isinstance(value, float):
        # Analytics figures: six decimals on screen (CSV and JSON carry every digit).
        return "" if value != value else f"{value:,.6f}"
    if hasattr(value, "to_pydatetime") and value == value:  # a pandas Timestamp
        return value.date().isoformat()  # type: ignore[no-any-return]
    return "" if value != value else str(plain(value))


def rows_of(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [item if isinstance(item, dict) else dataclasses.asdict(item) for item in items]


def emit(
    items: Sequence[Any], fmt: str, title: str | None = None, columns: Sequence[str] | None = None
) -> None:
    """Print `items` (dataclasses or dicts) as a table, CSV or JSON."""
    rows = rows_of(items)
    names = list(columns) if columns else (list(rows[0]) if rows else [])
    if fmt == "json":
        sys.stdout.write(
            json.dumps([{k: plain(r.get(k)) for k in names} for r in rows], indent=2) + "\n"
        )
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        for r in rows:
            writer.writerow(["" if r.get(k) is None else plain(r.get(k)) for k in names])
        sys.stdout.write(buffer.getvalue())
    else:
        _print_table(title, names, rows)


def _print_table(title: str | None, names: list[str], rows: list[dict[str, Any]]) -> None:
    """A rich table whose values are never cut. When the terminal is too narrow for every
    value at full width, each row is shown as its own block of `field  value` lines instead
    (like psql's expanded display), rather than a table of clipped numbers."""
    if not rows:
        console.print(f"{title}: none" if title else "none", highlight=False)
        return
    cells = [[_cell(k, r.get(k)) for k in names] for r in rows]
    table = Table(title=title, header_style="bold cyan")
    for i, name in enumerate(names):
        numeric = isinstance(rows[0].get(name), Decimal | int)
        # Every value fits its column's min_width; only a header longer than them folds.
        table.add_column(
            name,
            justify="right" if numeric else "left",
            min_width=max(len(row[i]) for row in cells),
            overflow="fold",
        )
    for row in cells:
        table.add_row(*row)
    with console.capture() as captured:
        console.print(table)
    output = captured.get()
    lines = Text.from_ansi(output).plain.splitlines()
    intact = all(any(value in line for line in lines) for row in cells for value in row)
    closed = all(line.rstrip().endswith("│") for line in lines if line.startswith("│"))
    if intact and closed:
        sys.stdout.write(output)
        return
    for number, row in enumerate(cells, start=1):
        block = Table(
            title=f"{title} — {number} of {len(cells)}" if title else None,
            show_header=False,
            box=box.SIMPLE,
        )
        # The value keeps its width; a long field name folds instead.
        block.add_column(style="bold cyan", overflow="fold")
        block.add_column(no_wrap=True, min_width=max(len(value) for value in row))
        for name, value in zip(names, row, strict=True):
            block.add_row(name, value)
        console.print(block)


def emit_one(item: Any, fmt: str, title: str) -> None:
    """One record: a JSON object (not a list of one), a one-row CSV, or a two-column table."""
    row = rows_of([item])[0]
    if fmt == "json":
        sys.stdout.write(json.dumps({k: plain(v) for k, v in row.items()}, indent=2) + "\n")
    elif fmt == "csv":
        emit([row], fmt)
    else:
        table = Table(title=title, show_header=False)
        table.add_column("", style="bold")
        table.add_column("", justify="right")
        for key, value in row.items():
            table.add_row(key, _cell(key, value))
        console.print(table)


def _position_columns(items: Sequence[Any], totals: dict[str, Any]) -> tuple[str, ...]:
    """The compact columns, plus each price's own date when some price was carried forward."""
    carried = any(getattr(p, "price_date", None) != totals.get("date") for p in items)
    if not carried:
        return POSITION_COLUMNS
    at = POSITION_COLUMNS.index("price") + 1
    return (*POSITION_COLUMNS[:at], "price_date", *POSITION_COLUMNS[at:])


def emit_document(
    totals: dict[str, Any], tables: dict[str, Sequence[Any]], fmt: str, title: str
) -> None:
    """A result with totals and several tables (a valuation): JSON nests everything, CSV
    prints the first table, the terminal shows each table and then the totals."""
    if fmt == "json":
        document = {k: plain(v) for k, v in totals.items()}
        for name, items in tables.items():
            document[name] = [{k: plain(v) for k, v in row.items()} for row in rows_of(items)]
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif fmt == "csv":
        emit(next(iter(tables.values())), fmt)
    else:
        for name, items in tables.items():
            if items:
                emit(
                    items,
                    fmt,
                    title=f"{title} — {name}",
                    columns=_position_columns(items, totals) if name == "positions" else None,
                )
        table = Table(title="totals", show_header=False)
        table.add_column("", style="bold")
        table.add_column("", justify="right")
        for key, value in totals.items():
            table.add_row(key, _cell(key, value))
        console.print(table)
