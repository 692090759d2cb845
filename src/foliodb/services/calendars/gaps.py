"""Gaps: the expected bars of a symbol (sessions for 1d, bar starts in sessions otherwise)
that have no bar in ohlcv_bars, as runs of consecutive missing bars."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from foliodb.errors import InputError, InputProblem, NotFoundError
from foliodb.services.calendars import dates, schedules, seeding
from foliodb.services.calendars.seeding import Exchange
from foliodb.store.repos import calendars as repo
from foliodb.store.tables_bars import INTERVALS
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:  # pandas and the calendar math load on first use (they cost 0.3 s)
    import pandas as pd

#: Minutes per intraday bar interval; 1d bars are checked against sessions instead.
BAR_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}


@dataclasses.dataclass(frozen=True)
class Gap:
    """Consecutive expected bars without a bar: session dates (1d) or UTC bar starts."""

    first_missing: dt.date | dt.datetime
    last_missing: dt.date | dt.datetime
    count: int


@dataclasses.dataclass(frozen=True)
class GapReport:
    """Expected bars of `symbol` at `interval` from `start` to `end` (first and last expected:
    session dates for 1d, UTC bar starts otherwise) and the runs of those without a bar.
    `unexpected` counts bars in that span that start where no bar is expected."""

    symbol: str
    exchange: str
    timezone: str
    interval: str
    start: dt.date | dt.datetime | None
    end: dt.date | dt.datetime | None
    expected: int
    present: int
    missing: int
    unexpected: int
    gaps: tuple[Gap, ...]


def find_gaps(
    engine: Engine,
    symbol: str,
    interval: str,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    exchange: str | None = None,
) -> GapReport:
    """Expected bars of `symbol` with no bar, as runs: `Calendars.gaps`, which says which."""
    import pandas as pd

    if interval not in INTERVALS:
        raise InputError(
            InputProblem(
                "is not a bar interval",
                field="interval",
                value=interval,
                expected=" or ".join(INTERVALS),
            )
        )
    first_day, last_day = dates.parse_day(start, "start"), dates.parse_day(end, "end")
    with UnitOfWork(engine) as uow:
        known, listed_on = repo.security_exchange(uow.session, symbol)
        first_bar, last_bar = repo.bar_span(uow.session, symbol, interval)
    code = _exchange_of(symbol, known, listed_on, exchange, first_bar is not None)
    spans = [d for d in (first_day, last_day) if d is not None]
    spans += [b.date() for b in (first_bar, last_bar) if b is not None]
    info = seeding.ensure(engine, code, *spans)
    if first_bar is None or last_bar is None:
        if first_day is None or last_day is None:
            raise InputError(
                InputProblem(
                    f"{symbol} has no {interval} bars to take the span from",
                    field="start" if first_day is None else "end",
                    expected="a date",
                )
            )
        first_bar = last_bar = dates.midnight(first_day)  # unused: both ends are given
    _check_bars_in_window(info, symbol, interval, first_day, last_day, first_bar, last_bar)
    if interval == "1d":
        first = first_day or first_bar.astimezone(dt.UTC).date()
        last = last_day or last_bar.astimezone(dt.UTC).date()
        expected = schedules.stored_schedule(engine, info, first, last).index
        bars = _bar_times(engine, symbol, interval, dates.midnight(first), dates.midnight(last, 1))
        # A 1d bar starts at 00:00 UTC of its session date.
        present = pd.to_datetime(bars, utc=True).tz_convert(None).normalize().as_unit("ns")
    else:
        expected = _bar_starts(engine, info, interval, first_day, last_day, first_bar, last_bar)
        # The bars looked at: those of the span's local days, or from the first bar to
        # the last; and any expected one outside them (a futures evening open).
        zone = dates.zone(info.timezone)
        lo = dates.local_midnight(first_day, zone) if first_day else first_bar
        hi = dates.local_midnight(last_day, zone, 1) if last_day else last_bar
        if len(expected):
            lo = min(lo, expected[0].to_pydatetime())
            hi = max(hi, expected[-1].to_pydatetime())
        bars = _bar_times(engine, symbol, interval, lo, hi)
        present = pd.to_datetime(bars, utc=True).as_unit("ns")
    return _report(symbol, info, interval, expected, present)


def _bar_starts(
    engine: Engine,
    info: Exchange,
    interval: str,
    first_day: dt.date | None,
    last_day: dt.date | None,
    first_bar: dt.datetime,
    last_bar: dt.datetime,
) -> pd.DatetimeIndex:
    """Expected intraday bar starts: of whole sessions from `first_day` to `last_day`,
    else from the first bar to the last one."""
    import pandas as pd

    from foliodb.analytics import sessions

    # A session's UTC times can fall on the day before or after its date (Sydney,
    # futures): take the sessions around the bars, then cut at the bars.
    zone, margin = dates.zone(info.timezone), dt.timedelta(days=2)
    first = first_day or max(info.window_start, first_bar.astimezone(zone).date() - margin)
    last = last_day or min(info.window_end, last_bar.astimezone(zone).date() + margin)
    starts = sessions.bar_starts(
        schedules.stored_schedule(engine, info, first, last), BAR_MINUTES[interval]
    )
    if first_day is None:
        starts = starts[starts >= pd.Timestamp(first_bar)]
    if last_day is None:
        starts = starts[starts <= pd.Timestamp(last_bar)]
    return starts


def _bar_times(
    engine: Engine, symbol: str, interval: str, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    with UnitOfWork(engine) as uow:
        return repo.bar_times(uow.session, symbol, interval, start, end)


def _exchange_of(
    symbol: str, known: bool, listed_on: str | None, given: str | None, has_bars: bool
) -> str:
    """The exchange whose calendar a symbol's bars follow: its security's, else `given`."""
    if listed_on and given and given.strip().upper() != listed_on.upper():
        raise InputError(
            InputProblem(
                f"{symbol} is listed on {listed_on} (securities)",
                field="exchange",
                value=given,
                expected=f"{listed_on} or no --exchange",
            )
        )
    if listed_on:
        return listed_on
    if given:
        return given
    if not known and not has_bars:
        raise NotFoundError(f"unknown symbol {symbol}: no security and no bars have it")
    why = "has no exchange in securities" if known else "is not a known security"
    raise InputError(
        InputProblem(f"{symbol} {why}; name its exchange", field="exchange", expected="a MIC")
    )


def _report(
    symbol: str, info: Exchange, interval: str, expected: pd.Index, present: pd.Index
) -> GapReport:
    from foliodb.analytics import sessions

    def plain(value: pd.Timestamp) -> dt.date | dt.datetime:
        return value.date() if interval == "1d" else value.to_pydatetime()

    runs = sessions.missing_runs(expected, present)
    found = int(expected.isin(present).sum())
    gaps = tuple(
        Gap(first_missing=plain(first), last_missing=plain(last), count=int(count))
        for first, last, count in zip(
            runs["first_missing"], runs["last_missing"], runs["count"], strict=True
        )
    )
    return GapReport(
        symbol=symbol,
        exchange=info.code,
        timezone=info.timezone,
        interval=interval,
        start=plain(expected[0]) if len(expected) else None,
        end=plain(expected[-1]) if len(expected) else None,
        expected=len(expected),
        present=found,
        missing=len(expected) - found,
        unexpected=int((~present.isin(expected)).sum()),
        gaps=gaps,
    )


def _check_bars_in_window(
    info: Exchange,
    symbol: str,
    interval: str,
    first_day: dt.date | None,
    last_day: dt.date | None,
    first_bar: dt.datetime,
    last_bar: dt.datetime,
) -> None:
    """Refuse a span taken from bars that lie outside the seeded calendar, naming the bar."""
    zone = dt.UTC if interval == "1d" else dates.zone(info.timezone)  # a 1d bar: its UTC date
    ends = ((first_day, first_bar, "start", "first"), (last_day, last_bar, "end", "last"))
    for given, bar, field, which in ends:
        day = bar.astimezone(zone).date()
        if given is None and not info.window_start <= day <= info.window_end:
            raise InputError(
                InputProblem(
                    f"{symbol}'s {which} {interval} bar is on {day}, outside the seeded "
                    f"calendar of {info.code}; give --{field} within it, or seed a wider "
                    f"window with `foliodb calendar seed {info.code} --start ... --end ...`",
                    field=field,
                    expected=f"{info.window_start} to {info.window_end}",
                )
            )
