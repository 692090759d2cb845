"""Sessions and instants: an exchange's sessions over a span, whether it is open at an instant
and its opens and closes around it, and its trading minutes. Sessions are rebuilt from the
stored rows alone (foliodb.analytics.sessions)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from foliodb.errors import InputError, InputProblem
from foliodb.services.calendars import dates, seeding
from foliodb.services.calendars.seeding import Exchange
from foliodb.store.repos import calendars as repo
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:  # pandas and the calendar math load on first use (they cost 0.3 s)
    import pandas as pd

#: How far around an instant a schedule is first built when looking for opens and closes.
_LOOK_BACK = dt.timedelta(days=10)
_LOOK_AHEAD = dt.timedelta(days=40)


@dataclasses.dataclass(frozen=True)
class MarketStatus:
    """An exchange at one instant. Instants are aware UTC datetimes; `timezone` gives the
    local view. `state` is OPEN, BREAK (a lunch break: closed) or CLOSED."""

    exchange: str
    timezone: str
    at: dt.datetime
    is_open: bool
    state: str
    session: dt.date | None  # the session in progress, its break included
    next_session: dt.date | None  # the session of `next_open`
    next_open: dt.datetime | None  # first session open strictly after `at`
    next_close: dt.datetime | None  # close of the session in progress, else of the next one
    previous_close: dt.datetime | None  # last session close at or before `at`
    break_end: dt.datetime | None  # when trading resumes, during a break


def list_sessions(
    engine: Engine, exchange: str, start: dt.date | str, end: dt.date | str
) -> pd.DataFrame:
    """The sessions from `start` to `end` as a frame: `Calendars.sessions` names its columns."""
    first, last = dates.required_day(start, "start"), dates.required_day(end, "end")
    info = seeding.ensure(engine, exchange, first, last)
    schedule = stored_schedule(engine, info, first, last)
    frame = schedule[["kind"]].copy()
    for column in ("open", "break_start", "break_end", "close"):
        frame[f"{column}_utc"] = schedule[column]
    for column in ("open", "break_start", "break_end", "close"):
        frame[f"{column}_local"] = schedule[column].dt.tz_convert(info.timezone)
    frame.attrs = {"exchange": info.code, "timezone": info.timezone}
    return frame


def status(engine: Engine, exchange: str, at: dt.datetime | str | None = None) -> MarketStatus:
    """Whether `exchange` is open at `at` (default now; naive means UTC), with the
    opens and closes around it."""
    import pandas as pd

    from foliodb.analytics import sessions

    instant = dates.parse_instant(at, "at")
    info = seeding.ensure(engine, exchange, instant.date())
    local_day = instant.astimezone(dates.zone(info.timezone)).date()
    _check_in_window(info, local_day, local_day, "at", shown=instant.isoformat())
    first = max(info.window_start, local_day - _LOOK_BACK)
    last = min(info.window_end, local_day + _LOOK_AHEAD)
    moment = pd.Timestamp(instant)
    state = sessions.state_at(stored_schedule(engine, info, first, last), moment)
    # Rarely, the next open or the previous close lies beyond the first look: look wider.
    if state.next_open is None and last < info.window_end:
        last = info.window_end
        state = sessions.state_at(stored_schedule(engine, info, first, last), moment)
    if state.previous_close is None and first > info.window_start:
        state = sessions.state_at(stored_schedule(engine, info, info.window_start, last), moment)
    return MarketStatus(
        exchange=info.code,
        timezone=info.timezone,
        at=instant,
        is_open=state.state == "OPEN",
        state=state.state,
        session=state.session,
        next_session=state.next_session,
        next_open=dates.as_datetime(state.next_open),
        next_close=dates.as_datetime(state.next_close),
        previous_close=dates.as_datetime(state.previous_close),
        break_end=dates.as_datetime(state.break_end),
    )


def is_open(engine: Engine, exchange: str, at: dt.datetime | str | None = None) -> bool:
    """Whether `exchange` trades at `at`: `Calendars.is_open`."""
    return status(engine, exchange, at).is_open


def next_open(engine: Engine, exchange: str, after: dt.datetime | str | None = None) -> dt.datetime:
    """The first session open of `exchange` strictly after `after` (default now), UTC."""
    market = status(engine, exchange, after)
    if market.next_open is None:
        raise InputError(_beyond(engine, market.exchange, "no session opens after", market.at))
    return market.next_open


def previous_close(
    engine: Engine, exchange: str, before: dt.datetime | str | None = None
) -> dt.datetime:
    """The last session close of `exchange` at or before `before` (default now), UTC."""
    market = status(engine, exchange, before)
    if market.previous_close is None:
        raise InputError(_beyond(engine, market.exchange, "no session closed before", market.at))
    return market.previous_close


def session_minutes(
    engine: Engine, exchange: str, start: dt.date | str, end: dt.date | str
) -> pd.DatetimeIndex:
    """UTC start of every trading minute of the sessions from `start` to `end`."""
    from foliodb.analytics import sessions

    first, last = dates.required_day(start, "start"), dates.required_day(end, "end")
    info = seeding.ensure(engine, exchange, first, last)
    return sessions.session_minutes(stored_schedule(engine, info, first, last))


def stored_schedule(engine: Engine, info: Exchange, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Sessions from `start` to `end`, rebuilt from the stored rows."""
    import pandas as pd

    from foliodb.analytics import sessions

    _check_in_window(info, start, end, "start" if start < info.window_start else "end")
    with UnitOfWork(engine) as uow:
        hours = repo.load_hours(uow.session, info.code)
        holidays = repo.load_holidays(uow.session, info.code, start, end)
    return sessions.build_schedule(
        pd.DataFrame(hours, columns=list(sessions.HOURS_COLUMNS)),
        pd.DataFrame(holidays, columns=list(sessions.HOLIDAY_COLUMNS)),
        info.timezone,
        start,
        end,
    )


def _beyond(engine: Engine, code: str, what: str, at: dt.datetime) -> InputProblem:
    info = seeding.ensure(engine, code)
    return InputProblem(
        f"{code}: {what} {at.isoformat()} within its seeded calendar "
        f"({info.window_start} to {info.window_end}); seed a wider window with "
        f"`foliodb calendar seed {code} --start ... --end ...`"
    )


def _check_in_window(
    info: Exchange, start: dt.date, end: dt.date, field: str, shown: str | None = None
) -> None:
    """Refuse dates outside the seeded window; `shown` is the value as the caller gave it
    (an instant rather than the local date it falls on)."""
    if start > end:
        raise InputError(
            InputProblem("is after end", field="start", value=str(start), expected="<= end")
        )
    if start < info.window_start or end > info.window_end:
        value = start if start < info.window_start else end
        raise InputError(
            InputProblem(
                f"is outside the seeded calendar of {info.code}; seed a wider window with "
                f"`foliodb calendar seed {info.code} --start ... --end ...`",
                field=field,
                value=shown or str(value),
                expected=f"{info.window_start} to {info.window_end}",
            )
        )
