"""Queries over the seeded articles and events (tests/news/conftest.py), on both engines.

Every expected answer is worked by hand from the seed's instants, listed in the conftest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import foliodb
from foliodb.errors import InputError


def urls(db: foliodb.Database, **query: object) -> list[str]:
    return [a.url.rsplit("/", 1)[1] for a in db.news.articles(**query)]  # type: ignore[arg-type]


def names(db: foliodb.Database, **query: object) -> list[str]:
    return [f"{e.country} {e.name}" for e in db.news.events(**query)]  # type: ignore[arg-type]


# --- articles -----------------------------------------------------------------------------------
def test_articles_come_newest_first_with_their_symbols_and_utc_instants(
    seeded: foliodb.Database,
) -> None:
    articles = seeded.news.articles()

    assert [(a.url, a.published_at, a.symbols) for a in articles] == [
        ("https://news.test/a5", dt.datetime(2024, 5, 3, 10, 0, tzinfo=dt.UTC), ("AAPL",)),
        ("https://news.test/a1", dt.datetime(2024, 5, 3, 0, 30, tzinfo=dt.UTC), ("AAPL",)),
        ("https://news.test/a2", dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC), ("AAPL", "MSFT")),
        ("https://news.test/a4", dt.datetime(2024, 5, 1, 0, 0, tzinfo=dt.UTC), ()),
        ("https://news.test/a3", dt.datetime(2024, 4, 30, 23, 59, 59, tzinfo=dt.UTC), ("XOM",)),
    ]


def test_articles_about_a_symbol_ignore_its_case(seeded: foliodb.Database) -> None:
    assert urls(seeded, symbol="AAPL") == ["a5", "a1", "a2"]
    assert urls(seeded, symbol="msft") == ["a2"]
    assert urls(seeded, symbol="NVDA") == []


def test_a_date_range_covers_whole_utc_days(seeded: foliodb.Database) -> None:
    # a3 is one second before 2024-05-01 UTC; a1 is published on 2024-05-03 UTC.
    assert urls(seeded, start="2024-05-01", end="2024-05-01") == ["a2", "a4"]
    assert urls(seeded, start=dt.date(2024, 5, 1), end=dt.date(2024, 5, 3)) == [
        "a5",
        "a1",
        "a2",
        "a4",
    ]


def test_date_time_bounds_are_exact_and_included(seeded: foliodb.Database) -> None:
    # 2024-05-02T20:30-04:00 is a1's own instant; 10:00Z is a5's.
    assert urls(seeded, end="2024-05-02T20:30:00-04:00") == ["a1", "a2", "a4", "a3"]
    assert urls(seeded, start=dt.datetime(2024, 5, 3, 10, 0, tzinfo=dt.UTC)) == ["a5"]
    assert urls(seeded, start="2024-05-03T10:00:00.000001Z") == []


def test_source_matches_whole_ignoring_case(seeded: foliodb.Database) -> None:
    assert urls(seeded, source="JOURNAL") == ["a4", "a3"]
    assert urls(seeded, source="Wir") == []


def test_title_search_ignores_case_and_takes_percent_literally(seeded: foliodb.Database) -> None:
    assert urls(seeded, search="apple") == ["a5", "a1"]
    # As a LIKE pattern "100%" would also match "1000 units" in a5.
    assert urls(seeded, search="100%") == ["a2"]


def test_the_limit_keeps_the_newest(seeded: foliodb.Database) -> None:
    assert urls(seeded, limit=2) == ["a5", "a1"]
    assert urls(seeded, symbol="AAPL", start="2024-05-02", limit=1) == ["a5"]


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [
        ({"start": "May 1st"}, "start", "May 1st"),
        ({"start": "2024-05-02", "end": "2024-05-01"}, "end", "2024-05-01"),
        ({"limit": -1}, "limit", "-1"),
    ],
)
def test_a_bad_article_query_names_the_argument(
    seeded: foliodb.Database, query: dict[str, object], field: str, value: str
) -> None:
    with pytest.raises(InputError) as caught:
        seeded.news.articles(**query)  # type: ignore[arg-type]
    [problem] = caught.value.problems
    assert (problem.field, problem.value) == (field, value)


# --- events -------------------------------------------------------------------------------------
def test_events_come_in_time_order_at_their_utc_instants(seeded: foliodb.Database) -> None:
    events = seeded.news.events()

    assert [(e.ts, e.country, e.name, e.impact) for e in events] == [
        (dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.UTC), "US", "ISM Manufacturing PMI", 2),
        (dt.datetime(2024, 5, 3, 12, 30, tzinfo=dt.UTC), "US", "Non-Farm Employment Change", 4),
        (dt.datetime(2024, 5, 3, 12, 30, tzinfo=dt.UTC), "US", "Unemployment Rate", 3),
        (dt.datetime(2024, 5, 5, 23, 0, tzinfo=dt.UTC), "GB", "Spring Bank Holiday", 1),
        (dt.datetime(2024, 5, 10, 12, 30, tzinfo=dt.UTC), "CA", "Employment Change", 4),
        (dt.datetime(2024, 6, 6, 12, 15, tzinfo=dt.UTC), "EU", "Main Refinancing Rate", 4),
    ]


def test_events_keep_the_published_strings_and_state_the_surprise_exactly(
    seeded: foliodb.Database,
) -> None:
    found = {e.name: e for e in seeded.news.events()}

    nfp, jobless, canada = (
        found["Non-Farm Employment Change"],
        found["Unemployment Rate"],
        found["Employment Change"],
    )
    assert (nfp.actual, nfp.forecast, nfp.previous) == ("175K", "243K", "315K")
    assert (nfp.actual_value, nfp.forecast_value) == (Decimal(175000), Decimal(243000))
    assert nfp.surprise == Decimal(-68000)
    assert jobless.surprise == Decimal("0.1")  # 3.9% - 3.8%, not 0.10000000000000009
    assert canada.previous_value == Decimal(-2200)
    assert canada.surprise == Decimal(71600)
    assert found["Main Refinancing Rate"].surprise == 0
    assert found["Spring Bank Holiday"].surprise is None


def test_events_filter_by_country_currency_and_name(seeded: foliodb.Database) -> None:
    assert names(seeded, country="us") == [
        "US ISM Manufacturing PMI",
        "US Non-Farm Employment Change",
        "US Unemployment Rate",
    ]
    assert names(seeded, currency="eur") == ["EU Main Refinancing Rate"]
    # "Unemployment" contains "employment" too.
    assert names(seeded, name="EMPLOYMENT") == [
        "US Non-Farm Employment Change",
        "US Unemployment Rate",
        "CA Employment Change",
    ]


def test_a_minimum_impact_is_a_number_or_a_word(seeded: foliodb.Database) -> None:
    medium_and_up = [
        "US Non-Farm Employment Change",
        "US Unemployment Rate",
        "CA Employment Change",
        "EU Main Refinancing Rate",
    ]
    assert names(seeded, min_impact=3) == medium_and_up
    assert names(seeded, min_impact="medium") == medium_and_up
    assert names(seeded, min_impact="HIGH") == [
        "US Non-Farm Employment Change",
        "CA Employment Change",
        "EU Main Refinancing Rate",
    ]
    assert len(seeded.news.events(min_impact="holiday")) == 6


def test_event_dates_are_utc_days(seeded: foliodb.Database) -> None:
    # The UK holiday starts at midnight London time, 23:00 UTC the day before.
    assert names(seeded, start="2024-05-03", end="2024-05-05") == [
        "US Non-Farm Employment Change",
        "US Unemployment Rate",
        "GB Spring Bank Holiday",
    ]
    assert names(seeded, start="2024-05-06", end="2024-05-06") == []
    assert names(seeded, start="2024-05-04", limit=2) == [
        "GB Spring Bank Holiday",
        "CA Employment Change",
    ]


@pytest.mark.parametrize("impact", [0, 5, "extreme"])
def test_an_impact_outside_the_scale_is_refused(seeded: foliodb.Database, impact: object) -> None:
    with pytest.raises(InputError) as caught:
        seeded.news.events(min_impact=impact)  # type: ignore[arg-type]
    [problem] = caught.value.problems
    assert (problem.field, problem.value) == ("min_impact", str(impact))
