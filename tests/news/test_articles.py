"""Importing news articles: one per URL, idempotent, atomic, new symbols added (both engines)."""

from __future__ import annotations

import foliodb
from foliodb.services.news import NewsImportResult
from tests.news.conftest import EXAMPLES, Write, contents


def counts(result: NewsImportResult) -> tuple[int, int, int, int, int]:
    return (result.rows, result.inserted, result.updated, result.unchanged, result.symbols_added)


def test_an_article_in_several_records_and_files_is_stored_once_with_every_symbol(
    db: foliodb.Database, files: Write
) -> None:
    first = files(
        "wire.jsonl",
        """\
        {"url": " https://News.Test/story?id=1 ", "title": "First take", "source": "Wire", "published_at": "2024-05-01T10:00:00Z", "symbols": ["aapl"]}
        {"url": "https://news.test/story?id=2", "title": "Another story", "source": "Wire", "published_at": "2024-05-01T11:00:00Z"}
        """,  # noqa: E501
    )
    second = files(
        "desk.csv",
        """\
        url,title,source,published_at,symbols
        https://news.test/story?id=1,Second take,Desk,2024-05-01T12:00:00Z,MSFT;AAPL
        https://news.test/story?id=1&utm_source=feed,Tracked copy,Desk,2024-05-01T12:00:00Z,
        """,
    )

    result = db.news.import_articles([first, second])

    # 4 records; 3 URLs: tracking parameters are kept, so the tracked copy is its own article.
    assert counts(result) == (4, 3, 0, 0, 0)
    stored = {a.url: (a.title, a.source, a.symbols) for a in db.news.articles()}
    assert stored == {
        "https://news.test/story?id=1": ("First take", "Wire", ("AAPL", "MSFT")),
        "https://news.test/story?id=2": ("Another story", "Wire", ()),
        "https://news.test/story?id=1&utm_source=feed": ("Tracked copy", "Desk", ()),
    }


def test_importing_the_same_files_again_changes_nothing(db: foliodb.Database, files: Write) -> None:
    news = files(
        "news.csv",
        """\
        url,title,source,author,published_at,summary,symbols
        https://news.test/a,Apple beats,Wire,Jane Doe,2024-05-02T20:30:00-04:00,Strong quarter,AAPL
        https://news.test/b,Markets calm,Wire,,2024-05-03T09:00:00Z,,AAPL;MSFT
        """,
    )
    first = db.news.import_articles(news)
    before = contents(db)

    again = db.news.import_articles([news, news])

    assert counts(first) == (2, 2, 0, 0, 0)
    assert counts(again) == (4, 0, 0, 2, 0)
    assert contents(db) == before  # audit log included: a no-op import is not audited


def test_a_reimported_article_gains_new_symbols_and_keeps_its_first_version(
    db: foliodb.Database, files: Write
) -> None:
    db.news.import_articles(
        files(
            "v1.json",
            """\
            [{"url": "https://news.test/a", "title": "Apple beats", "source": "Wire",
              "published_at": "2024-05-02T10:00:00Z", "symbols": ["AAPL"]}]
            """,
        )
    )

    result = db.news.import_articles(
        files(
            "v2.json",
            """\
            [{"url": "https://news.test/a", "title": "Apple beats (updated)", "source": "Desk",
              "published_at": "2024-05-02T11:00:00Z", "symbols": ["AAPL", "MSFT", "NVDA"]}]
            """,
        )
    )

    assert counts(result) == (1, 0, 1, 0, 2)
    [article] = db.news.articles()
    assert (article.title, article.source, article.symbols) == (
        "Apple beats",
        "Wire",
        ("AAPL", "MSFT", "NVDA"),
    )
    assert [a.url for a in db.news.articles(symbol="NVDA")] == ["https://news.test/a"]


def test_a_default_source_fills_records_without_one_only(
    db: foliodb.Database, files: Write
) -> None:
    news = files(
        "feed.jsonl",
        """\
        {"url": "https://news.test/a", "title": "A", "published_at": "2024-05-01"}
        {"url": "https://news.test/b", "title": "B", "source": "Desk", "published_at": "2024-05-02"}
        """,
    )

    db.news.import_articles(news, source="Agence Élysée")

    assert [(a.url, a.source, a.published_at.isoformat()) for a in db.news.articles()] == [
        ("https://news.test/b", "Desk", "2024-05-02T00:00:00+00:00"),
        ("https://news.test/a", "Agence Élysée", "2024-05-01T00:00:00+00:00"),
    ]
    # Found by its own spelling in another case on both engines (SQLite folds ASCII only).
    assert [a.url for a in db.news.articles(source="AGENCE Élysée")] == ["https://news.test/a"]


def test_the_example_news_file_imports_whole_and_exactly_once(db: foliodb.Database) -> None:
    first = db.news.import_articles(EXAMPLES / "news.json")
    again = db.news.import_articles(EXAMPLES / "news.json")

    assert counts(first) == (6, 6, 0, 0, 0)
    assert counts(again) == (6, 0, 0, 6, 0)
    by_url = {a.url: a for a in db.news.articles()}
    apple = by_url["https://news.example.com/tech/2025/01/30/apple-quarterly-results"]
    assert apple.published_at.isoformat() == "2025-01-30T21:35:00+00:00"  # 16:35 at -05:00
    assert (apple.author, apple.symbols) == ("Jane Doe", ("AAPL",))
