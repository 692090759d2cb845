"""Trading calendars seeded from exchange_calendars, and gap detection in loaded bars.

Seeding derives each exchange's stored form (regular hours by period, closed days, special
sessions) from exchange_calendars; every query afterwards rebuilds sessions from the database
alone (foliodb.analytics.sessions), so answers do not change when exchange_calendars does
until the exchange is seeded again. See docs/calendars.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from foliodb.errors import FoliodbError, InputError, InputProblem, NotFoundError
from foliodb.store.base import utcnow
from foliodb.store.repos import calendars as repo
from foliodb.store.tables_bars import INTERVALS
from foliodb.store.tables_calendars import ExchangeRow
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:  # pandas and the calendar math load on first use (they cost 0.3 s)
    import pandas as pd

log = logging.getLogger(__name__)

#: What `seed()` seeds when no exchange is named.
DEFAULT_EXCHANGES = ("XNYS", "XNAS", "XTSE", "XLON", "XETR", "XPAR", "XTKS", "XHKG", "XASX")
#: First day of the default seeding window (the last is a year after today).
DEFAULT_START = dt.date(2000, 1, 1)
#: Minutes per intraday bar interval; 1d bars are checked against sessions instead.
BAR_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60}
#: How far around an instant a schedule is first built when looking for opens and closes.
_LOOK_BACK = dt.timedelta(days=10)
_LOOK_AHEAD = dt.timedelta(days=40)


# --- results ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Exchange:
    """A seeded exchange; its calendar is known from `window_start` to `window_end`."""

    code: str
    name: str
    timezone: str
    country: str | None
    first_session: dt.date
    last_session: dt.date
    window_start: dt.date
    window_end: dt.date
    source: str
    seeded_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class SeedResult:
    """What seeding one exchange stored."""

    exchange: str
    timezone: str
    window_start: dt.date
    window_end: dt.date
    sessions: int
    closed: int
    early_closes: int
    late_opens: int
    special: int
    hours_periods: int


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


# --- the service --------------------------------------------------------------------------------
class Calendars:
    """`Database.calendars`: exchanges, sessions, open/close times and bar gaps.

    Exchanges are named by MIC (XNYS) or any other exchange_calendars name, in any case. One
    not seeded yet is seeded on first use over the default window.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # seeding
    def seed(
        self,
        exchanges: Sequence[str] | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
    ) -> list[SeedResult]:
        """Store the calendars of `exchanges` (default DEFAULT_EXCHANGES) from `start`
        (default 2000-01-01) to `end` (default a year after today), within what
        exchange_calendars covers. Each exchange's rows are replaced in one transaction."""
        first = _day(start, "start") or DEFAULT_START
        last = _day(end, "end") or _a_year_after(_today())
        if first > last:
            raise InputError(
                InputProblem(
                    "is after end", field="start", value=first.isoformat(), expected="<= end"
                )
            )
        if isinstance(exchanges, str):  # one code, not its letters
            exchanges = [exchanges]
        codes = _resolve_all(exchanges or DEFAULT_EXCHANGES)
        return [self._seed_one(code, first, last) for code in codes]

    def _seed_one(self, code: str, start: dt.date, end: dt.date) -> SeedResult:
        from foliodb.analytics import sessions

        low, high = sessions.calendar_bounds(code)
        first = max(start, low) if low else start
        last = min(end, high) if high else end
        if first > last:
            covered = f"from {low}" if low else ""
            covered += f"{' ' if low else ''}until {high}" if high else ""
            raise InputError(
                f"exchange_calendars covers {code} only {covered}, not {start} to {end}"
            )
        try:
            tables = sessions.tables_from_exchange_calendars(code, first, last)
        except sessions.NoSessionsError as exc:
            raise InputError(str(exc)) from exc
        except (ValueError, NotImplementedError, IndexError, KeyError) as exc:
            reason = str(exc) if len(str(exc)) < 300 else f"{str(exc)[:300]}..."
            raise FoliodbError(
                f"exchange_calendars could not build {code} from {first} to {last}: {reason}"
            ) from exc
        name, country = sessions.EXCHANGE_NAMES.get(code.upper(), (code, None))
        exchange = {
            "code": code,
            "name": name,
            "timezone": tables.timezone,
            "country": country,
            "first_session": tables.first_session,
            "last_session": tables.last_session,
            "window_start": first,
            "window_end": last,
            "source": f"exchange_calendars {version('exchange_calendars')}",
            "seeded_at": utcnow(),
        }
        hours = [{str(k): v for k, v in row.items()} for row in tables.hours.to_dict("records")]
        holidays = [
            {str(k): v for k, v in row.items()} for row in tables.holidays.to_dict("records")
        ]
        with UnitOfWork(self.engine) as uow:
            repo.replace_calendar(uow.session, exchange, hours, holidays)
            uow.commit()
        kinds = tables.holidays["kind"].value_counts()
        log.info("seeded %s: %d sessions, %s to %s", code, tables.sessions, first, last)
        return SeedResult(
            exchange=code,
            timezone=tables.timezone,
            window_start=first,
            window_end=last,
            sessions=tables.sessions,
            closed=int(kinds.get(sessions.CLOSED, 0)),
            early_closes=int(kinds.get(sessions.EARLY_CLOSE, 0)),
            late_opens=int(kinds.get(sessions.LATE_OPEN, 0)),
            special=int(kinds.get(sessions.SPECIAL, 0)),
            hours_periods=len(tables.hours),
        )

    # exchanges
    def exchanges(self) -> list[Exchange]:
        """The seeded exchanges, by code."""
        with UnitOfWork(self.engine) as uow:
            return [_exchange(row) for row in repo.list_exchanges(uow.session)]

    def exchange(self, code: str) -> Exchange:
        """One exchange, seeded first if it is not yet."""
        return self._ensure(code)

    # sessions and instants
    def sessions(self, exchange: str, start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
        """The sessions from `start` to `end` (session dates, inclusive): index ``session``;
        ``kind`` (REGULAR, EARLY_CLOSE, LATE_OPEN, SPECIAL); ``open_utc``,
        ``break_start_utc``, ``break_end_utc``, ``close_utc`` and the same instants in the
        exchange's zone as ``*_local`` (NaT when a session has no break). ``attrs`` name the
        ``exchange`` (as stored) and its ``timezone``."""
        first, last = _required_day(start, "start"), _required_day(end, "end")
        info = self._ensure(exchange, first, last)
        schedule = self._schedule(info, first, last)
        frame = schedule[["kind"]].copy()
        for column in ("open", "break_start", "break_end", "close"):
            frame[f"{column}_utc"] = schedule[column]
        for column in ("open", "break_start", "break_end", "close"):
            frame[f"{column}_local"] = schedule[column].dt.tz_convert(info.timezone)
        frame.attrs = {"exchange": info.code, "timezone": info.timezone}
        return frame

    def status(self, exchange: str, at: dt.datetime | str | None = None) -> MarketStatus:
        """Whether `exchange` is open at `at` (default now; naive means UTC), with the
        opens and closes around it."""
        import pandas as pd

        from foliodb.analytics import sessions

        instant = _instant(at, "at")
        info = self._ensure(exchange, instant.date())
        local_day = instant.astimezone(_zone(info.timezone)).date()
        _check_in_window(info, local_day, local_day, "at", shown=instant.isoformat())
        first = max(info.window_start, local_day - _LOOK_BACK)
        last = min(info.window_end, local_day + _LOOK_AHEAD)
        moment = pd.Timestamp(instant)
        state = sessions.state_at(self._schedule(info, first, last), moment)
        # Rarely, the next open or the previous close lies beyond the first look: look wider.
        if state.next_open is None and last < info.window_end:
            last = info.window_end
            state = sessions.state_at(self._schedule(info, first, last), moment)
        if state.previous_close is None and first > info.window_start:
            state = sessions.state_at(self._schedule(info, info.window_start, last), moment)
        return MarketStatus(
            exchange=info.code,
            timezone=info.timezone,
            at=instant,
            is_open=state.state == "OPEN",
            state=state.state,
            session=state.session,
            next_session=state.next_session,
            next_open=_py(state.next_open),
            next_close=_py(state.next_close),
            previous_close=_py(state.previous_close),
            break_end=_py(state.break_end),
        )

    def is_open(self, exchange: str, at: dt.datetime | str | None = None) -> bool:
        """Whether `exchange` trades at `at` (default now; naive means UTC). Open from each
        session's open (inclusive) to its close (exclusive); closed during a break."""
        return self.status(exchange, at).is_open

    def next_open(self, exchange: str, after: dt.datetime | str | None = None) -> dt.datetime:
        """The first session open of `exchange` strictly after `after` (default now), UTC."""
        status = self.status(exchange, after)
        if status.next_open is None:
            raise InputError(self._beyond(status.exchange, "no session opens after", status.at))
        return status.next_open

    def previous_close(self, exchange: str, before: dt.datetime | str | None = None) -> dt.datetime:
        """The last session close of `exchange` at or before `before` (default now), UTC."""
        status = self.status(exchange, before)
        if status.previous_close is None:
            raise InputError(self._beyond(status.exchange, "no session closed before", status.at))
        return status.previous_close

    def session_minutes(
        self, exchange: str, start: dt.date | str, end: dt.date | str
    ) -> pd.DatetimeIndex:
        """UTC start of every trading minute of the sessions from `start` to `end`: each
        minute ``ts`` with ``open <= ts < close`` outside breaks."""
        from foliodb.analytics import sessions

        first, last = _required_day(start, "start"), _required_day(end, "end")
        info = self._ensure(exchange, first, last)
        return sessions.session_minutes(self._schedule(info, first, last))

    # gaps
    def gaps(
        self,
        symbol: str,
        interval: str,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        exchange: str | None = None,
    ) -> GapReport:
        """Expected bars of `symbol` with no bar in ohlcv_bars, as runs.

        1d: every session from `start` to `end`. Intraday (1m, 5m, 15m, 1h): every bar start
        in those sessions (see foliodb.analytics.sessions.bar_starts). Without `start` /
        `end`, the span runs from the symbol's first to its last bar of that interval. The
        exchange is the security's; `exchange` is for symbols without one."""
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
        first_day, last_day = _day(start, "start"), _day(end, "end")
        with UnitOfWork(self.engine) as uow:
            known, listed_on = repo.security_exchange(uow.session, symbol)
            first_bar, last_bar = repo.bar_span(uow.session, symbol, interval)
        code = _exchange_of(symbol, known, listed_on, exchange, first_bar is not None)
        spans = [d for d in (first_day, last_day) if d is not None]
        spans += [b.date() for b in (first_bar, last_bar) if b is not None]
        info = self._ensure(code, *spans)
        if first_bar is None or last_bar is None:
            if first_day is None or last_day is None:
                raise InputError(
                    InputProblem(
                        f"{symbol} has no {interval} bars to take the span from",
                        field="start" if first_day is None else "end",
                        expected="a date",
                    )
                )
            first_bar = last_bar = _midnight(first_day)  # unused: both ends are given
        _check_bars_in_window(info, symbol, interval, first_day, last_day, first_bar, last_bar)
        if interval == "1d":
            first = first_day or first_bar.astimezone(dt.UTC).date()
            last = last_day or last_bar.astimezone(dt.UTC).date()
            expected = self._schedule(info, first, last).index
            bars = self._bar_times(symbol, interval, _midnight(first), _midnight(last, 1))
            # A 1d bar starts at 00:00 UTC of its session date.
            present = pd.to_datetime(bars, utc=True).tz_convert(None).normalize().as_unit("ns")
        else:
            expected = self._bar_starts(info, interval, first_day, last_day, first_bar, last_bar)
            # The bars looked at: those of the span's local days, or from the first bar to
            # the last; and any expected one outside them (a futures evening open).
            zone = _zone(info.timezone)
            lo = _local_midnight(first_day, zone) if first_day else first_bar
            hi = _local_midnight(last_day, zone, 1) if last_day else last_bar
            if len(expected):
                lo = min(lo, expected[0].to_pydatetime())
                hi = max(hi, expected[-1].to_pydatetime())
            bars = self._bar_times(symbol, interval, lo, hi)
            present = pd.to_datetime(bars, utc=True).as_unit("ns")
        return _report(symbol, info, interval, expected, present)

    def _bar_starts(
        self,
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
        zone, margin = _zone(info.timezone), dt.timedelta(days=2)
        first = first_day or max(info.window_start, first_bar.astimezone(zone).date() - margin)
        last = last_day or min(info.window_end, last_bar.astimezone(zone).date() + margin)
        starts = sessions.bar_starts(self._schedule(info, first, last), BAR_MINUTES[interval])
        if first_day is None:
            starts = starts[starts >= pd.Timestamp(first_bar)]
        if last_day is None:
            starts = starts[starts <= pd.Timestamp(last_bar)]
        return starts

    # internals
    def _ensure(self, code: str, *needed: dt.date) -> Exchange:
        """The seeded exchange `code`; seeded now if it is not, over the default window
        widened to the `needed` dates."""
        with UnitOfWork(self.engine) as uow:
            row = repo.get_exchange(uow.session, code.strip())
            if row is not None:
                return _exchange(row)
        (name,) = _resolve_all([code])
        start = min(DEFAULT_START, *needed)
        end = max(_a_year_after(_today()), *needed)
        try:
            self._seed_one(name, start, end)
        except IntegrityError:
            log.info("%s was seeded meanwhile by another process", name)
        with UnitOfWork(self.engine) as uow:
            row = repo.get_exchange(uow.session, name)
            if row is None:  # pragma: no cover - seeding just stored it
                raise NotFoundError(f"exchange {name} is not seeded")
            return _exchange(row)

    def _schedule(self, info: Exchange, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Sessions from `start` to `end`, rebuilt from the stored rows."""
        import pandas as pd

        from foliodb.analytics import sessions

        _check_in_window(info, start, end, "start" if start < info.window_start else "end")
        with UnitOfWork(self.engine) as uow:
            hours = repo.load_hours(uow.session, info.code)
            holidays = repo.load_holidays(uow.session, info.code, start, end)
        return sessions.build_schedule(
            pd.DataFrame(hours, columns=list(sessions.HOURS_COLUMNS)),
            pd.DataFrame(holidays, columns=list(sessions.HOLIDAY_COLUMNS)),
            info.timezone,
            start,
            end,
        )

    def _bar_times(
        self, symbol: str, interval: str, start: dt.datetime, end: dt.datetime
    ) -> list[dt.datetime]:
        with UnitOfWork(self.engine) as uow:
            return repo.bar_times(uow.session, symbol, interval, start, end)

    def _beyond(self, code: str, what: str, at: dt.datetime) -> InputProblem:
        info = self._ensure(code)
        return InputProblem(
            f"{code}: {what} {at.isoformat()} within its seeded calendar "
            f"({info.window_start} to {info.window_end}); seed a wider window with "
            f"`foliodb calendar seed {code} --start ... --end ...`"
        )


# --- parsing and conversions --------------------------------------------------------------------
def _resolve_all(codes: Sequence[str]) -> list[str]:
    """exchange_calendars' spelling of each code; every unknown one reported together."""
    from foliodb.analytics import sessions

    resolved, problems = [], []
    for code in codes:
        name = sessions.resolve_name(code.strip())
        if name is None:
            problems.append(code)
        else:
            resolved.append(name)
    if problems:
        known = f"known: {', '.join(sessions.calendar_names())}"
        raise InputError(
            InputProblem(
                "is not an exchange foliodb knows" + ("" if code != problems[-1] else f"; {known}"),
                field="exchange",
                value=code,
            )
            for code in problems
        )
    return list(dict.fromkeys(resolved))


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


def _exchange(row: ExchangeRow) -> Exchange:
    return Exchange(
        code=row.code,
        name=row.name,
        timezone=row.timezone,
        country=row.country,
        first_session=row.first_session,
        last_session=row.last_session,
        window_start=row.window_start,
        window_end=row.window_end,
        source=row.source,
        seeded_at=row.seeded_at,
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
    zone = dt.UTC if interval == "1d" else _zone(info.timezone)  # a 1d bar: its UTC date
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


def _day(value: dt.date | str | None, field: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            InputProblem("is not a date", field=field, value=value, expected="YYYY-MM-DD")
        ) from None


def _required_day(value: dt.date | str, field: str) -> dt.date:
    day = _day(value, field)
    assert day is not None
    return day


def _instant(value: dt.datetime | str | None, field: str) -> dt.datetime:
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


def _zone(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _today() -> dt.date:
    return utcnow().date()


def _a_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _midnight(day: dt.date, later: int = 0) -> dt.datetime:
    """00:00 UTC of `day`; with `later`, the last microsecond before `later` days after it."""
    return _local_midnight(day, dt.UTC, later)


def _local_midnight(day: dt.date, zone: dt.tzinfo, later: int = 0) -> dt.datetime:
    """00:00 of `day` in `zone` as UTC; with `later`, the last microsecond before 00:00
    `later` days after it."""
    start = dt.datetime.combine(day + dt.timedelta(days=later), dt.time(), zone)
    return (start - dt.timedelta(microseconds=1 if later else 0)).astimezone(dt.UTC)


def _py(value: pd.Timestamp | None) -> dt.datetime | None:
    return None if value is None else value.to_pydatetime()
