"""Instants of bars as the repository handles them: int64 microseconds since the epoch (UTC)
in arrays, aware datetimes one by one, and the text SQLAlchemy stores on SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import bindparam

from foliodb.columnar.bars import Array
from foliodb.store.base import UtcDateTime

US = 1_000_000
DAY_US = 86_400 * US
PG_EPOCH_US = 946_684_800 * US  # PostgreSQL counts binary timestamps from 2000-01-01
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_datetime(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(us))


def to_us(when: dt.datetime) -> int:
    delta = when.astimezone(dt.UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def sqlite_text(us: Array) -> tuple[list[str], list[str]]:
    """Each instant as SQLAlchemy stores a DateTime on SQLite ('YYYY-MM-DD HH:MM:SS.ffffff'),
    in two parts (date, time) joined by SQLite: the parts repeat, so only the distinct ones
    are formatted in Python."""
    days, times = np.divmod(np.asarray(us, dtype=np.int64), DAY_US)
    day_values, day_codes = np.unique(days, return_inverse=True)
    time_values, time_codes = np.unique(times, return_inverse=True)
    day_text = np.array(
        [f"{to_datetime(int(d) * DAY_US):%Y-%m-%d} " for d in day_values], dtype=object
    )
    time_text = np.array([f"{to_datetime(int(t)):%H:%M:%S.%f}" for t in time_values], dtype=object)
    return day_text[day_codes].tolist(), time_text[time_codes].tolist()


def sqlite_us(values: Sequence[str]) -> Array:
    return np.array(values, dtype="datetime64[us]").astype(np.int64)


def sqlite_instant(us: int) -> str:
    return f"{to_datetime(us):%Y-%m-%d %H:%M:%S.%f}"


def as_us(value: Any) -> int:
    """An aggregate's datetime: aware on PostgreSQL, text on SQLite (no type on min/max)."""
    if isinstance(value, dt.datetime):
        return to_us(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return int(sqlite_us([str(value)])[0])


def utc_param(name: str) -> Any:
    return bindparam(name, type_=UtcDateTime())
