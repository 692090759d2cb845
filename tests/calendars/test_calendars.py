"""`db.calendars`: seeding from exchange_calendars into the database, and every query
answered from the stored rows, on SQLite and PostgreSQL.

Expected instants are worked by hand from the exchanges' published hours (XNYS 09:30-16:00
New York, XHKG 09:30-12:00 and 13:00-16:00 Hong Kong, XTKS 09:00-11:30 and 12:30-15:00
Tokyo, 15:30 from 2024-11-05, ...) unless a test says it compares with exchange_calendars.
"""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals  # type: ignore[import-untyped]
import pandas as pd
import pytest
import sqlalchemy as sa

import foliodb
from foliodb.errors import InputError
from foliodb.services.calendars import DEFAULT_EXCHANGES
from foliodb.store.tables_calendars import ExchangeRow, MarketHoursRow, TradingHolidayRow
from tests.calendars.builders import EXCHANGE_CALENDARS_WARNINGS, utc

pytestmark = EXCHANGE_CALENDARS_WARNINGS

#: Covers XNYS' Thanksgiving 2023 (closed) and Black Friday (13:00 close), the XHKG half days
#: of Lunar New Year's Eve 2024, XTKS' longer day from 2024-11-05 and DST changes both ways.
WINDOW = (dt.date(2023, 11, 1), dt.date(2024, 11, 30))


def _seed(db: foliodb.Database, *codes: str) -> None:
    db.calendars.seed(list(codes), *WINDOW)


def _row_counts(db: foliodb.Database) -> tuple[int, int, int]:
    with db.engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (ExchangeRow, MarketHoursRow, TradingHolidayRow)
        )


# --- seeding ------------------------------------------------------------------------------------
def test_every_default_exchange_agrees_with_exchange_calendars(db: foliodb.Database) -> None:
    results = db.calendars.seed(None, *WINDOW)
    assert [r.exchange for r in results] == list(DEFAULT_EXCHANGES)
    for code in DEFAULT_EXCHANGES:
        reference = xcals.get_calendar(code, start="2023-11-01", end="2024-11-30").schedule
        ours = db.calendars.sessions(code, *WINDOW)
        assert list(ours.index) == list(reference.index), code
        for column in ("open", "break_start", "break_end", "close"):
            mine = pd.DatetimeIndex(ours[f"{column}_utc"]).as_unit("ns")
            theirs = pd.DatetimeIndex(reference[column]).as_unit("ns")
            assert ((mine == theirs) | (mine.isna() & theirs.isna())).all(), (code, column)
    summary = {r.exchange: r for r in results}
    assert summary["XNYS"].timezone == "America/New_York"
    assert summary["XTKS"].hours_periods == 2
    # Only Lunar New Year's Eve 2024-02-09: Christmas and New Year's Eves 2023 were Sundays.
    assert summary["XHKG"].early_closes == 1


def test_black_friday_closes_early_and_thanksgiving_is_closed(db: foliodb.Database) -> None:
    _seed(db, "XNYS")
    week = db.calendars.sessions("XNYS", "2023-11-20", "2023-11-24")
    assert [d.date() for d in week.index] == [
        dt.date(2023, 11, 20),
        dt.date(2023, 11, 21),
        dt.date(2023, 11, 22),
        dt.date(2023, 11, 24),
    ]
    friday = week.loc["2023-11-24"]
    assert friday["kind"] == "EARLY_CLOSE"
    assert friday["open_utc"] == pd.Timestamp("2023-11-24T14:30Z")
    assert friday["close_utc"] == pd.Timestamp("2023-11-24T18:00Z")  # 13:00 EST
    assert friday["close_local"].isoformat() == "2023-11-24T13:00:00-05:00"
    assert week.loc["2023-11-22", "kind"] == "REGULAR"
    assert week.loc["2023-11-22", "close_utc"] == pd.Timestamp("2023-11-22T21:00Z")
    assert pd.isna(friday["break_start_utc"])
    assert week.attrs == {"exchange": "XNYS", "timezone": "America/New_York"}


