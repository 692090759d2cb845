"""Alembic environment: runs on the connection foliodb hands it (see store/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from foliodb.store import tables  # noqa: F401 - registers every table on the metadata
from foliodb.store.base import Base
from foliodb.store.engine import make_engine

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        run(conn)
