"""Seeding: each exchange's stored form (regular hours by period, closed days, special
sessions) derived from exchange_calendars and stored in one transaction; an exchange not
seeded yet is seeded on first use."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from importlib.metadata import version

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from foliodb.errors import FoliodbError, InputError, InputProblem, NotFoundError
from foliodb.services.calendars import dates
from foliodb.store.base import utcnow
from foliodb.store.repos import calendars as repo
from foliodb.store.tables_calendars import ExchangeRow
from foliodb.store.uow import UnitOfWork

log = logging.getLogger("foliodb.services.calendars")  # one logger for the calendar modules

#: What `seed()` seeds when no exchange is named.
DEFAULT_EXCHANGES = ("XNYS", "XNAS", "XTSE", "XLON", "XETR", "XPAR", "XTKS", "XHKG", "XASX")
#: First day of the default seeding window (the last is a year after today).
DEFAULT_START = dt.date(2000, 1, 1)


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


def seed(
    engine: Engine,
    exchanges: Sequence[str] | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> list[SeedResult]:
    """Store the calendars of `exchanges`: `Calendars.seed`, which says which and when."""
    first = dates.parse_day(start, "start") or DEFAULT_START
    last = dates.parse_day(end, "end") or dates.a_year_after(dates.today())
    if first > last:
        raise InputError(
            InputProblem("is after end", field="start", value=first.isoformat(), expected="<= end")
        )
    if isinstance(exchanges, str):  # one code, not its letters
        exchanges = [exchanges]
    codes = _resolve_all(exchanges or DEFAULT_EXCHANGES)
    return [seed_one(engine, code, first, last) for code in codes]


def seed_one(engine: Engine, code: str, start: dt.date, end: dt.date) -> SeedResult:
    """Seed one exchange (exchange_calendars' name) from `start` to `end`, within what
    exchange_calendars covers; its stored rows are replaced in one transaction."""
    from foliodb.analytics import sessions

    low, high = sessions.calendar_bounds(code)
    first = max(start, low) if low else start
    last = min(end, high) if high else end
    if first > last:
        covered = f"from {low}" if low else ""
        covered += f"{' ' if low else ''}until {high}" if high else ""
        raise InputError(f"exchange_calendars covers {code} only {covered}, not {start} to {end}")
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
    holidays = [{str(k): v for k, v in row.items()} for row in tables.holidays.to_dict("records")]
    with UnitOfWork(engine) as uow:
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


def list_exchanges(engine: Engine) -> list[Exchange]:
    """The seeded exchanges, by code."""
    with UnitOfWork(engine) as uow:
        return [_exchange(row) for row in repo.list_exchanges(uow.session)]


def ensure(engine: Engine, code: str, *needed: dt.date) -> Exchange:
    """The seeded exchange `code`; seeded now if it is not, over the default window
    widened to the `needed` dates."""
    with UnitOfWork(engine) as uow:
        row = repo.get_exchange(uow.session, code.strip())
        if row is not None:
            return _exchange(row)
    (name,) = _resolve_all([code])
    start = min(DEFAULT_START, *needed)
    end = max(dates.a_year_after(dates.today()), *needed)
    try:
        seed_one(engine, name, start, end)
    except IntegrityError:
        log.info("%s was seeded meanwhile by another process", name)
    with UnitOfWork(engine) as uow:
        row = repo.get_exchange(uow.session, name)
        if row is None:  # pragma: no cover - seeding just stored it
            raise NotFoundError(f"exchange {name} is not seeded")
        return _exchange(row)


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
