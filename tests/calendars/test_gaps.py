"""`db.calendars.gaps`: expected bars without a bar, on SQLite and PostgreSQL.

Every expected answer is counted by hand from the sessions (XNYS 09:30-16:00 New York, 13:00
on Black Friday; XHKG 09:30-12:00 and 13:00-16:00 Hong Kong; XTKS 09:00-11:30 and
12:30-15:30 Tokyo from 2024-11-05).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import foliodb
from foliodb.errors import InputError, NotFoundError
from foliodb.services.calendars import Gap
from tests.calendars.builders import (
    EXCHANGE_CALENDARS_WARNINGS,
    add_bars,
    add_daily_bars,
    add_security,
    minutes,
    utc,
)

pytestmark = EXCHANGE_CALENDARS_WARNINGS

#: XNYS sessions of November 2023: every weekday but Thanksgiving (the 23rd).
NOVEMBER_2023 = [
    f"2023-11-{day:02d}"
    for day in (1, 2, 3, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 20, 21, 22, 24, 27, 28, 29, 30)
]


@pytest.fixture
def nyse(db: foliodb.Database) -> foliodb.Database:
    db.calendars.seed(["XNYS"], "2023-10-01", "2023-12-31")
    add_security(db, "ABC", "XNYS")
    return db


def test_daily_gaps_are_runs_of_sessions_without_a_bar(nyse: foliodb.Database) -> None:
    holes = {"2023-11-08", "2023-11-21", "2023-11-22", "2023-11-24"}
    add_daily_bars(nyse, "ABC", [d for d in NOVEMBER_2023 if d not in holes])
    add_daily_bars(nyse, "ABC", ["2023-11-23"])  # a bar on Thanksgiving: not expected
    report = nyse.calendars.gaps("ABC", "1d")
    assert (report.exchange, report.start, report.end) == (
        "XNYS",
        dt.date(2023, 11, 1),
        dt.date(2023, 11, 30),
    )
    assert (report.expected, report.present, report.missing) == (21, 17, 4)
    assert report.unexpected == 1
    # Thanksgiving is not expected, so the 21st, 22nd and 24th are one run.
    assert report.gaps == (
        Gap(dt.date(2023, 11, 8), dt.date(2023, 11, 8), 1),
        Gap(dt.date(2023, 11, 21), dt.date(2023, 11, 24), 3),
    )


def test_an_explicit_span_counts_sessions_before_the_first_bar(nyse: foliodb.Database) -> None:
    add_daily_bars(nyse, "ABC", NOVEMBER_2023[2:])
    report = nyse.calendars.gaps("ABC", "1d", start="2023-10-30", end="2023-11-30")
    assert report.gaps == (Gap(dt.date(2023, 10, 30), dt.date(2023, 11, 2), 4),)
    assert report.expected == 23


def test_minute_gaps_stop_at_an_early_close(nyse: foliodb.Database) -> None:
    wednesday = minutes("2023-11-22T14:30", "2023-11-22T20:59")  # 09:30-15:59 EST
    friday = minutes("2023-11-24T14:30", "2023-11-24T17:59")  # 09:30-12:59: closes at 13:00
    hole = set(minutes("2023-11-22T15:00", "2023-11-22T15:04"))
    add_bars(nyse, "ABC", "1m", [ts for ts in wednesday if ts not in hole] + friday)
    add_bars(nyse, "ABC", "1m", [utc("2023-11-24T18:00")])  # after the early close
    report = nyse.calendars.gaps("ABC", "1m", start="2023-11-22", end="2023-11-24")
    assert report.expected == 390 + 210
    assert (report.missing, report.unexpected) == (5, 1)
    assert report.gaps == (Gap(utc("2023-11-22T15:00"), utc("2023-11-22T15:04"), 5),)
    assert (report.start, report.end) == (utc("2023-11-22T14:30"), utc("2023-11-24T17:59"))


def test_the_default_span_runs_from_the_first_to_the_last_bar(nyse: foliodb.Database) -> None:
    # Bars from 10:00 to 11:00 only: the rest of the session is outside the span.
    add_bars(nyse, "ABC", "1m", minutes("2023-11-22T15:00", "2023-11-22T16:00", step=1))
    report = nyse.calendars.gaps("ABC", "1m")
    assert (report.expected, report.missing, report.gaps) == (61, 0, ())
    assert (report.start, report.end) == (utc("2023-11-22T15:00"), utc("2023-11-22T16:00"))


def test_a_lunch_break_is_not_a_gap(db: foliodb.Database) -> None:
    db.calendars.seed(["XHKG"], "2024-02-01", "2024-02-29")
    add_security(db, "HK1", "XHKG")
    morning = minutes("2024-02-08T09:30+08:00", "2024-02-08T11:59+08:00")
    afternoon = minutes("2024-02-08T13:00+08:00", "2024-02-08T15:59+08:00")
    add_bars(db, "HK1", "1m", morning + afternoon)
    whole = db.calendars.gaps("HK1", "1m", start="2024-02-08", end="2024-02-08")
    assert (whole.expected, whole.missing, whole.gaps) == (330, 0, ())

    add_security(db, "HK2", "XHKG")
    around_lunch = {utc("2024-02-08T03:58"), utc("2024-02-08T03:59"), utc("2024-02-08T05:00")}
    add_bars(db, "HK2", "1m", [ts for ts in morning + afternoon if ts not in around_lunch])
    holed = db.calendars.gaps("HK2", "1m", start="2024-02-08", end="2024-02-08")
    # 11:58 and 11:59, then 13:00: adjacent among expected minutes, so one run of three.
    assert holed.gaps == (Gap(utc("2024-02-08T03:58"), utc("2024-02-08T05:00"), 3),)


def test_hourly_bars_are_clock_hours_in_utc_and_the_break_is_not_a_gap(
    db: foliodb.Database,
) -> None:
    db.calendars.seed(["XTKS"], "2024-11-01", "2024-11-30")
    add_security(db, "7203", "XTKS")
    # 09:00-11:30 and 12:30-15:30 JST: bars at 00:00 to 06:00 UTC, 03:00 holding 12:30-12:59.
    # The 11:30-12:30 break leaves no hour without trading: seven bars; 03:00 is missing.
    add_bars(db, "7203", "1h", [utc(f"2024-11-05T{t}") for t in ("00:00", "01:00", "02:00")])
    add_bars(db, "7203", "1h", [utc(f"2024-11-05T{t}") for t in ("04:00", "05:00", "06:00")])
    report = db.calendars.gaps("7203", "1h", start="2024-11-05", end="2024-11-05")
    assert (report.expected, report.unexpected) == (7, 0)
    assert report.gaps == (Gap(utc("2024-11-05T03:00"), utc("2024-11-05T03:00"), 1),)


def test_bars_resampled_from_complete_minutes_have_no_gaps(nyse: foliodb.Database) -> None:
    """Coarser bars made the way roll-ups make them (pandas resample of the minute bars)
    are all expected, at every interval, on a regular day and on an early close."""
    trading = minutes("2023-11-22T14:30", "2023-11-22T20:59") + minutes(
        "2023-11-24T14:30", "2023-11-24T17:59"
    )
    for interval, rule in (("5m", "5min"), ("15m", "15min"), ("1h", "1h")):
        counts = pd.Series(1, index=pd.DatetimeIndex(trading)).resample(rule).sum()
        add_bars(nyse, "ABC", interval, [ts.to_pydatetime() for ts in counts[counts > 0].index])
        report = nyse.calendars.gaps("ABC", interval, start="2023-11-22", end="2023-11-24")
        assert (report.missing, report.unexpected) == (0, 0), interval
        assert report.present == report.expected == (counts > 0).sum(), interval
    hourly = nyse.calendars.gaps("ABC", "1h", start="2023-11-22", end="2023-11-24")
    assert hourly.expected == 7 + 4  # 14:00-20:00 UTC; 14:00-17:00 UTC on Black Friday


def test_a_symbol_without_a_security_needs_an_exchange(db: foliodb.Database) -> None:
    db.calendars.seed(["XNYS"], "2023-10-01", "2023-12-31")
    add_daily_bars(db, "RAW", NOVEMBER_2023[:3])
    with pytest.raises(InputError, match="RAW is not a known security; name its exchange"):
        db.calendars.gaps("RAW", "1d")
    report = db.calendars.gaps("RAW", "1d", exchange="XNYS")
    assert (report.expected, report.missing) == (3, 0)
    add_security(db, "NOX", None)
    with pytest.raises(InputError, match="NOX has no exchange in securities"):
        db.calendars.gaps("NOX", "1d", start="2023-11-01", end="2023-11-30")


def test_unknown_symbols_intervals_and_contradicting_exchanges_are_refused(
    nyse: foliodb.Database,
) -> None:
    with pytest.raises(NotFoundError, match="unknown symbol ZZZ"):
        nyse.calendars.gaps("ZZZ", "1d")
    with pytest.raises(InputError, match="is not a bar interval"):
        nyse.calendars.gaps("ABC", "2m")
    with pytest.raises(InputError, match="ABC is listed on XNYS"):
        nyse.calendars.gaps("ABC", "1d", exchange="XLON")
    with pytest.raises(InputError, match="ABC has no 1d bars to take the span from"):
        nyse.calendars.gaps("ABC", "1d")
