"""Trading sessions as pandas frames: the stored form of a calendar derived from
exchange_calendars, schedules rebuilt from it, expected bar starts and runs of missing bars.

Conventions (docs/calendars.md):

- A calendar is stored as *regular hours by period* plus *exceptions*. Hours are local
  wall-clock times, counted in seconds from midnight of the session date (a futures open at
  17:00 the evening before is -7 h, a close at midnight ending the day is 24 h).
- A session runs over ``[open, close)`` in UTC; a break ``[break_start, break_end)`` inside it
  is closed. A bar starting at ``ts`` covers ``[ts, ts + interval)``.
- Bars of ``n`` minutes are aligned on multiples of ``n`` minutes in UTC, as foliodb's
  roll-ups and pandas' ``resample`` label them, and a bar is expected when it holds at least
  one trading minute: one-minute bars are the trading minutes; XNYS 1h bars start at 14:00
  UTC in winter (09:00 EST; the first holds 09:30-09:59).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

REGULAR = "REGULAR"
CLOSED = "CLOSED"
EARLY_CLOSE = "EARLY_CLOSE"
LATE_OPEN = "LATE_OPEN"
SPECIAL = "SPECIAL"

#: A session's times, in the order they happen.
TIMES = ("open", "break_start", "break_end", "close")
#: Columns of the stored regular hours, one row per period of validity.
HOURS_COLUMNS = (
    "valid_from",
    "weekmask",
    "open_time",
    "close_time",
    "break_start",
    "break_end",
    "open_offset",
    "close_offset",
)
#: Columns of the stored exceptions: closed weekdays and sessions with their own hours.
HOLIDAY_COLUMNS = (
    "date",
    "kind",
    "name",
    "open_time",
    "close_time",
    "break_start",
    "break_end",
)
DAY = 86_400
#: The stored column of each session time, and the stored day offset of those that have one.
_STORED = {
    "open": "open_time",
    "break_start": "break_start",
    "break_end": "break_end",
    "close": "close_time",
}
_OFFSET = {"open": "open_offset", "close": "close_offset"}

#: Names and ISO countries of exchanges exchange_calendars knows only by code.
EXCHANGE_NAMES: dict[str, tuple[str, str | None]] = {
    "XNYS": ("New York Stock Exchange", "US"),
    "XNAS": ("Nasdaq", "US"),
    "XASE": ("NYSE American", "US"),
    "ARCX": ("NYSE Arca", "US"),
    "XTSE": ("Toronto Stock Exchange", "CA"),
    "XTSX": ("TSX Venture Exchange", "CA"),
    "XLON": ("London Stock Exchange", "GB"),
    "XETR": ("Xetra", "DE"),
    "XFRA": ("Frankfurt Stock Exchange", "DE"),
    "XPAR": ("Euronext Paris", "FR"),
    "XAMS": ("Euronext Amsterdam", "NL"),
    "XBRU": ("Euronext Brussels", "BE"),
    "XLIS": ("Euronext Lisbon", "PT"),
    "XMIL": ("Borsa Italiana", "IT"),
    "XMAD": ("Bolsa de Madrid", "ES"),
    "XSWX": ("SIX Swiss Exchange", "CH"),
    "XSTO": ("Nasdaq Stockholm", "SE"),
    "XCSE": ("Nasdaq Copenhagen", "DK"),
    "XHEL": ("Nasdaq Helsinki", "FI"),
    "XOSL": ("Oslo Bors", "NO"),
    "XWBO": ("Wiener Borse", "AT"),
    "XDUB": ("Euronext Dublin", "IE"),
    "XTKS": ("Tokyo Stock Exchange", "JP"),
    "XHKG": ("Hong Kong Stock Exchange", "HK"),
    "XASX": ("Australian Securities Exchange", "AU"),
    "XSHG": ("Shanghai Stock Exchange", "CN"),
    "XKRX": ("Korea Exchange", "KR"),
    "XBOM": ("BSE (Bombay Stock Exchange)", "IN"),
    "XSES": ("Singapore Exchange", "SG"),
    "XTAI": ("Taiwan Stock Exchange", "TW"),
    "XNZE": ("New Zealand Exchange", "NZ"),
    "XJSE": ("Johannesburg Stock Exchange", "ZA"),
    "BVMF": ("B3 (Brasil Bolsa Balcao)", "BR"),
    "XMEX": ("Bolsa Mexicana de Valores", "MX"),
    "CMES": ("CME Group", "US"),
}

TimeChanges = Sequence[tuple[Any, dt.time | None]] | None


class NoSessionsError(ValueError):
    """exchange_calendars has no session in the window asked for."""


@dataclasses.dataclass(frozen=True)
class CalendarTables:
    """A calendar in its stored form, over the window it was derived for."""

    name: str
    timezone: str
    window_start: dt.date
    window_end: dt.date
    first_session: dt.date
    last_session: dt.date
    sessions: int
    hours: pd.DataFrame
    holidays: pd.DataFrame


@dataclasses.dataclass(frozen=True)
class MarketState:
    """Where an instant falls in a schedule. Instants are UTC; None when the schedule given
    does not reach that far."""

    state: str  # OPEN, BREAK or CLOSED
    session: dt.date | None  # the session in progress (its break included)
    next_session: dt.date | None  # the session of `next_open`
    next_open: pd.Timestamp | None  # first session open strictly after the instant
    next_close: pd.Timestamp | None  # close of the session in progress, else of the next one
    previous_close: pd.Timestamp | None  # last session close at or before the instant
    break_end: pd.Timestamp | None  # when trading resumes, during a break


# --- exchange_calendars -> stored form ---------------------------------------------------------
def calendar_names() -> list[str]:
    """Every name exchange_calendars knows, aliases (XNAS, NYSE...) included, sorted."""
    import exchange_calendars as xcals  # type: ignore[import-untyped]

    return sorted(xcals.get_calendar_names(include_aliases=True))


def resolve_name(code: str) -> str | None:
    """exchange_calendars' own spelling of `code` (matched ignoring case), or None."""
    for name in calendar_names():
        if name.upper() == code.upper():
            return name
    return None


