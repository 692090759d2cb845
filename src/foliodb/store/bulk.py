"""Bulk inserts: PostgreSQL COPY, SQLite executemany, both inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
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
        connection.execute(table.insert(), list(rows))
    return len(rows)
