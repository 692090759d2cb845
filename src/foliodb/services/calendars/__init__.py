"""Trading calendars seeded from exchange_calendars, and gap detection in loaded bars.

Seeding derives each exchange's stored form (regular hours by period, closed days, special
sessions) from exchange_calendars; every query afterwards rebuilds sessions from the database
alone (foliodb.analytics.sessions), so answers do not change when exchange_calendars does
until the exchange is seeded again. See docs/calendars.md.

`Calendars` is the API; seeding, sessions and instants (schedules) and gaps live in their own
modules as functions of the engine, and the names callers use are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from foliodb.services.calendars import gaps, schedules, seeding
from foliodb.services.calendars.gaps import BAR_MINUTES, Gap, GapReport
from foliodb.services.calendars.schedules import MarketStatus
from foliodb.services.calendars.seeding import (
    DEFAULT_EXCHANGES,
    DEFAULT_START,
    Exchange,
    SeedResult,
)

if TYPE_CHECKING:  # pandas and the calendar math load on first use (they cost 0.3 s)
    import pandas as pd

__all__ = [
    "BAR_MINUTES",
    "DEFAULT_EXCHANGES",
    "DEFAULT_START",
    "Calendars",
    "Exchange",
    "Gap",
    "GapReport",
    "MarketStatus",
    "SeedResult",
]


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
        return seeding.seed(self.engine, exchanges, start, end)

    # exchanges
    def exchanges(self) -> list[Exchange]:
        """The seeded exchanges, by code."""
        return seeding.list_exchanges(self.engine)

    def exchange(self, code: str) -> Exchange:
        """One exchange, seeded first if it is not yet."""
        return seeding.ensure(self.engine, code)

    # sessions and instants
    def sessions(self, exchange: str, start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
        """The sessions from `start` to `end` (session dates, inclusive): index ``session``;
        ``kind`` (REGULAR, EARLY_CLOSE, LATE_OPEN, SPECIAL); ``open_utc``,
        ``break_start_utc``, ``break_end_utc``, ``close_utc`` and the same instants in the
        exchange's zone as ``*_local`` (NaT when a session has no break). ``attrs`` name the
        ``exchange`` (as stored) and its ``timezone``."""
        return schedules.list_sessions(self.engine, exchange, start, end)

    def status(self, exchange: str, at: dt.datetime | str | None = None) -> MarketStatus:
        """Whether `exchange` is open at `at` (default now; naive means UTC), with the
        opens and closes around it."""
        return schedules.status(self.engine, exchange, at)

    def is_open(self, exchange: str, at: dt.datetime | str | None = None) -> bool:
        """Whether `exchange` trades at `at` (default now; naive means UTC). Open from each
        session's open (inclusive) to its close (exclusive); closed during a break."""
        return schedules.is_open(self.engine, exchange, at)

    def next_open(self, exchange: str, after: dt.datetime | str | None = None) -> dt.datetime:
        """The first session open of `exchange` strictly after `after` (default now), UTC."""
        return schedules.next_open(self.engine, exchange, after)

    def previous_close(self, exchange: str, before: dt.datetime | str | None = None) -> dt.datetime:
        """The last session close of `exchange` at or before `before` (default now), UTC."""
        return schedules.previous_close(self.engine, exchange, before)

    def session_minutes(
        self, exchange: str, start: dt.date | str, end: dt.date | str
    ) -> pd.DatetimeIndex:
        """UTC start of every trading minute of the sessions from `start` to `end`: each
        minute ``ts`` with ``open <= ts < close`` outside breaks."""
        return schedules.session_minutes(self.engine, exchange, start, end)

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
        return gaps.find_gaps(self.engine, symbol, interval, start, end, exchange)
