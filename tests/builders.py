"""CSV builders: tests write the files a user would import, as lists of dicts.

Row ``i`` of ``rows`` (counting from 0) is line ``i + 2`` of the file: line 1 is the header,
which is the union of the rows' keys in first-seen order unless ``columns`` is given.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

Row = Mapping[str, object]


def write_csv(path: Path, rows: Sequence[Row], columns: Sequence[str] | None = None) -> Path:
    """Write `rows` under a header; None and missing keys become empty cells."""
    header = (
        list(columns)
        if columns is not None
        else list(dict.fromkeys(key for row in rows for key in row))
    )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else str(v) for k, v in row.items()})
    return path


class CsvFiles:
    """Numbered CSV files in one directory: ``files.transactions([...])`` returns the path."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._count = 0

    def write(self, stem: str, rows: Sequence[Row], columns: Sequence[str] | None = None) -> Path:
        self._count += 1
        return write_csv(self.directory / f"{stem}-{self._count}.csv", rows, columns)

    def transactions(self, rows: Sequence[Row], columns: Sequence[str] | None = None) -> Path:
        return self.write("transactions", rows, columns)

    def prices(self, rows: Sequence[Row]) -> Path:
        return self.write("prices", rows)

    def fx(self, rows: Sequence[Row]) -> Path:
        return self.write("fx", rows)

    def securities(self, rows: Sequence[Row]) -> Path:
        return self.write("securities", rows)


def buy(
    external_id: str,
    on: str,
    symbol: str,
    quantity: object,
    price: object,
    currency: str,
    **extra: object,
) -> dict[str, object]:
    """A BUY row as a broker export would have it."""
    return {
        "external_id": external_id,
        "trade_date": on,
        "type": "BUY",
        "symbol": symbol,
        "quantity": quantity,
        "price": price,
        "currency": currency,
        **extra,
    }


def sell(
    external_id: str,
    on: str,
    symbol: str,
    quantity: object,
    price: object,
    currency: str,
    **extra: object,
) -> dict[str, object]:
    return {
        "external_id": external_id,
        "trade_date": on,
        "type": "SELL",
        "symbol": symbol,
        "quantity": quantity,
        "price": price,
        "currency": currency,
        **extra,
    }


def deposit(
    external_id: str, on: str, amount: object, currency: str, **extra: object
) -> dict[str, object]:
    return {
        "external_id": external_id,
        "trade_date": on,
        "type": "DEPOSIT",
        "amount": amount,
        "currency": currency,
        **extra,
    }


def price(symbol: str, on: str, value: object, currency: str) -> dict[str, object]:
    return {"symbol": symbol, "date": on, "price": value, "currency": currency}


def fx(on: str, base: str, quote: str, rate: object) -> dict[str, object]:
    return {"date": on, "base": base, "quote": quote, "rate": rate}
