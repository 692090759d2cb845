"""The database fixtures give real, empty, isolated SQLite and PostgreSQL databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

# Filled by the first isolation test, checked by the second (they run in file order).
_seen: dict[str, str] = {}


def test_db_url_connects(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            tables = sa.inspect(conn).get_table_names()
        assert tables == [], "db_url must be a brand-new empty database"
        assert engine.dialect.name == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    finally:
        engine.dispose()


@pytest.mark.parametrize("step", ["create", "check"])
def test_db_url_databases_are_isolated(db_url: str, step: str) -> None:
    engine = sa.create_engine(db_url)
    dialect = engine.dialect.name
    try:
        with engine.begin() as conn:
            if step == "create":
                conn.execute(sa.text("create table leftover (id integer primary key)"))
                conn.execute(sa.text("insert into leftover (id) values (1)"))
                _seen[dialect] = db_url
            else:
                if dialect in _seen:  # not when the "create" step was deselected
                    assert db_url != _seen[dialect]
                assert not sa.inspect(conn).has_table("leftover")
    finally:
        engine.dispose()


def test_pg_url_is_a_fresh_postgresql_database(pg_url: str, pg_cluster: object) -> None:
    assert pg_url.startswith("postgresql+psycopg://")
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text("select current_database()")).scalar_one()
                == (pg_url.rsplit("/", 1)[1])
            )
            assert conn.execute(sa.text("show server_encoding")).scalar_one() == "UTF8"
            assert conn.execute(sa.text("show lc_collate")).scalar_one() == "C"
    finally:
        engine.dispose()


def test_sqlite_url_is_a_file_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    assert sqlite_url == f"sqlite:///{tmp_path}/foliodb.db"
