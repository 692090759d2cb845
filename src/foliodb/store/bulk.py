"""Bulk inserts: PostgreSQL COPY, SQLite executemany, both inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from foliodb.store.base import Base


def insert_rows(session: Session, row_class: type[Base], rows: Sequence[dict[str, Any]]) -> int:
    """Insert plain dict rows (all with the same keys) as fast as the engine allows."""
    if not rows:
        return 0
    table: Table = row_class.__table__  # type: ignore[assignment]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        columns = list(rows[0])
        raw = connection.connection.driver_connection
        assert raw is not None
        quoted = ", ".join(f'"{c}"' for c in columns)
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[c] for c in columns])
    else:
        # The driver's executemany with values already in SQLAlchemy's SQLite storage form:
        # SQLAlchemy's per-row bind processing would cost several times the insert itself.
        columns = list(rows[0])
        placeholders = ", ".join("?" for _ in columns)
        quoted = ", ".join(f'"{c}"' for c in columns)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({quoted}) VALUES ({placeholders})",
            [tuple(_sqlite_value(row[c]) for c in columns) for row in rows],
        )
    return len(rows)


def _sqlite_value(value: Any) -> Any:
    """The value as SQLAlchemy stores it in SQLite (Money as exact text, ISO dates)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
