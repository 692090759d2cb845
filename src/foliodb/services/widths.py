"""Widths of the text columns user input is stored in, checked before anything is written.

PostgreSQL refuses a value longer than its VARCHAR (a DataError deep inside a bulk insert),
while SQLite stores it whatever its length. Checking here makes both engines accept the same
files, and names the file, line and field of every value that does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import String

from foliodb.errors import InputProblem
from foliodb.store.base import Base
from foliodb.store.tables import PortfolioRow, PriceRow, SecurityRow, TransactionRow, UserRow


def _width(row_class: type[Base], column: str) -> int:
    kind = row_class.__table__.c[column].type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


SECURITY: Mapping[str, int] = {
    name: _width(SecurityRow, name) for name in ("symbol", "name", "exchange", "sector", "country")
}
TRANSACTION: Mapping[str, int] = {
    "symbol": SECURITY["symbol"],
    "external_id": _width(TransactionRow, "external_id"),
    "account": _width(TransactionRow, "account"),
}
SOURCE: Mapping[str, int] = {"source": _width(PriceRow, "source")}
PORTFOLIO: Mapping[str, int] = {
    "name": _width(PortfolioRow, "name"),
    "owner": _width(UserRow, "email"),
}


def too_wide(
    values: Mapping[str, str | None],
    widths: Mapping[str, int],
    file: str | None = None,
    line: int | None = None,
) -> list[InputProblem]:
    """A problem for each value longer than its column allows."""
    return [
        InputProblem(
            f"is {len(value)} characters long",
            file,
            line,
            field,
            value if len(value) <= 40 else value[:40] + "...",
            f"at most {limit} characters",
        )
        for field, limit in widths.items()
        if (value := values.get(field)) is not None and len(value) > limit
    ]