def calendar_bounds(name: str) -> tuple[dt.date | None, dt.date | None]:
    """The first and last dates exchange_calendars can evaluate `name` for (None: no bound)."""
    import exchange_calendars as xcals

    # The class, not an instance: building a calendar over its default window can itself
    # fail (XTAE). exchange_calendars offers no public way to the class of a name.
    dispatcher = xcals.calendar_utils.global_calendar_dispatcher
    factory = dispatcher._calendar_factories.get(xcals.resolve_alias(name))
    if factory is None:
        return None, None
    low, high = factory.bound_min(), factory.bound_max()
    return (
        None if low is None else pd.Timestamp(low).date(),
        None if high is None else pd.Timestamp(high).date(),
    )


def tables_from_exchange_calendars(name: str, start: dt.date, end: dt.date) -> CalendarTables:
    """Derive the stored form of exchange_calendars' `name` over ``[start, end]`` (within the
    calendar's bounds): regular hours by period, CLOSED weekdays, special sessions, with the
    names exchange_calendars gives holidays and special sessions."""
    import exchange_calendars as xcals

    try:
        with warnings.catch_warnings():
            # exchange_calendars itself calls a pandas API deprecated in pandas 3.1
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            calendar = xcals.get_calendar(name, start=pd.Timestamp(start), end=pd.Timestamp(end))
    except xcals.errors.NoSessionsError as exc:
        raise NoSessionsError(f"{name} has no sessions from {start} to {end}") from exc
    tz = str(calendar.tz)
    days = pd.date_range(start, end, freq="D", unit="ns")
    regular = pd.DataFrame(
        {
            "open": _regular_seconds(calendar.open_times, days, calendar.open_offset),
            "break_start": _regular_seconds(calendar.break_start_times, days, 0),
            "break_end": _regular_seconds(calendar.break_end_times, days, 0),
            "close": _regular_seconds(calendar.close_times, days, calendar.close_offset),
        },
        index=days,
    )
    names = _holiday_names(calendar, pd.Timestamp(start), pd.Timestamp(end))
    hours, holidays = derive_tables(calendar.schedule, tz, calendar.weekmask, regular, names)
    sessions = calendar.schedule.index
    return CalendarTables(
        name=name,
        timezone=tz,
        window_start=start,
        window_end=end,
        first_session=sessions[0].date(),
        last_session=sessions[-1].date(),
        sessions=len(sessions),
        hours=hours,
        holidays=holidays,
    )


