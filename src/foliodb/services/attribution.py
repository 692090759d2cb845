"""Currency attribution of a period: how much of the base-currency return came from the
assets' own (local-currency) moves, how much from exchange rates, and their interaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from collections import defaultdict

from sqlalchemy import Engine

from foliodb.domain import ledger
from foliodb.domain.pricing import FxTable, price_index
from foliodb.domain.types import BookingMethod
from foliodb.errors import InputError, NotFoundError, PriceMissingError
from foliodb.services import history
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.tables import CurrencyAttributionRow
from foliodb.store.uow import UnitOfWork


@dataclasses.dataclass(frozen=True)
class CurrencyContribution:
    """One currency's bucket (its securities and its cash) over the period.

    `weight` is its share of the portfolio at the start, in base currency; `local_return` the
    bucket's return in its own currency and `fx_return` the currency's move against the base;
    the three contributions are weight x local, weight x fx and weight x local x fx.
    """

    currency: str
    weight: float
    local_return: float
    fx_return: float
    local_contribution: float
    fx_contribution: float
    interaction: float

    @property
    def total(self) -> float:
        return self.local_contribution + self.fx_contribution + self.interaction


@dataclasses.dataclass(frozen=True)
class Attribution:
    """Buy-and-hold attribution of the start holdings from `start_pack` to `end_pack`.

    local + fx + interaction is exactly the base return of those holdings; `actual` is the
    portfolio's time-weighted base return over the period, and `residual_bp` (actual - total,
    in basis points) is what trading and flows during the period changed.
    """

    portfolio: str
    base_currency: str
    start: dt.date
    end: dt.date
    start_pack: str
    end_pack: str
    currencies: tuple[CurrencyContribution, ...]
    local: float
    fx: float
    interaction: float
    total: float
    actual: float
    residual_bp: float


CACHE = "attribution"
#: Bumped whenever the computation changes, so figures of an older version never hit.
VERSION = 1
#: The `currency` of the overall row in the cache table.
OVERALL = "*"


def attribution(
    engine: Engine,
    portfolio: str,
    start: dt.date,
    end: dt.date,
    owner: str | None = None,
) -> Attribution:
    """Cache-or-compute: the `currency_attribution` rows of the period are served while their
    fingerprint holds, which covers the portfolio's ledger version and the newest seal among
    packs dated up to the period's end; a new transaction, or a pack sealed or restated on or
    before the end, misses, while packs sealed for later dates leave the figures cached."""
    if end <= start:
        raise InputError(f"--end {end} must be after --start {start}")
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = repos.load_portfolio(session, portfolio, owner)
        start_pack_id = repos.latest_complete_pack_id(session, start)
        end_pack_id = repos.latest_complete_pack_id(session, end)
        if start_pack_id is None or end_pack_id is None or start_pack_id == end_pack_id:
            raise NotFoundError(
                f"attribution needs sealed packs on or before {start} and {end}, two different ones"
            )
        start_date, end_date = (
            repos.load_pack(session, p).date for p in (start_pack_id, end_pack_id)
        )
        key = json.dumps(
            {
                "version": VERSION,
                "ledger_version": row.ledger_version,
                "newest_seal": str(repos.newest_seal(session, until=end_date)),
            },
            sort_keys=True,
        )
        fingerprint = hashlib.sha256(key.encode()).hexdigest()
        cached = repos.cached_attribution(session, row.id, start_pack_id, end_pack_id, fingerprint)
        repos.count(session, CACHE, hit=bool(cached))
        portfolio_id, base = row.id, row.base_currency
        uow.commit()
    if cached:
        return _from_rows(
            portfolio, base, (start_pack_id, start_date), (end_pack_id, end_date), cached
        )
    result = _compute(engine, portfolio, owner, start_pack_id, end_pack_id)
    with UnitOfWork(engine) as uow:
        repos.store_attribution(
            uow.session,
            portfolio_id,
            start_pack_id,
            end_pack_id,
            _to_rows(result, portfolio_id, fingerprint),
        )
        uow.commit()
    return result


def _to_rows(
    result: Attribution, portfolio_id: int, fingerprint: str
) -> list[CurrencyAttributionRow]:
    now = utcnow()
    rows = [
        CurrencyAttributionRow(
            currency=c.currency,
            weight=c.weight,
            local_return=c.local_return,
            fx_return=c.fx_return,
            local_contribution=c.local_contribution,
            fx_contribution=c.fx_contribution,
            interaction=c.interaction,
        )
        for c in result.currencies
    ]
    rows.append(
        CurrencyAttributionRow(
            currency=OVERALL,
            weight=1.0,
            local_contribution=result.local,
            fx_contribution=result.fx,
            interaction=result.interaction,
            actual=result.actual,
        )
    )
    for row in rows:
        row.start_pack_id, row.end_pack_id = result.start_pack, result.end_pack
        row.portfolio_id, row.fingerprint, row.computed_at = portfolio_id, fingerprint, now
    return rows


def _from_rows(
    portfolio: str,
    base: str,
    start_pack: tuple[str, dt.date],
    end_pack: tuple[str, dt.date],
    rows: list[CurrencyAttributionRow],
) -> Attribution:
    overall = next(r for r in rows if r.currency == OVERALL)
    currencies = tuple(
        CurrencyContribution(
            r.currency,
            r.weight,
            _float(r.local_return),
            _float(r.fx_return),
            r.local_contribution,
            r.fx_contribution,
            r.interaction,
        )
        for r in rows
        if r.currency != OVERALL
    )
    total = overall.local_contribution + overall.fx_contribution + overall.interaction
    actual = _float(overall.actual)
    return Attribution(
        portfolio,
        base,
        start_pack[1],
        end_pack[1],
        start_pack[0],
        end_pack[0],
        currencies,
        overall.local_contribution,
        overall.fx_contribution,
        overall.interaction,
        total,
        actual,
        (actual - total) * 10_000,
    )


def _float(value: float | None) -> float:
    return math.nan if value is None else value


def _compute(
    engine: Engine, portfolio: str, owner: str | None, start_pack_id: str, end_pack_id: str
) -> Attribution:
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = repos.load_portfolio(session, portfolio, owner)
        start_pack = repos.load_pack(session, start_pack_id)
        end_pack = repos.load_pack(session, end_pack_id)
        transactions = repos.list_transactions(session, row.id, until=start_pack.date)
        base, method = row.base_currency, BookingMethod(row.booking_method)
    state = ledger.replay(transactions, method)
    start_prices, end_prices = price_index(start_pack.prices), price_index(end_pack.prices)
    missing = sorted(s for s in ledger.positions(state) if s not in end_prices)
    if missing:
        raise PriceMissingError(f"pack {end_pack_id} has no price for {', '.join(missing)}")
    begin: dict[str, float] = defaultdict(float)  # local value of each currency's bucket
    finish: dict[str, float] = defaultdict(float)
    for symbol, quantity in ledger.positions(state).items():
        currency = start_prices[symbol].currency
        begin[currency] += float(quantity * start_prices[symbol].price)
        finish[currency] += float(quantity * end_prices[symbol].price)
    for cash in state.cash:
        begin[cash.currency] += float(cash.balance)
        finish[cash.currency] += float(cash.balance)
    fx_start = FxTable(start_pack.fx_rates, start_pack_id)
    fx_end = FxTable(end_pack.fx_rates, end_pack_id)
    rates = {c: (float(fx_start.rate(c, base)), float(fx_end.rate(c, base))) for c in begin}
    nav = sum(begin[c] * rates[c][0] for c in begin)
    if nav <= 0:
        raise NotFoundError(f"{portfolio} has no capital at {start_pack_id}")
    rows = []
    for currency in sorted(begin):
        weight = begin[currency] * rates[currency][0] / nav
        local = finish[currency] / begin[currency] - 1 if begin[currency] else 0.0
        fx_move = rates[currency][1] / rates[currency][0] - 1
        rows.append(
            CurrencyContribution(
                currency,
                weight,
                local,
                fx_move,
                weight * local,
                weight * fx_move,
                weight * local * fx_move,
            )
        )
    local_part = sum(r.local_contribution for r in rows)
    fx_part = sum(r.fx_contribution for r in rows)
    cross = sum(r.interaction for r in rows)
    total = local_part + fx_part + cross
    days = history.daily_history(engine, portfolio, owner).days
    growth = 1.0
    for day in days:
        if start_pack.date < day.date <= end_pack.date and not math.isnan(day.daily_return):
            growth *= 1 + day.daily_return
    actual = growth - 1
    return Attribution(
        portfolio,
        base,
        start_pack.date,
        end_pack.date,
        start_pack_id,
        end_pack_id,
        tuple(rows),
        local_part,
        fx_part,
        cross,
        total,
        actual,
        (actual - total) * 10_000,
    )
