"""The pure calendar math (foliodb.analytics.sessions), checked against exchange_calendars
itself and against hand-worked examples. No database here."""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals  # type: ignore[import-untyped]
import numpy as np
import pandas as pd
import pytest

from foliodb.analytics import sessions
from tests.calendars.builders import EXCHANGE_CALENDARS_WARNINGS

YEAR = (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
pytestmark = EXCHANGE_CALENDARS_WARNINGS


def _reference(name: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    return xcals.get_calendar(name, start=pd.Timestamp(start), end=pd.Timestamp(end)).schedule


def _assert_same_schedule(rebuilt: pd.DataFrame, reference: pd.DataFrame) -> None:
    assert list(rebuilt.index) == list(reference.index)
    for column in sessions.TIMES:
        ours = pd.DatetimeIndex(rebuilt[column]).as_unit("ns")
        theirs = pd.DatetimeIndex(reference[column]).as_unit("ns")
        same = (ours == theirs) | (ours.isna() & theirs.isna())
        assert same.all(), f"{column}: {list(ours[~same][:3])} != {list(theirs[~same][:3])}"


@pytest.mark.parametrize(
    "name",
    [
        "CMES",  # opens at 17:00 the evening before, early closes on holidays
        "us_futures",  # opens at 18:00 the evening before
        "24/7",  # every day, closing at midnight at the end of the date
        "BVMF",  # late opens (Ash Wednesday)
        "XSGO",  # regular close changes twice a year
        "XHKG",  # a lunch break that early closes drop
    ],
)
def test_the_stored_form_rebuilds_exchange_calendars_schedule_exactly(name: str) -> None:
    start, end = YEAR
    tables = sessions.tables_from_exchange_calendars(name, start, end)
    rebuilt = sessions.build_schedule(tables.hours, tables.holidays, tables.timezone, start, end)
    _assert_same_schedule(rebuilt, _reference(name, start, end))
    assert tables.sessions == len(rebuilt)


def test_a_change_of_regular_hours_starts_a_new_period_on_its_first_day() -> None:
    tables = sessions.tables_from_exchange_calendars(
        "XTKS", dt.date(2024, 10, 1), dt.date(2024, 12, 31)
    )
    periods = tables.hours[["valid_from", "close_time", "break_start", "break_end"]]
    assert periods.to_dict("records") == [
        {
            "valid_from": dt.date(2024, 10, 1),
            "close_time": dt.time(15, 0),
            "break_start": dt.time(11, 30),
            "break_end": dt.time(12, 30),
        },
        {
            "valid_from": dt.date(2024, 11, 5),
            "close_time": dt.time(15, 30),
            "break_start": dt.time(11, 30),
            "break_end": dt.time(12, 30),
        },
    ]
    # A regular session of the new period is no exception.
    assert tables.holidays["kind"].eq("CLOSED").all()


def test_holidays_are_weekdays_without_a_session_and_keep_exchange_calendars_names() -> None:
    tables = sessions.tables_from_exchange_calendars(
        "XNYS", dt.date(2023, 11, 1), dt.date(2023, 12, 31)
    )
    rows = {row["date"]: row for row in tables.holidays.to_dict("records")}
    assert rows[dt.date(2023, 11, 23)]["kind"] == "CLOSED"
    assert rows[dt.date(2023, 11, 23)]["name"] == "Thanksgiving"
    assert rows[dt.date(2023, 11, 23)]["open_time"] is None
    black_friday = rows[dt.date(2023, 11, 24)]
    assert (black_friday["kind"], black_friday["open_time"], black_friday["close_time"]) == (
        "EARLY_CLOSE",
        dt.time(9, 30),
        dt.time(13, 0),
    )
    assert black_friday["name"] == "Black Friday"
    assert sorted(rows) == [
        dt.date(2023, 11, 23),
        dt.date(2023, 11, 24),
        dt.date(2023, 12, 25),
    ]  # weekends are not holidays: the weekmask covers them


@pytest.mark.parametrize(
    ("name", "start", "end", "period", "minutes"),
    [
        ("XTKS", "2024-11-01", "2024-11-08", "1h", 60),  # hours change on 2024-11-05
        ("XHKG", "2024-02-07", "2024-02-14", "5min", 5),  # lunch breaks, a half day
        ("XNYS", "2023-11-22", "2023-11-28", "15min", 15),  # Thanksgiving, an early close
        ("XNYS", "2023-11-22", "2023-11-28", "1h", 60),  # opens on the half hour
        ("XNYS", "2023-11-22", "2023-11-28", "1min", 1),
        ("XASX", "2024-04-03", "2024-04-09", "1h", 60),  # Sydney leaves summer time
        ("XBOM", "2024-03-04", "2024-03-08", "1h", 60),  # opens at 03:45 UTC
    ],
)
def test_bar_starts_are_the_labels_of_a_pandas_resample_of_the_trading_minutes(
    name: str, start: str, end: str, period: str, minutes: int
) -> None:
    """The bars foliodb's roll-ups make (pandas resample semantics) are the bars expected."""
    calendar = xcals.get_calendar(name, start="2023-01-01", end="2024-12-31")
    trading = calendar.trading_index(start, end, "1min", intervals=False)
    counts = pd.Series(1, index=trading).resample(period).sum()
    reference = counts[counts > 0].index
    schedule = calendar.schedule.loc[start:end]
    starts = sessions.bar_starts(schedule, minutes)
    assert list(starts) == list(pd.DatetimeIndex(reference).as_unit("ns"))


def test_hourly_bars_of_a_half_hour_open_start_on_the_hour_in_utc() -> None:
    """XNYS 2023-11-22, 09:30-16:00 EST (14:30-21:00 UTC): seven bars, 14:00 to 20:00 UTC,
    the first holding 14:30-14:59 only; XTKS 2024-11-05, 09:00-11:30 and 12:30-15:30 JST:
    00:00, 01:00, 02:00 UTC, then 03:00 (12:30-12:59 JST) to 06:00 UTC."""
    nyse = xcals.get_calendar("XNYS", start="2023-01-01", end="2024-12-31").schedule
    starts = sessions.bar_starts(nyse.loc["2023-11-22":"2023-11-22"], 60)
    assert list(starts) == list(pd.date_range("2023-11-22T14:00Z", periods=7, freq="h"))
    tokyo = xcals.get_calendar("XTKS", start="2023-01-01", end="2024-12-31").schedule
    starts = sessions.bar_starts(tokyo.loc["2024-11-05":"2024-11-05"], 60)
    assert list(starts) == list(pd.date_range("2024-11-05T00:00Z", periods=7, freq="h"))


def test_one_minute_bars_are_the_minutes_from_open_to_close_outside_breaks() -> None:
    """XHKG 2024-02-08: 09:30-12:00 and 13:00-16:00 HKT, 150 + 180 minutes; 2024-02-09 is
    a half day, 09:30-12:00 (150), with no break."""
    tables = sessions.tables_from_exchange_calendars(
        "XHKG", dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    )
    schedule = sessions.build_schedule(
        tables.hours, tables.holidays, tables.timezone, dt.date(2024, 2, 8), dt.date(2024, 2, 9)
    )
    starts = sessions.session_minutes(schedule)
    first_day = starts[starts < pd.Timestamp("2024-02-09", tz="UTC")]
    assert len(first_day) == 330
    assert len(starts) - len(first_day) == 150
    assert first_day[0] == pd.Timestamp("2024-02-08T01:30Z")
    assert pd.Timestamp("2024-02-08T03:59Z") in first_day  # 11:59 HKT, last of the morning
    assert pd.Timestamp("2024-02-08T04:00Z") not in first_day  # 12:00, the break
    assert pd.Timestamp("2024-02-08T05:00Z") in first_day  # 13:00, trading again
    assert first_day[-1] == pd.Timestamp("2024-02-08T07:59Z")  # 15:59; 16:00 is the close
    assert starts[-1] == pd.Timestamp("2024-02-09T03:59Z")


def test_missing_runs_are_consecutive_expected_entries_without_a_bar() -> None:
    expected = pd.DatetimeIndex(
        ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"]
    )
    present = pd.DatetimeIndex(["2024-01-02", "2024-01-08", "2024-01-12"])
    runs = sessions.missing_runs(expected, present)
    # The 5th and the 9th are not adjacent in `expected`: two runs. The 12th is not expected.
    assert runs.to_dict("list") == {
        "first_missing": [pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-09")],
        "last_missing": [pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-09")],
        "count": [3, 1],
    }
    assert sessions.missing_runs(expected, expected).empty
    everything = sessions.missing_runs(expected, present[:0])
    assert everything["count"].tolist() == [6]


def test_the_state_at_an_instant_names_the_surrounding_opens_and_closes() -> None:
    tables = sessions.tables_from_exchange_calendars(
        "XHKG", dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    )
    schedule = sessions.build_schedule(
        tables.hours, tables.holidays, tables.timezone, dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    )
    lunch = sessions.state_at(schedule, pd.Timestamp("2024-02-08T04:30Z"))
    assert lunch.state == "BREAK"
    assert lunch.session == dt.date(2024, 2, 8)
    assert lunch.break_end == pd.Timestamp("2024-02-08T05:00Z")
    assert lunch.next_close == pd.Timestamp("2024-02-08T08:00Z")
    assert lunch.next_open == pd.Timestamp("2024-02-09T01:30Z")
    assert lunch.previous_close == pd.Timestamp("2024-02-07T08:00Z")
    # After the half day of 2024-02-09: closed over Lunar New Year until the 14th.
    holiday = sessions.state_at(schedule, pd.Timestamp("2024-02-12T02:00Z"))
    assert (holiday.state, holiday.session) == ("CLOSED", None)
    assert holiday.next_open == pd.Timestamp("2024-02-14T01:30Z")
    assert holiday.next_session == dt.date(2024, 2, 14)
    assert holiday.previous_close == pd.Timestamp("2024-02-09T04:00Z")
    assert np.isin(["OPEN"], [sessions.state_at(schedule, pd.Timestamp("2024-02-14T01:30Z")).state])
