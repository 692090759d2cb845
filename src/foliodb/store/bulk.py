"""Bulk inserts: PostgreSQL COPY, SQLite executemany, both inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Date, DateTime, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from foliodb.store.base import Base, Money, UtcDateTime


def _row_security_active(connection: Any, table: str) -> bool:
    """Whether row-level security policies apply to this connection's role on `table`."""
    return bool(
        connection.exec_driver_sql("SELECT row_security_active(%(t)s)", {"t": table}).scalar()
    )


def insert_rows(session: Session, row_class: type[Base], rows: Sequence[dict[str, Any]]) -> int:
    """Insert plain dict rows (all with the same keys) as fast as the engine allows."""
    if not rows:
        return 0
    table: Table = row_class.__table__  # type: ignore[assignment]
    connection = session.connection()
    if connection.dialect.name == "postgresql" and _row_security_active(connection, table.name):
        # PostgreSQL refuses COPY FROM where row-level security applies (the server's app
        # role): a multi-row INSERT goes through the policies instead.
        connection.execute(table.insert(), list(rows))
    elif connection.dialect.name == "postgresql":
        columns = list(rows[0])
        money = [c for c in columns if isinstance(table.c[c].type, Money)]
        if any(isinstance(row[c], float) for row in rows for c in money):
            raise TypeError("Money columns refuse floats; pass a Decimal")
        raw = connection.connection.driver_connection
        assert raw is not None
        quoted = ", ".join(f'"{c}"' for c in columns)
        statement = f"COPY {table.name} ({quoted}) FROM STDIN"
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        except connection.dialect.loaded_dbapi.Error as exc:
            # Raise what SQLAlchemy raises for the same failure on SQLite (IntegrityError,
            # DataError...), not the driver's own class, so callers handle one family.
            raise DBAPIError.instance(
                statement, None, exc, connection.dialect.loaded_dbapi.Error
            ) from exc
    else:
        # The driver's executemany with values already in SQLAlchemy's SQLite storage form:
        # SQLAlchemy's per-row bind processing would cost several times the insert itself.
        columns = list(rows[0])
        convert = [_sqlite_converter(table.c[c].type) for c in columns]
        placeholders = ", ".join("?" for _ in columns)
        quoted = ", ".join(f'"{c}"' for c in columns)
        # Column by column: one conversion loop per typed column, none for the others.
        values_by_column = [[row[c] for row in rows] for c in columns]
        for i, f in enumerate(convert):
            if f is not None:
                values_by_column[i] = [None if v is None else f(v) for v in values_by_column[i]]
        values = list(zip(*values_by_column, strict=True))
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({quoted}) VALUES ({placeholders})", values
        )
    return len(rows)


def _money_text(value: Any) -> str:
    if isinstance(value, float):
        raise TypeError("Money columns refuse floats; pass a Decimal")
    return str(value)


def _sqlite_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_converter(column_type: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """How a column's Python value is stored by SQLAlchemy on SQLite (None: as it is)."""
    if isinstance(column_type, Money):
        return _money_text
    if isinstance(column_type, UtcDateTime | DateTime):
        return _sqlite_datetime
    if isinstance(column_type, Date):
        return dt.date.isoformat
    return None
