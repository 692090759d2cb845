"""Dates and instants of the calendar service: parsing what callers give (dates, ISO text,
naive or aware datetimes) and the midnights and zones that spans are cut at."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from foliodb.errors import InputError, InputProblem
from foliodb.store.base import utcnow

if TYPE_CHECKING:
    import pandas as pd


def parse_day(value: dt.date | str | None, field: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            InputProblem("is not a date", field=field, value=value, expected="YYYY-MM-DD")
        ) from None


def required_day(value: dt.date | str, field: str) -> dt.date:
    day = parse_day(value, field)
    assert day is not None
    return day


def parse_instant(value: dt.datetime | str | None, field: str) -> dt.datetime:
    """An aware UTC datetime from an aware or naive (UTC) datetime or ISO text; None: now."""
    if value is None:
        return utcnow()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(
                InputProblem(
                    "is not a date and time",
                    field=field,
                    value=str(value),
                    expected="ISO 8601, e.g. 2024-03-08T14:30 (UTC) or 2024-03-08T09:30-05:00",
                )
            ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def today() -> dt.date:
    return utcnow().date()


def a_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def midnight(day: dt.date, later: int = 0) -> dt.datetime:
    """00:00 UTC of `day`; with `later`, the last microsecond before `later` days after it."""
    return local_midnight(day, dt.UTC, later)


def local_midnight(day: dt.date, zone: dt.tzinfo, later: int = 0) -> dt.datetime:
    """00:00 of `day` in `zone` as UTC; with `later`, the last microsecond before 00:00
    `later` days after it."""
    start = dt.datetime.combine(day + dt.timedelta(days=later), dt.time(), zone)
    return (start - dt.timedelta(microseconds=1 if later else 0)).astimezone(dt.UTC)


def as_datetime(value: pd.Timestamp | None) -> dt.datetime | None:
    return None if value is None else value.to_pydatetime()
