"""Importing economic calendar events: deduplicated on (ts, name, country), later imports fill
or correct the figures, counts inserted/updated/unchanged (both engines)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import foliodb
from foliodb.services.news import NewsImportResult
from tests.news.conftest import EXAMPLES, Write, contents

HEADER = "date,time,timezone,name,country,currency,impact,actual,forecast,previous\n"


def counts(result: NewsImportResult) -> tuple[int, int, int, int]:
    return (result.rows, result.inserted, result.updated, result.unchanged)


def figures(db: foliodb.Database) -> list[tuple[str, str | None, str | None, str | None, int]]:
    return [(e.name, e.actual, e.forecast, e.previous, e.impact) for e in db.news.events()]


def test_a_later_import_fills_and_corrects_figures_but_an_empty_value_erases_nothing(
    db: foliodb.Database, files: Write
) -> None:
    week_ahead = files(
        "week-ahead.csv",
        HEADER
        + "2024-05-03,08:30,America/New_York,Non-Farm Employment Change,US,USD,high,,243K,315K\n"
        + "2024-05-03,08:30,America/New_York,Unemployment Rate,US,USD,medium,,3.8%,3.8%\n",
    )
    # The release: NFP's actual published and its previous revised; the forecast column empty.
    release = files(
        "release.jsonl",
        """\
        {"ts": "2024-05-03T12:30:00Z", "name": "Non-Farm Employment Change", "country": "US", "impact": 4, "actual": "175K", "previous": "303K"}
        {"ts": "2024-05-03T12:30:00Z", "name": "Unemployment Rate", "country": "US", "impact": "medium"}
        """,  # noqa: E501
    )

    planned = db.news.import_events(week_ahead)
    released = db.news.import_events(release)
    again = db.news.import_events(release)

    assert counts(planned) == (2, 2, 0, 0)
    assert counts(released) == (2, 0, 1, 1)
    assert counts(again) == (2, 0, 0, 2)
    [nfp, jobless] = db.news.events()
    assert (nfp.actual, nfp.forecast, nfp.previous, nfp.currency) == ("175K", "243K", "303K", "USD")
    assert (nfp.actual_value, nfp.previous_value, nfp.surprise) == (
        Decimal(175000),
        Decimal(303000),
        Decimal(-68000),
    )
    assert (jobless.actual, jobless.forecast, jobless.surprise) == (None, "3.8%", None)


def test_a_new_impact_or_currency_is_a_correction(db: foliodb.Database, files: Write) -> None:
    db.news.import_events(files("a.csv", HEADER + "2024-05-01,10:00,UTC,PMI,US,,low,,,\n"))

    result = db.news.import_events(
        files("b.csv", HEADER + "2024-05-01,10:00,UTC,PMI,US,USD,3,,,\n")
    )

    assert counts(result) == (1, 0, 1, 0)
    [pmi] = db.news.events()
    assert (pmi.currency, pmi.impact) == ("USD", 3)


def test_files_and_records_of_one_import_apply_in_order(db: foliodb.Database, files: Write) -> None:
    # One file repeating an event as it is filled in, then a second file correcting it.
    log = files(
        "log.csv",
        HEADER
        + "2024-05-03,08:30,America/New_York,Non-Farm Employment Change,US,USD,high,,243K,\n"
        + "2024-05-03,08:30,America/New_York,Non-Farm Employment Change,US,USD,high,175K,,\n",
    )
    fix = files(
        "fix.json",
        """\
        [{"ts": "2024-05-03T08:30:00-04:00", "name": "Non-Farm Employment Change",
          "country": "US", "impact": "high", "forecast": "240K"}]
        """,
    )

    result = db.news.import_events([log, fix])

    assert counts(result) == (3, 1, 0, 0)  # one event, inserted in its final state
    assert figures(db) == [("Non-Farm Employment Change", "175K", "240K", None, 4)]


def test_the_same_name_in_another_country_or_at_another_time_is_another_event(
    db: foliodb.Database, files: Write
) -> None:
    result = db.news.import_events(
        files(
            "cpi.csv",
            HEADER
            + "2024-05-15,08:30,America/New_York,CPI m/m,US,USD,high,0.3%,0.4%,0.4%\n"
            + "2024-05-15,08:30,America/Toronto,CPI m/m,CA,CAD,high,0.5%,0.5%,0.6%\n"
            + "2024-06-12,08:30,America/New_York,CPI m/m,US,USD,high,0.0%,0.1%,0.3%\n",
        )
    )

    assert counts(result) == (3, 3, 0, 0)
    assert [(e.ts.date(), e.country, e.surprise) for e in db.news.events(name="cpi")] == [
        (dt.date(2024, 5, 15), "CA", 0),
        (dt.date(2024, 5, 15), "US", Decimal("-0.1")),
        (dt.date(2024, 6, 12), "US", Decimal("-0.1")),
    ]


def test_the_example_events_file_imports_whole_and_exactly_once(db: foliodb.Database) -> None:
    first = db.news.import_events(EXAMPLES / "events.csv")
    before = contents(db)
    again = db.news.import_events(EXAMPLES / "events.csv")

    assert counts(first) == (11, 11, 0, 0)
    assert counts(again) == (11, 0, 0, 11)
    assert contents(db) == before
    [nfp] = db.news.events(start="2025-02-07", end="2025-02-07")
    # 08:30 in New York is 13:30 UTC in February (EST).
    assert (nfp.ts, nfp.actual, nfp.forecast) == (
        dt.datetime(2025, 2, 7, 13, 30, tzinfo=dt.UTC),
        None,
        "170K",
    )
