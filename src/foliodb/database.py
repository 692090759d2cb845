"""The Python API: `foliodb.connect()` returns a Database whose methods mirror the CLI."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine

from foliodb.config import Settings
from foliodb.domain.types import PricingPack, TxType
from foliodb.errors import InputError, InputProblem
from foliodb.services import (
    attribution,
    bars,
    bootstrap,
    calendars,
    history,
    ledger,
    macro,
    news,
    performance,
    portfolios,
    pricing,
    report,
    valuation,
)
from foliodb.services import transactions as entries
from foliodb.services.bootstrap import SchemaStatus
from foliodb.services.results import (
    GainsResult,
    ImportResult,
    LotsResult,
    PackResult,
    PackSummary,
    PortfolioInfo,
    RebuildResult,
    ValuationResult,
)
from foliodb.services.transactions import EntryStatus, LedgerEntry, TransactionPage

if TYPE_CHECKING:
    import pandas as pd

PathLike = str | Path


_Choice = TypeVar("_Choice", bound=StrEnum)


def _choice(kind: type[_Choice], value: _Choice | str, field: str) -> _Choice:
    """The member of `kind` whose value is `value` in any case."""
    for member in kind:
        if member.value.casefold() == value.casefold():
            return member
    raise InputError(
        InputProblem(
            "is not one of the choices",
            field=field,
            value=str(value),
            expected=", ".join(m.value for m in kind),
        )
    )


def _day(value: dt.date | str, field: str) -> dt.date:
    """A date given as a date or as YYYY-MM-DD text; anything else is an InputError."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            InputProblem("is not a date", field=field, value=value, expected="YYYY-MM-DD")
        ) from None