def test_tokyo_closes_at_1530_from_2024_11_05(db: foliodb.Database) -> None:
    _seed(db, "XTKS")
    days = db.calendars.sessions("XTKS", "2024-11-01", "2024-11-05")
    assert [d.date() for d in days.index] == [dt.date(2024, 11, 1), dt.date(2024, 11, 5)]
    assert days["close_utc"].tolist() == [
        pd.Timestamp("2024-11-01T06:00Z"),  # 15:00 JST
        pd.Timestamp("2024-11-05T06:30Z"),  # 15:30 JST
    ]
    assert days["kind"].tolist() == ["REGULAR", "REGULAR"]  # a new period, not an exception
    assert days["break_start_utc"].tolist() == [
        pd.Timestamp("2024-11-01T02:30Z"),
        pd.Timestamp("2024-11-05T02:30Z"),
    ]
    with db.engine.connect() as connection:
        periods = connection.execute(
            sa.select(MarketHoursRow.valid_from, MarketHoursRow.close_time)
            .where(MarketHoursRow.exchange == "XTKS")
            .order_by(MarketHoursRow.valid_from)
        ).all()
    assert [tuple(p) for p in periods] == [
        (dt.date(2023, 11, 1), dt.time(15, 0)),
        (dt.date(2024, 11, 5), dt.time(15, 30)),
    ]


