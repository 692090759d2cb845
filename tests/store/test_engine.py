"""Engines are configured as the README says: SQLite pragmas, a bounded PostgreSQL pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from foliodb.config import normalize_database_url
from foliodb.store.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine


def test_sqlite_connections_use_wal_full_sync_foreign_keys_and_a_busy_timeout(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()


@pytest.mark.postgresql
def test_postgresql_uses_psycopg_and_a_bounded_pool(pg_url: str) -> None:
    engine = make_engine(
        pg_url.replace("postgresql+psycopg://", "postgresql://"), pool_size=3, max_overflow=2
    )
    assert engine.dialect.driver == "psycopg"
    assert isinstance(engine.pool, QueuePool)
    assert engine.pool.size() == 3
    assert engine.pool._max_overflow == 2
    with engine.connect() as conn:
        assert conn.execute(text("select 1")).scalar() == 1
    engine.dispose()


def test_an_unsupported_url_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unsupported database URL 'mysql://x/y'"):
        make_engine("mysql://x/y")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://me@db/books", "postgresql://me@db/books"),
        ("postgresql+psycopg://me@db/books", "postgresql+psycopg://me@db/books"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_are_taken_as_users_write_them(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_a_plain_path_is_an_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalize_database_url("books.db") == f"sqlite:///{tmp_path / 'books.db'}"
