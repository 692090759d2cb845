"""`foliodb news ...` and `foliodb events ...`, driven the way a user types them (SQLite)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from typer.testing import CliRunner, Result

from foliodb.cli.main import app
from tests.news.conftest import EXAMPLES, Write

runner = CliRunner(env={"COLUMNS": "250"})
NEWS = str(EXAMPLES / "news.json")
EVENTS = str(EXAMPLES / "events.csv")


def foliodb(url: str, *args: str) -> Result:
    return runner.invoke(app, [*args, "--db", url])


def ok(url: str, *args: str) -> Result:
    result = foliodb(url, *args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_news_is_imported_once_and_listed_in_every_format(sqlite_url: str, tmp_path: Any) -> None:
    ok(sqlite_url, "init")

    first = ok(sqlite_url, "news", "import", NEWS)
    again = ok(sqlite_url, "news", "import", NEWS)
    listed = as_json(ok(sqlite_url, "news", "list", "--symbol", "nvda", "-f", "json"))
    day = as_json(
        ok(sqlite_url, "news", "list", "--start", "2025-01-29", "--end", "2025-01-29", "-f", "json")
    )
    table = ok(sqlite_url, "news", "list", "--source", "example markets", "--limit", "2").stdout

    assert first.stdout == f"{NEWS}: 6 records; articles: 6 inserted, 0 updated, 0 unchanged\n"
    assert again.stdout == f"{NEWS}: 6 records; articles: 0 inserted, 0 updated, 6 unchanged\n"
    assert listed == [
        {
            "url": "https://news.example.com/tech/2025/01/29/cloud-spending-ai",
            "title": "Cloud spending on AI keeps climbing, lifting chip demand",
            "source": "Example Wire",
            "author": "John Roe",
            "published_at": "2025-01-29T22:10:00+00:00",
            "summary": "Hyperscalers raised capital spending plans for data centres.",
            "symbols": ["MSFT", "NVDA"],
        }
    ]
    # 22:10Z, 16:20 at -05:00 and 14:05 at -05:00, newest first.
    assert [(a["published_at"], a["symbols"]) for a in day] == [
        ("2025-01-29T22:10:00+00:00", ["MSFT", "NVDA"]),
        ("2025-01-29T21:20:00+00:00", ["ENB.TO", "SHOP.TO"]),
        ("2025-01-29T19:05:00+00:00", []),
    ]
    assert "Canadian banks beat estimates" in table
    assert "Oil majors keep buybacks" in table
    assert "TSX: Shopify rallies" not in table  # the third newest of its source


def test_the_csv_listing_is_a_file_news_import_reads_back(sqlite_url: str, tmp_path: Any) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "news", "import", NEWS)
    exported = ok(sqlite_url, "news", "list", "-f", "csv").stdout
    (tmp_path / "copy.csv").write_text(exported, encoding="utf-8")
    other = f"sqlite:///{tmp_path}/other.db"
    ok(other, "init")

    imported = ok(other, "news", "import", str(tmp_path / "copy.csv"))

    assert next(csv.reader(io.StringIO(exported))) == [
        "url",
        "title",
        "source",
        "author",
        "published_at",
        "summary",
        "symbols",
    ]
    assert "articles: 6 inserted" in imported.stdout
    original = as_json(ok(sqlite_url, "news", "list", "-f", "json"))
    assert as_json(ok(other, "news", "list", "-f", "json")) == original


def test_events_are_imported_filled_in_later_and_listed_with_their_surprise(
    sqlite_url: str, files: Write
) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "events", "import", EVENTS)
    release = files(
        "release.csv",
        """\
        ts,name,country,impact,actual
        2025-02-07T13:30:00Z,Non-Farm Employment Change,US,high,143K
        2025-03-07T13:30:00Z,Non-Farm Employment Change,US,high,
        """,
    )

    filled = ok(sqlite_url, "events", "import", str(release))
    us_jobs = ["--country", "us", "--min-impact", "high", "--name", "farm"]
    listed = as_json(
        ok(sqlite_url, "events", "list", *us_jobs, "--start", "2025-02-01", "-f", "json")
    )
    table = ok(sqlite_url, "events", "list", "--currency", "CAD", "--min-impact", "4").stdout

    assert filled.stdout == f"{release}: 2 records; events: 1 inserted, 1 updated, 0 unchanged\n"
    assert [
        (e["ts"], e["actual"], e["forecast"], e["previous"], e["surprise"]) for e in listed
    ] == [
        ("2025-02-07T13:30:00+00:00", "143K", "170K", "256K", "-27000"),
        ("2025-03-07T13:30:00+00:00", None, None, None, None),
    ]
    assert "Employment Change" in table and "65900" in table  # 90.9K - 25.0K
    assert "Overnight Rate" in table and "Federal Funds Rate" not in table


def test_a_bad_file_exits_2_naming_file_line_field_and_value_and_writes_nothing(
    sqlite_url: str, files: Write
) -> None:
    ok(sqlite_url, "init")
    bad = files(
        "news.csv",
        """\
        url,title,source,published_at
        https://news.test/a,Fine,Wire,2024-05-01T10:00:00Z
        https://news.test/b,Not yet,Wire,soon
        """,
    )

    result = foliodb(sqlite_url, "news", "import", str(bad))

    assert result.exit_code == 2
    assert f"{bad}:3: field 'published_at' value 'soon': is not a date and time" in result.stderr
    assert as_json(ok(sqlite_url, "news", "list", "-f", "json")) == []


def test_bad_options_exit_2_naming_the_option(sqlite_url: str) -> None:
    ok(sqlite_url, "init")

    impact = foliodb(sqlite_url, "events", "list", "--min-impact", "extreme")
    start = foliodb(sqlite_url, "news", "list", "--start", "last week")

    assert impact.exit_code == 2
    assert "field 'min_impact' value 'extreme': is not an impact" in impact.stderr
    assert start.exit_code == 2
    assert "field 'start' value 'last week'" in start.stderr