class Database:
    """One foliodb database (SQLite file or PostgreSQL server).

    Portfolios are named by `name`; where two users have a portfolio of the same name, pass
    `owner` (the owner's email) to say which.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: Market data: OHLCV bars, roll-ups, retention (`db.bars.import_files(...)`).
        self.bars = bars.Bars(engine)
        #: Trading calendars and gaps in loaded bars (`db.calendars.sessions("XNYS", ...)`).
        self.calendars = calendars.Calendars(engine)
        #: Economic series as known on any date, derived indicators, regimes.
        self.macro = macro.Macro(engine)
        #: News articles and economic calendar events.
        self.news = news.News(engine)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # schema
    def upgrade(self) -> SchemaStatus:
        return bootstrap.upgrade(self.engine)

    def status(self) -> SchemaStatus:
        return bootstrap.status(self.engine)

    # portfolios
    def create_portfolio(
        self,
        name: str,
        base_currency: str = "USD",
        booking_method: str = "FIFO",
        owner: str | None = None,
        exist_ok: bool = False,
    ) -> PortfolioInfo:
        """Create a portfolio (owned by `owner`, default the local user). With `exist_ok`, an
        existing one with the same base currency and method is returned instead."""
        return portfolios.create_portfolio(
            self.engine,
            name,
            base_currency,
            booking_method,
            owner=owner or portfolios.LOCAL_USER,
            exist_ok=exist_ok,
        )

    def set_benchmark(
        self, portfolio: str, symbol: str | None, owner: str | None = None
    ) -> PortfolioInfo:
        """Give a portfolio its own benchmark (None removes it)."""
        return portfolios.set_benchmark(self.engine, portfolio, symbol, owner)

    def portfolios(self) -> list[PortfolioInfo]:
        return portfolios.list_portfolios(self.engine)

    def portfolio(self, name: str, owner: str | None = None) -> PortfolioInfo:
        return portfolios.show_portfolio(self.engine, name, owner)

    # imports
    def import_transactions(
        self,
        portfolio: str,
        path: PathLike,
        progress: ledger.Progress | None = None,
        owner: str | None = None,
        source: str | None = None,
    ) -> ImportResult:
        return ledger.import_transactions(
            self.engine, portfolio, Path(path), progress, owner, source
        )

    def import_prices(self, path: PathLike, source: str | None = None) -> ImportResult:
        return pricing.import_prices(self.engine, Path(path), source)

    def import_fx(self, path: PathLike, source: str | None = None) -> ImportResult:
        return pricing.import_fx(self.engine, Path(path), source)

    def import_securities(self, path: PathLike) -> ImportResult:
        return pricing.import_securities(self.engine, Path(path))

    # packs
    def create_pack(
        self, date: dt.date | str, carry_forward: bool = False, from_bars: bool = False
    ) -> PackResult:
        """Build and seal the pack of `date`; with `from_bars` prices also come from each
        security's 1d bar close (docs/marketdata.md)."""
        return pricing.create_pack(self.engine, _day(date, "date"), carry_forward, from_bars)

    def packs(self) -> list[PackSummary]:
        return pricing.list_packs(self.engine)

    def pack(self, pack_id: str) -> PricingPack:
        return pricing.show_pack(self.engine, pack_id)

    # ledger and valuation
    def valuation(
        self,
        portfolio: str,
        pack: str | None = None,
        date: dt.date | str | None = None,
        owner: str | None = None,
    ) -> ValuationResult:
        day = None if date is None else _day(date, "date")
        return valuation.value_portfolio(self.engine, portfolio, pack, day, owner)

    holdings = valuation

    def lots(self, portfolio: str, owner: str | None = None) -> LotsResult:
        return ledger.lots(self.engine, portfolio, owner)

    def realized_gains(
        self, portfolio: str, year: int | None = None, owner: str | None = None
    ) -> GainsResult:
        return ledger.realized_gains(self.engine, portfolio, year, owner)

    def transactions(
        self,
        portfolio: str,
        owner: str | None = None,
        *,
        status: EntryStatus | str | None = None,
        type: TxType | str | None = None,
        symbol: str | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> TransactionPage:
        """Ledger entries by trade date, reversed ones and reversals included unless `status`
        picks one standing (`active`, `reversed`, `reversal`)."""
        return entries.transactions_page(
            self.engine,
            portfolios.portfolio_id(self.engine, portfolio, owner),
            type=None if type is None else _choice(TxType, type, "type"),
            symbol=symbol,
            start=None if start is None else _day(start, "start"),
            end=None if end is None else _day(end, "end"),
            status=None if status is None else _choice(EntryStatus, status, "status"),
            limit=limit,
            offset=offset,
        )

    def reverse_transaction(
        self, portfolio: str, tx_id: str, reason: str | None = None, owner: str | None = None
    ) -> LedgerEntry:
        """Reverse a transaction: a reversal entry is appended and both leave the replay
        (docs/ledger.md). Returns the reversal entry."""
        return entries.reverse_transaction(
            self.engine, portfolios.portfolio_id(self.engine, portfolio, owner), tx_id, reason
        )

    def rebuild(
        self, portfolio: str, owner: str | None = None, repair: bool = True
    ) -> RebuildResult:
        """Replay and compare; with `repair` (default) a differing stored state is replaced."""
        return ledger.rebuild(self.engine, portfolio, owner, repair)

    # history and performance
    def daily_values(self, portfolio: str, owner: str | None = None) -> history.History:
        """Daily values at every sealed pack date with time-weighted daily returns
        (computed where missing, stored); `.to_frame()` for pandas."""
        return history.daily_history(self.engine, portfolio, owner)

    def performance(
        self,
        portfolio: str,
        owner: str | None = None,
        as_of: dt.date | str | None = None,
        benchmark: str | None = None,
        start: dt.date | str | None = None,
    ) -> performance.Performance:
        """Period table (TWR), money-weighted return since inception and risk metrics; with
        a `benchmark` symbol also its period table and the relative metrics; with `start` a
        CUSTOM period from `start` to `as_of` (or the last valued day)."""
        day = None if as_of is None else _day(as_of, "as_of")
        first = None if start is None else _day(start, "start")
        return performance.performance(self.engine, portfolio, owner, day, benchmark, start=first)

    def report(
        self,
        portfolio: str,
        out: PathLike,
        owner: str | None = None,
        benchmark: str | None = None,
    ) -> Path:
        """Write a self-contained HTML tearsheet (opens offline) and return its path; the
        benchmark defaults to the portfolio's own."""
        benchmark = benchmark or self.portfolio(portfolio, owner).benchmark
        return report.write_report(
            self.engine, portfolio, Path(out), owner=owner, benchmark=benchmark
        )

    def metrics_table(
        self, portfolios: list[str] | None = None, ttl: dt.timedelta | None = None
    ) -> pd.DataFrame:
        """Every metric for many portfolios (default: all): metrics as rows, portfolios as
        columns, each over its own valued days. Served from the cache where the inputs are
        unchanged; the rest computed in one vectorised pass (per set of shared dates)."""
        return performance.metrics_table(self.engine, portfolios, ttl)

    def cache_counters(self) -> dict[str, tuple[int, int]]:
        """(hits, misses) of each cache of computed figures."""
        return performance.cache_counters(self.engine)

    def attribution(
        self,
        portfolio: str,
        start: dt.date | str,
        end: dt.date | str,
        owner: str | None = None,
    ) -> attribution.Attribution:
        """Currency attribution of a period: local, FX and interaction, against the actual
        base return (the residual in basis points)."""
        return attribution.attribution(
            self.engine, portfolio, _day(start, "start"), _day(end, "end"), owner
        )


def connect(
    url: str | None = None, *, create: bool = False, settings: Settings | None = None
) -> Database:
    """Open the database at `url` (default FOLIODB_DATABASE_URL, else the user's SQLite file).

    With `create=True` the schema is created or migrated first; otherwise a database that is
    not at the current schema is refused with the command that fixes it.
    """
    settings = bootstrap.load_settings(settings)
    engine = bootstrap.open_engine(url, settings, create=create)
    if create:
        bootstrap.upgrade(engine)
    else:
        bootstrap.require_current(engine)
    valuation.configure_cache(engine, settings.valuation_cache)
    return Database(engine)
