"""Fixtures of the news tests: files written as a user would, and one seeded database per engine.

``seeded`` holds the articles and events below and is shared by the whole package (migrating a
database per test would cost most of the run). Only tests that write nothing use it: queries,
and bad imports, which each compare the tables before and after.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import foliodb

Write = Callable[[str, str], Path]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: Articles as JSON Lines; the comment on each gives its instant in UTC.
SEED_ARTICLES = """\
{"url": "https://news.test/a1", "title": "Apple beats estimates", "source": "Wire", "published_at": "2024-05-02T20:30:00-04:00", "symbols": ["AAPL"]}
{"url": "https://news.test/a2", "title": "Microsoft: 100% renewable by 2025", "source": "Wire", "published_at": "2024-05-01T10:00:00", "symbols": ["msft", "AAPL"]}
{"url": "https://news.test/a3", "title": "Oil slips", "source": "Journal", "published_at": "2024-04-30T23:59:59Z", "symbols": ["XOM"]}
{"url": "https://news.test/a4", "title": "Fed holds", "source": "journal", "published_at": "2024-05-01T00:00:00+00:00", "symbols": []}
{"url": "https://news.test/a5", "title": "Apple Watch: 1000 units recalled", "source": "Wire", "published_at": "2024-05-03T12:00:00+02:00", "symbols": ["AAPL"]}
"""  # noqa: E501  (one record per line is the format)
# a1 2024-05-03 00:30Z, a2 2024-05-01 10:00Z (no offset: UTC), a3 2024-04-30 23:59:59Z,
# a4 2024-05-01 00:00Z, a5 2024-05-03 10:00Z.

#: Events in both time forms; the comment gives each instant in UTC.
SEED_EVENTS = """\
ts,date,time,timezone,name,country,currency,impact,actual,forecast,previous
,2024-05-03,08:30,America/New_York,Non-Farm Employment Change,US,USD,high,175K,243K,315K
2024-05-03T12:30:00Z,,,,Unemployment Rate,US,USD,3,3.9%,3.8%,3.8%
,2024-05-10,08:30,America/Toronto,Employment Change,CA,CAD,4,90.4K,18.8K,-2.2K
,2024-06-06,14:15,Europe/Berlin,Main Refinancing Rate,EU,EUR,high,4.25%,4.25%,4.50%
,2024-05-06,,Europe/London,Spring Bank Holiday,GB,GBP,holiday,,,
,2024-05-01,10:00,America/New_York,ISM Manufacturing PMI,US,USD,low,49.2,50.0,50.3
"""
# NFP and Unemployment 2024-05-03 12:30Z (EDT), Employment Change 2024-05-10 12:30Z,
# Refinancing Rate 2024-06-06 12:15Z (CEST), Bank Holiday 2024-05-05 23:00Z (BST midnight),
# ISM 2024-05-01 14:00Z.


def write_file(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> Write:
    """`files("news.jsonl", text)` writes a file (dedented) and returns its path."""
    return lambda name, text: write_file(tmp_path, name, text)


@pytest.fixture(
    scope="package",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ],
)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[foliodb.Database]:
    """A database holding SEED_ARTICLES and SEED_EVENTS, once per engine."""
    directory = tmp_path_factory.mktemp("seeded")
    server: Any = None
    if request.param == "sqlite":
        url = f"sqlite:///{directory}/foliodb.db"
    else:
        server = request.getfixturevalue("pg_cluster")
        name = server.create_database()
        url = server.url(name)
    database = foliodb.connect(url, create=True)
    try:
        database.news.import_articles(write_file(directory, "seed.jsonl", SEED_ARTICLES))
        database.news.import_events(write_file(directory, "seed.csv", SEED_EVENTS))
        yield database
    finally:
        database.close()
        if server is not None:
            server.drop_database(name)


def contents(db: foliodb.Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the news tables and of the audit log, in a stable order."""
    queries = {
        "news_articles": "SELECT * FROM news_articles ORDER BY id",
        "news_symbols": "SELECT * FROM news_symbols ORDER BY article_id, symbol",
        "economic_events": "SELECT * FROM economic_events ORDER BY id",
        "audit_log": "SELECT id, action FROM audit_log ORDER BY id",
    }
    with db.engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(sa.text(sql))]
            for table, sql in queries.items()
        }