def _regular_seconds(changes: TimeChanges, days: pd.DatetimeIndex, offset: int) -> FloatArray:
    """Seconds from each day's midnight to a regular time that changes on given dates:
    exchange_calendars' ``((None, t0), (since, t1), ...)`` form; NaN where there is none."""
    seconds = np.full(len(days), np.nan)
    for since, time in changes or ():
        applies = np.ones(len(days), bool) if since is None else days >= pd.Timestamp(since)
        seconds[applies] = np.nan if time is None else offset * DAY + _seconds(time)
    return seconds


def _holiday_names(calendar: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Names exchange_calendars gives dates in ``[start, end]``: its regular holidays and the
    rules of its special opens and closes (ad hoc dates have no names)."""
    rules = [calendar.regular_holidays] if calendar.regular_holidays is not None else []
    rules += [rule for _, rule in (*calendar.special_closes, *calendar.special_opens)]
    named = [
        rule.holidays(start, end, return_name=True)
        for rule in rules
        if hasattr(rule, "holidays")  # a rule can also be a day of the week (an int)
    ]
    named = [series for series in named if len(series)]
    if not named:
        return pd.Series([], index=pd.DatetimeIndex([], dtype="datetime64[ns]"), dtype=object)
    every = pd.concat(named)
    every.index = pd.DatetimeIndex(every.index).as_unit("ns")
    joined: pd.Series = every.groupby(level=0).agg(lambda found: "; ".join(dict.fromkeys(found)))
    return joined


def derive_tables(
    schedule: pd.DataFrame,
    tz: str,
    weekmask: str,
    regular: pd.DataFrame,
    names: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stored hours and exceptions that rebuild `schedule` exactly.

    `schedule`: exchange_calendars' frame (session index; open, break_start, break_end, close
    in UTC). `regular`: each day of the window (index) with the regular local times in force,
    in seconds from the day's midnight. Regular hours become one row per period over which
    they stay the same; weekmask days that are not sessions become CLOSED; sessions whose
    local times differ from the regular ones (or that fall outside the weekmask) become
    EARLY_CLOSE, LATE_OPEN or SPECIAL rows carrying all their times.
    """
    days = pd.DatetimeIndex(regular.index).as_unit("ns")
    in_mask = _weekmask_array(weekmask)[days.day_of_week]
    same_as_before = (regular.eq(regular.shift()) | (regular.isna() & regular.shift().isna())).all(
        axis=1
    )
    changes = regular[~same_as_before.to_numpy()]
    hours = pd.DataFrame(
        {
            "valid_from": [day.date() for day in changes.index],
            "weekmask": weekmask,
            "open_time": [_time(s % DAY) for s in changes["open"]],
            "close_time": [_time(s % DAY) for s in changes["close"]],
            "break_start": [_time(s) for s in changes["break_start"]],
            "break_end": [_time(s) for s in changes["break_end"]],
            "open_offset": [int(s // DAY) for s in changes["open"]],
            "close_offset": [int(s // DAY) for s in changes["close"]],
        },
        columns=list(HOURS_COLUMNS),
    )

    sessions = pd.DatetimeIndex(schedule.index).as_unit("ns")
    position = days.get_indexer(sessions)
    if (position < 0).any():
        raise ValueError("the schedule has sessions outside the window of regular hours")
    actual = {column: _local_seconds(schedule[column], sessions, tz).to_numpy() for column in TIMES}
    expected = {column: regular[column].to_numpy()[position] for column in TIMES}
    differs = np.zeros(len(sessions), bool)
    for column in TIMES:
        differs |= ~_same(actual[column], expected[column])
    outside = ~in_mask[position]
    special = differs | outside
    early = actual["close"] < expected["close"]
    late = actual["open"] > expected["open"]
    kinds = np.select(
        [outside, early & ~late & _same(actual["open"], expected["open"]), late & ~early],
        [SPECIAL, EARLY_CLOSE, LATE_OPEN],
        default=SPECIAL,
    )
    period = np.searchsorted(
        pd.DatetimeIndex(pd.to_datetime(hours["valid_from"])).as_unit("ns").asi8,
        sessions.asi8,
        side="right",
    )
    period -= 1
    offsets = {
        "open": hours["open_offset"].to_numpy()[period],
        "close": hours["close_offset"].to_numpy()[period],
        "break_start": np.zeros(len(sessions), int),
        "break_end": np.zeros(len(sessions), int),
    }
    specials = pd.DataFrame(
        {"date": sessions[special], "kind": kinds[special]}
        | {
            _STORED[column]: _times_of_day(
                actual[column][special] - offsets[column][special] * DAY, column
            )
            for column in TIMES
        }
    )

    is_session = np.zeros(len(days), bool)
    is_session[position] = True
    closed = pd.DataFrame({"date": days[in_mask & ~is_session], "kind": CLOSED})
    holidays = pd.concat([closed, specials], ignore_index=True).sort_values("date")
    holidays["name"] = names.reindex(pd.DatetimeIndex(holidays["date"])).to_numpy()
    holidays["name"] = holidays["name"].astype(object).where(holidays["name"].notna(), None)
    holidays["date"] = [day.date() for day in holidays["date"]]
    for column in ("open_time", "close_time", "break_start", "break_end"):
        holidays[column] = holidays[column].astype(object).where(holidays[column].notna(), None)
    return hours, holidays.reindex(columns=list(HOLIDAY_COLUMNS)).reset_index(drop=True)


def _local_seconds(utc: pd.Series, sessions: pd.DatetimeIndex, tz: str) -> pd.Series:
    wall = pd.DatetimeIndex(utc).tz_convert(tz).tz_localize(None).as_unit("ns")
    return pd.Series((wall - sessions) / pd.Timedelta(seconds=1), index=sessions)


def _same(a: FloatArray, b: FloatArray) -> npt.NDArray[np.bool_]:
    same: npt.NDArray[np.bool_] = (a == b) | (np.isnan(a) & np.isnan(b))
    return same


def _times_of_day(seconds: FloatArray, column: str) -> list[dt.time | None]:
    if ((seconds < 0) | (seconds >= DAY)).any():
        raise ValueError(
            f"a special session's {column} is on another day than its regular {column}; "
            "foliodb cannot store it"
        )
    return [_time(s) for s in seconds]


# --- stored form -> schedule ----------------------------------------------------------------
def build_schedule(
    hours: pd.DataFrame, holidays: pd.DataFrame, tz: str, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """The sessions from `start` to `end` (session dates, inclusive) rebuilt from stored
    hours and exceptions: index ``session`` (dates), columns ``kind`` and the UTC instants
    ``open``, ``break_start``, ``break_end``, ``close`` (NaT when there is no break).
    Days before the first period of hours are not sessions."""
    days = pd.date_range(start, end, freq="D", unit="ns", name="session")
    periods = hours.sort_values("valid_from").reset_index(drop=True)
    valid_from = pd.DatetimeIndex(pd.to_datetime(periods["valid_from"])).as_unit("ns")
    period = np.searchsorted(valid_from.asi8, days.asi8, side="right") - 1
    covered = period >= 0
    period = np.where(covered, period, 0)
    masks = np.array([_weekmask_array(w) for w in periods["weekmask"]]).reshape(-1, 7)
    in_mask = covered & masks[period, days.day_of_week] if len(periods) else covered

    exceptions = holidays.set_index(
        pd.DatetimeIndex(pd.to_datetime(holidays["date"])).as_unit("ns")
    )
    exceptions = exceptions.reindex(days)
    kind = exceptions["kind"].to_numpy(dtype=object)
    closed = kind == CLOSED
    special = pd.notna(kind) & ~closed
    is_session = (in_mask & ~closed) | special

    frame = pd.DataFrame(
        {"kind": np.where(special, kind, REGULAR)[is_session]}, index=days[is_session]
    )
    session_days = days[is_session]
    for column in TIMES:
        offset = (
            periods[_OFFSET[column]].to_numpy()[period] if column in _OFFSET and len(periods) else 0
        )
        regular = _seconds_array(periods[_STORED[column]])[period] if len(periods) else np.nan
        own = _seconds_array(exceptions[_STORED[column]])
        seconds = np.where(special, own, regular) + offset * DAY
        wall = session_days + pd.to_timedelta(seconds[is_session], unit="s")
        frame[column] = wall.tz_localize(tz).tz_convert("UTC").as_unit("ns")
    return frame


# --- bars ---------------------------------------------------------------------------------------
def bar_starts(schedule: pd.DataFrame, minutes: int) -> pd.DatetimeIndex:
    """UTC starts of every `minutes`-long bar expected in the sessions of `schedule`: the
    bars aligned on multiples of `minutes` in UTC (as foliodb's roll-ups and pandas'
    ``resample`` label them) that hold at least one trading minute (``open <= t < close``,
    outside breaks). One-minute bars are exactly the trading minutes."""
    step = minutes * 60 * 1_000_000_000
    opens, closes = _nanos(schedule["open"]), _nanos(schedule["close"])
    break_starts, break_ends = _nanos(schedule["break_start"]), _nanos(schedule["break_end"])
    has_break = ~pd.isna(schedule["break_start"]).to_numpy()
    # Trading stretches [begin, end): each session's morning (or whole day) and afternoon.
    begins = np.concatenate([opens, break_ends[has_break]])
    ends = np.concatenate([np.where(has_break, break_starts, closes), closes[has_break]])
    first = begins // step * step  # the bar holding a stretch's first minute (floor)
    counts = np.where(ends > begins, -((first - ends) // step), 0)  # ceil((end - first) / step)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    # A bar can hold the end of a morning and the start of an afternoon: count it once.
    starts = np.unique(np.repeat(first, counts) + offsets * step)
    return pd.DatetimeIndex(starts.view("datetime64[ns]"), name="ts").tz_localize("UTC")


def missing_runs(expected: pd.Index, present: pd.Index) -> pd.DataFrame:
    """Runs of consecutive entries of `expected` (sorted) that are not in `present`:
    columns ``first_missing``, ``last_missing``, ``count``. Consecutive means adjacent in
    `expected`: a run goes on over nights, weekends and breaks where nothing is expected."""
    missing = np.flatnonzero(~expected.isin(present))
    if not len(missing):
        return pd.DataFrame(
            {
                "first_missing": expected[:0],
                "last_missing": expected[:0],
                "count": np.array([], int),
            }
        )
    starts_run = np.r_[True, np.diff(missing) != 1]
    firsts = missing[starts_run]
    lasts = missing[np.r_[starts_run[1:], True]]
    return pd.DataFrame(
        {
            "first_missing": expected[firsts],
            "last_missing": expected[lasts],
            "count": lasts - firsts + 1,
        }
    )


def session_minutes(schedule: pd.DataFrame) -> pd.DatetimeIndex:
    """UTC start of every trading minute of the sessions of `schedule`."""
    return bar_starts(schedule, 1)


# --- instants -----------------------------------------------------------------------------------
def state_at(schedule: pd.DataFrame, at: pd.Timestamp) -> MarketState:
    """Whether the market of `schedule` is open at the UTC instant `at` (a break is closed),
    with the surrounding opens and closes."""
    opens = pd.DatetimeIndex(schedule["open"])
    closes = pd.DatetimeIndex(schedule["close"])
    current = int(opens.searchsorted(at, side="right")) - 1
    in_session = current >= 0 and at < closes[current]
    state, session, resumes = "CLOSED", None, None
    if in_session:
        session = schedule.index[current].date()
        row = schedule.iloc[current]
        in_break = pd.notna(row["break_start"]) and row["break_start"] <= at < row["break_end"]
        state = "BREAK" if in_break else "OPEN"
        resumes = row["break_end"] if in_break else None
    following = current + 1
    has_next = following < len(opens)
    next_open = opens[following] if has_next else None
    close_index = current if in_session else following
    next_close = closes[close_index] if close_index < len(closes) else None
    closed_before = int(closes.searchsorted(at, side="right")) - 1
    return MarketState(
        state=state,
        session=session,
        next_session=schedule.index[following].date() if has_next else None,
        next_open=next_open,
        next_close=next_close,
        previous_close=closes[closed_before] if closed_before >= 0 else None,
        break_end=resumes,
    )


# --- helpers ------------------------------------------------------------------------------------
FloatArray = npt.NDArray[np.float64]


def _weekmask_array(weekmask: str) -> npt.NDArray[np.bool_]:
    return np.array([flag == "1" for flag in weekmask], bool)


def _seconds(time: dt.time) -> int:
    return time.hour * 3600 + time.minute * 60 + time.second


def _time(seconds: float) -> dt.time | None:
    if seconds != seconds:  # NaN: no such time
        return None
    whole = int(seconds)
    return dt.time(whole // 3600, whole // 60 % 60, whole % 60)


def _seconds_array(times: Iterable[Any]) -> FloatArray:
    return np.array(
        [_seconds(t) if isinstance(t, dt.time) else np.nan for t in times], dtype=np.float64
    )


def _nanos(instants: pd.Series) -> npt.NDArray[np.int64]:
    return pd.DatetimeIndex(instants).as_unit("ns").asi8
