"""The file formats, read without a database: the same records in JSON, JSON Lines and CSV,
the forms of an event's time, impact words and the numbers published figures state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from foliodb.ingest import news
from tests.news.conftest import Write


def test_a_json_list_json_lines_and_csv_give_the_same_articles(files: Write) -> None:
    as_list = files(
        "news.json",
        """\
        [
          {"url": "https://news.test/a", "title": "Apple, Inc. beats", "source": "Wire",
           "author": "Jane Doe", "published_at": "2024-05-02T20:30:00-04:00",
           "summary": "Strong \\"quarter\\"", "symbols": ["aapl", "MSFT", "AAPL"]},
          {"url": "https://news.test/b", "title": "Calm", "source": "Wire",
           "published_at": "2024-05-03 09:00", "author": null, "symbols": []}
        ]
        """,
    )
    as_lines = files(
        "news.jsonl",
        """\
        {"url": "https://news.test/a", "title": "Apple, Inc. beats", "source": "Wire", "author": "Jane Doe", "published_at": "2024-05-02T20:30:00-04:00", "summary": "Strong \\"quarter\\"", "symbols": "aapl;MSFT;AAPL"}

        {"url": "https://news.test/b", "title": "Calm", "source": "Wire", "published_at": "2024-05-03 09:00"}
        """,  # noqa: E501
    )
    as_csv = files(
        "news.csv",
        '''\
        url,title,source,author,published_at,summary,symbols
        https://news.test/a,"Apple, Inc. beats",Wire,Jane Doe,2024-05-02T20:30:00-04:00,"Strong ""quarter""","aapl, MSFT;AAPL"
        https://news.test/b,Calm,Wire,,2024-05-03 09:00,,
        ''',  # noqa: E501
    )
    expected = [
        news.Article(
            url="https://news.test/a",
            title="Apple, Inc. beats",
            source="Wire",
            author="Jane Doe",
            published_at=dt.datetime(2024, 5, 3, 0, 30, tzinfo=dt.UTC),
            summary='Strong "quarter"',
            symbols=("AAPL", "MSFT"),
        ),
        news.Article(
            url="https://news.test/b",
            title="Calm",
            source="Wire",
            author=None,
            published_at=dt.datetime(2024, 5, 3, 9, 0, tzinfo=dt.UTC),
            summary=None,
            symbols=(),
        ),
    ]

    for path, lines in ((as_list, [2, 5]), (as_lines, [1, 3]), (as_csv, [2, 3])):
        parsed = news.parse_articles(path)
        assert [p.value for p in parsed] == expected, path.name
        assert [p.line for p in parsed] == lines, path.name


def test_a_semicolon_separated_csv_with_a_bom_is_read(files: Write) -> None:
    path = files(
        "news.csv",
        "\ufeffurl;title;source;published_at;symbols\n"
        "https://news.test/a;Apple beats;Wire;2024-05-02T10:00:00Z;AAPL\n",
    )

    [parsed] = news.parse_articles(path)

    assert (parsed.value.title, parsed.value.symbols) == ("Apple beats", ("AAPL",))


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("  https://news.test/a  ", "https://news.test/a"),
        ("HTTPS://News.Test/Path/A", "https://news.test/Path/A"),
        ("https://User@News.Test:8443/a", "https://User@news.test:8443/a"),
        ("https://news.test/a?utm_source=x&id=1", "https://news.test/a?utm_source=x&id=1"),
        ("https://news.test/a#comments", "https://news.test/a#comments"),
        ("http://news.test", "http://news.test"),
        ("news.test/a", None),
        ("ftp://news.test/a", None),
        ("https://", None),
        ("https://news.test/a b", None),
        ("https://[news.test/a", None),
    ],
)
def test_urls_are_normalised_conservatively(text: str, url: str | None) -> None:
    assert news.normalize_url(text) == url


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0.3%", Decimal("0.3")),
        ("-0.1%", Decimal("-0.1")),
        ("\u22120.1%", Decimal("-0.1")),
        ("+2.50%", Decimal("2.5")),
        ("250K", Decimal(250000)),
        ("-10.8K", Decimal(-10800)),
        ("1.5M", Decimal(1500000)),
        ("-68.9B", Decimal(-68900000000)),
        ("$1.2T", Decimal(1200000000000)),
        ("1,234.5", Decimal("1234.5")),
        ("50.9", Decimal("50.9")),
        (".5", Decimal("0.5")),
        ("0", Decimal(0)),
        ("n/a", None),
        ("Hawkish", None),
        ("4.25%-4.50%", None),
        ("1,23", None),
        ("%", None),
        ("", None),
        (None, None),
    ],
)
def test_a_published_figure_states_an_exact_number(
    text: str | None, number: Decimal | None
) -> None:
    assert news.parse_figure(text) == number


@pytest.mark.parametrize(
    ("text", "impact"),
    [("holiday", 1), ("Low", 2), ("MEDIUM", 3), ("high", 4), ("1", 1), ("4", 4)],
)
def test_impact_words_map_onto_one_to_four(text: str, impact: int) -> None:
    assert news.parse_impact(text) == impact


@pytest.mark.parametrize("text", ["0", "5", "3.0", "critical", ""])
def test_other_impacts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=text or "^$"):
        news.parse_impact(text)


def test_every_form_of_an_event_time_gives_the_same_instant(files: Write) -> None:
    # 2024-05-03 08:30 in New York (EDT, UTC-4) is 12:30 UTC.
    path = files(
        "events.csv",
        """\
        ts,date,time,timezone,name,country,impact
        2024-05-03T12:30:00Z,,,,A,US,1
        2024-05-03T08:30:00-04:00,,,,B,US,1
        2024-05-03 12:30,,,,C,US,1
        2024-05-03 08:30,,,America/New_York,D,US,1
        ,2024-05-03,08:30,America/New_York,E,US,1
        ,2024-05-03,8:30am,America/New_York,F,US,1
        ,2024-05-03,12:30:00,,G,US,1
        ,2024-05-03,14:30,+02:00,H,US,1
        ,2024-05-03,12:30pm,UTC,I,US,1
        """,
    )

    parsed = news.parse_events(path)

    assert [p.value.name for p in parsed] == list("ABCDEFGHI")
    assert {p.value.ts for p in parsed} == {dt.datetime(2024, 5, 3, 12, 30, tzinfo=dt.UTC)}


def test_an_event_without_a_time_starts_at_midnight_in_its_zone(files: Write) -> None:
    path = files(
        "events.csv",
        """\
        date,time,timezone,name,country,impact
        2024-12-25,,Europe/London,Christmas Day,GB,holiday
        2024-07-04,All Day,America/New_York,Independence Day,US,holiday
        2024-01-01,,,New Year's Day,JP,holiday
        """,
    )

    assert [p.value.ts for p in news.parse_events(path)] == [
        dt.datetime(2024, 12, 25, 0, 0, tzinfo=dt.UTC),  # GMT in winter
        dt.datetime(2024, 7, 4, 4, 0, tzinfo=dt.UTC),  # EDT
        dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC),  # no zone: UTC
    ]


def test_json_numbers_are_kept_as_they_were_written(files: Write) -> None:
    path = files(
        "events.json",
        '[{"ts": "2024-05-03T12:30:00Z", "name": "PMI", "country": "us", "currency": "usd",'
        ' "impact": 3, "actual": 50.90, "forecast": 50, "previous": "49.2"}]',
    )

    [parsed] = news.parse_events(path)

    event = parsed.value
    assert (event.country, event.currency, event.impact) == ("US", "USD", 3)
    assert (event.actual, event.forecast, event.previous) == ("50.90", "50", "49.2")
    assert event.surprise == Decimal("0.9")