def test_seeding_again_replaces_the_exchange_rows(db: foliodb.Database) -> None:
    _seed(db, "XNYS", "XHKG")
    once = _row_counts(db)
    _seed(db, "XNYS", "XHKG")
    assert _row_counts(db) == once
    db.calendars.seed(["xnys"], "2024-01-01", "2024-06-30")  # any case; a smaller window
    (xnys,) = [e for e in db.calendars.exchanges() if e.code == "XNYS"]
    assert (xnys.window_start, xnys.window_end) == (dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    assert (xnys.first_session, xnys.last_session) == (dt.date(2024, 1, 2), dt.date(2024, 6, 28))
    assert _row_counts(db)[2] < once[2]
    with pytest.raises(InputError, match="outside the seeded calendar of XNYS"):
        db.calendars.sessions("XNYS", "2023-11-01", "2023-11-30")


def test_an_unknown_exchange_is_refused_listing_the_known_ones(db: foliodb.Database) -> None:
    with pytest.raises(InputError) as caught:
        db.calendars.seed(["XNYS", "NOPE"], *WINDOW)
    message = str(caught.value)
    assert "'NOPE': is not an exchange foliodb knows" in message
    assert "XNYS" in message
    assert "XTKS" in message
    assert _row_counts(db) == (0, 0, 0)  # nothing seeded: the names are checked first
    with pytest.raises(InputError, match="NOPE"):
        db.calendars.is_open("NOPE", "2024-01-02T15:00Z")


def test_a_query_seeds_an_unseeded_exchange_over_the_default_window(
    db: foliodb.Database,
) -> None:
    assert db.calendars.exchanges() == []
    # 2000-01-03, 10:00 in New York: the first session of the default window.
    assert db.calendars.is_open("XNYS", "2000-01-03T15:00Z")
    (xnys,) = db.calendars.exchanges()
    today = dt.datetime.now(dt.UTC).date()
    assert xnys.window_start == dt.date(2000, 1, 1)
    assert xnys.first_session == dt.date(2000, 1, 3)
    assert xnys.window_end in (today.replace(year=today.year + 1), today + dt.timedelta(days=365))
    assert xnys.name == "New York Stock Exchange"
    assert xnys.source.startswith("exchange_calendars ")
    # 9/11: closed from the 11th to the 14th of September 2001.
    assert db.calendars.next_open("XNYS", "2001-09-10T21:00Z") == utc("2001-09-17T13:30")
    # A first query before 2000 widens the window it seeds to cover itself.
    always = db.calendars.sessions("24/7", "1999-12-30", "1999-12-31")
    assert always["open_utc"].tolist() == [
        pd.Timestamp("1999-12-30T00:00Z"),
        pd.Timestamp("1999-12-31T00:00Z"),
    ]
    assert always["close_utc"].iloc[-1] == pd.Timestamp("2000-01-01T00:00Z")
    assert db.calendars.exchange("24/7").window_start == dt.date(1999, 12, 30)


# --- open, closed, next open --------------------------------------------------------------------
def test_new_york_is_open_from_its_open_until_just_before_its_close(
    db: foliodb.Database,
) -> None:
    _seed(db, "XNYS")
    is_open = db.calendars.is_open
    assert not is_open("XNYS", "2023-11-22T14:29:59Z")
    assert is_open("XNYS", "2023-11-22T14:30Z")  # 09:30 EST
    assert is_open("XNYS", "2023-11-22T09:30-05:00")  # the same instant, written locally
    naive = dt.datetime(2023, 11, 22, 20, 59)  # noqa: DTZ001  (naive on purpose: means UTC)
    assert is_open("XNYS", naive)
    assert not is_open("XNYS", "2023-11-22T21:00Z")  # 16:00: the close is not open
    assert not is_open("XNYS", "2023-11-23T15:00Z")  # Thanksgiving
    assert is_open("XNYS", "2023-11-24T17:59Z")
    assert not is_open("XNYS", "2023-11-24T18:00Z")  # Black Friday closes at 13:00
    assert not is_open("XNYS", "2023-11-25T15:00Z")  # Saturday


def test_the_next_open_skips_weekends_and_holidays(db: foliodb.Database) -> None:
    _seed(db, "XNYS", "XLON")
    next_open = db.calendars.next_open
    assert next_open("XNYS", "2023-11-22T21:00Z") == utc("2023-11-24T14:30")  # Thanksgiving
    assert next_open("XNYS", "2023-11-24T18:00Z") == utc("2023-11-27T14:30")  # a weekend
    assert next_open("XNYS", "2023-11-27T14:30Z") == utc("2023-11-28T14:30")  # strictly after
    # London: Good Friday, a weekend that starts summer time, Easter Monday; 08:00 BST.
    assert next_open("XLON", "2024-03-28T16:30Z") == utc("2024-04-02T07:00")
    assert db.calendars.previous_close("XLON", "2024-04-02T06:00Z") == utc("2024-03-28T16:30")


def test_opens_follow_daylight_saving_time_in_both_hemispheres(db: foliodb.Database) -> None:
    _seed(db, "XNYS", "XASX")
    # New York moves to EDT on Sunday 2024-03-10: 09:30 is 14:30 UTC on Friday, 13:30 on Monday.
    assert not db.calendars.is_open("XNYS", "2024-03-08T14:00Z")
    assert db.calendars.next_open("XNYS", "2024-03-08T21:00Z") == utc("2024-03-11T13:30")
    assert db.calendars.is_open("XNYS", "2024-03-11T14:00Z")
    # Sydney leaves AEDT on Sunday 2024-04-07: 10:00 is 23:00 UTC the day before, then 00:00.
    sessions = db.calendars.sessions("XASX", "2024-04-05", "2024-04-08")
    assert sessions["open_utc"].tolist() == [
        pd.Timestamp("2024-04-04T23:00Z"),
        pd.Timestamp("2024-04-08T00:00Z"),
    ]
    assert db.calendars.next_open("XASX", "2024-04-05T06:00Z") == utc("2024-04-08T00:00")


def test_hong_kong_is_closed_over_lunch_and_on_half_days_afternoons(
    db: foliodb.Database,
) -> None:
    _seed(db, "XHKG")
    status = db.calendars.status
    assert status("XHKG", "2024-02-08T11:59+08:00").state == "OPEN"
    lunch = status("XHKG", "2024-02-08T12:00+08:00")
    assert (lunch.is_open, lunch.state, lunch.session) == (False, "BREAK", dt.date(2024, 2, 8))
    assert lunch.break_end == utc("2024-02-08T05:00")  # 13:00 HKT
    assert lunch.next_close == utc("2024-02-08T08:00")
    assert status("XHKG", "2024-02-08T13:00+08:00").is_open
    # Lunar New Year's Eve closes at 12:00, no afternoon; closed until Wednesday the 14th.
    eve = status("XHKG", "2024-02-09T13:30+08:00")
    assert (eve.state, eve.session, eve.break_end) == ("CLOSED", None, None)
    assert eve.next_open == utc("2024-02-14T01:30")
    assert eve.next_session == dt.date(2024, 2, 14)
    assert eve.previous_close == utc("2024-02-09T04:00")
    minutes = db.calendars.session_minutes("XHKG", "2024-02-08", "2024-02-09")
    assert len(minutes) == 330 + 150


def test_instants_outside_the_seeded_window_are_refused(db: foliodb.Database) -> None:
    _seed(db, "XNYS")
    with pytest.raises(InputError, match="outside the seeded calendar of XNYS"):
        db.calendars.is_open("XNYS", "2025-06-02T15:00Z")
    with pytest.raises(InputError, match="no session opens after"):
        db.calendars.next_open("XNYS", "2024-11-29T19:00Z")  # the window's last close
    with pytest.raises(InputError, match="is not a date and time"):
        db.calendars.is_open("XNYS", "tomorrow")
