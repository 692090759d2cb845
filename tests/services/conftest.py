"""Fixtures of the service tests: a migrated database on each engine, a CSV writer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import foliodb
from tests.builders import CsvFiles


@pytest.fixture
def db(db_url: str) -> Iterator[foliodb.Database]:
    """A brand-new database at the current schema (SQLite, then PostgreSQL)."""
    database = foliodb.connect(db_url, create=True)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def files(tmp_path: Path) -> CsvFiles:
    return CsvFiles(tmp_path)
