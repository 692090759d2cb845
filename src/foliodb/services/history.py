"""Daily history: a portfolio's value at every sealed pack date, its external flows, and the
time-weighted daily returns built from them. Stored, and recomputed only from the first date an
input changed (a transaction dated D, or a pack restated for D)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections import defaultdict
from decimal import Decimal

import numpy as np
from sqlalchemy import Engine

from foliodb.analytics import returns
from foliodb.domain import ledger, valuation
from foliodb.domain.money import CONTEXT, ZERO
from foliodb.domain.pricing import FxTable, price_index
from foliodb.domain.types import (
    EXTERNAL_FLOW_TYPES,
    BookingMethod,
    PricingPack,
    Transaction,
    TxType,
)
from foliodb.store import repos
from foliodb.store.uow import UnitOfWork

INCOME_TYPES = frozenset({TxType.DIVIDEND, TxType.INTEREST})
CHARGE_TYPES = frozenset({TxType.FEE, TxType.TAX})
INFLOW_TYPES = frozenset({TxType.DEPOSIT, TxType.TRANSFER_IN})


@dataclasses.dataclass(frozen=True)
class DailyValue:
    """One day of a portfolio's history, in its base currency. `daily_return` is the
    time-weighted return of the day (NaN on a day without capital); `local_return` the same
    with every currency at the previous day's rate, so the difference is the currency effect."""

    date: dt.date
    pack_id: str
    nav: Decimal
    securities_value: Decimal
    cash_value: Decimal
    external_flows: Decimal
    income: Decimal
    fees: Decimal
    daily_pnl: Decimal
    daily_return: float
    local_return: float


@dataclasses.dataclass(frozen=True)
class History:
    portfolio: str
    base_currency: str
    days: tuple[DailyValue, ...]
    recomputed: int

    def to_frame(self):  # type: ignore[no-untyped-def]  # pandas is imported lazily
        from foliodb.services.results import frame

        data = frame(self.days, [f.name for f in dataclasses.fields(DailyValue)])
        return data.set_index("date")


def _flow_base(tx: Transaction, pack: PricingPack, fx: FxTable, base: str) -> Decimal:
    """An external flow in base currency at the pack of its value date (positive = in)."""
    if tx.symbol is not None and tx.quantity is not None:  # securities moving in or out
        quote = price_index(pack.prices).get(tx.symbol)
        unit = quote.price if quote is not None else (tx.price or ZERO)
        local = tx.quantity * unit
    else:
        local = tx.amount or ZERO
    sign = 1 if tx.type in INFLOW_TYPES else -1
    return sign * local * fx.rate(tx.currency, base)


def refresh_history(engine: Engine, portfolio: str, owner: str | None = None) -> int:
    """Compute and store the days not stored yet; returns how many were computed."""
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = repos.load_portfolio(session, portfolio, owner)
        repos.lock_portfolio(session, row.id)
        transactions = repos.list_transactions(session, row.id)
        if not transactions:
            return 0
        first = min(tx.trade_date for tx in transactions)
        last = repos.last_history_date(session, row.id)
        packs = repos.sealed_pack_ids_by_date(session, since=first)
        todo = sorted(day for day in packs if last is None or day > last)
        if not todo:
            return 0
        previous = repos.history_row(session, row.id, last) if last else None
        prev_nav = previous.nav if previous else ZERO
        prev_day = last or first - dt.timedelta(days=1)
        # Each transaction belongs to the first valuation date on or after its trade date.
        by_value_date: dict[dt.date, list[Transaction]] = defaultdict(list)
        dates = iter(todo)
        current: dt.date | None = next(dates)
        for tx in sorted(transactions, key=lambda t: t.trade_date):
            if tx.trade_date <= prev_day:
                continue
            while current is not None and tx.trade_date > current:
                current = next(dates, None)
            if current is None:
                break
            by_value_date[current].append(tx)
        values, flows = [], []
        base = row.base_currency
        prior_fx: FxTable | None = None
        if last is not None and last in packs:
            prior = repos.load_pack(session, previous.pack_id if previous else packs[last])
            prior_fx = FxTable(prior.fx_rates, prior.pack_id)
        with decimal.localcontext(CONTEXT):
            for day, state in ledger.replay_snapshots(
                transactions, todo, BookingMethod(row.booking_method)
            ):
                pack = repos.load_pack(session, packs[day])
                worth = valuation.value(row.name, base, state, pack)
                fx = FxTable(pack.fx_rates, pack.pack_id)
                # Today's holdings at yesterday's rates: the day's value without its FX move.
                then = prior_fx or fx
                at_prior_fx = sum(
                    (p.market_value * then.rate(p.currency, base) for p in worth.positions),
                    ZERO,
                ) + sum((c.balance * then.rate(c.currency, base) for c in worth.cash), ZERO)
                prior_fx = fx
                external = income = fees = ZERO
                for tx in by_value_date.get(day, ()):
                    rate = fx.rate(tx.currency, base)
                    fees += tx.fee * rate
                    if tx.type in EXTERNAL_FLOW_TYPES:
                        amount = _flow_base(tx, pack, fx, base)
                        external += amount
                        flows.append(
                            {
                                "portfolio_id": row.id,
                                "tx_id": tx.tx_id,
                                "trade_date": tx.trade_date,
                                "value_date": day,
                                "type": tx.type.value,
                                "currency": tx.currency,
                                "amount": amount / rate,
                                "amount_base": amount,
                            }
                        )
                    elif tx.type in INCOME_TYPES:
                        income += (tx.amount or ZERO) * rate
                    elif tx.type in CHARGE_TYPES:
                        fees += (tx.amount or ZERO) * rate
                values.append(
                    {
                        "portfolio_id": row.id,
                        "date": day,
                        "pack_id": pack.pack_id,
                        "nav": worth.total_value,
                        "nav_at_prior_fx": at_prior_fx,
                        "securities_value": worth.securities_value,
                        "cash_value": worth.cash_value,
                        "external_flows": external,
                        "income": income,
                        "fees": fees,
                        "daily_pnl": worth.total_value - prev_nav - external,
                    }
                )
                prev_nav = worth.total_value
        repos.add_history(session, values, flows)
        uow.commit()
        return len(values)


def daily_history(engine: Engine, portfolio: str, owner: str | None = None) -> History:
    """The portfolio's daily values (refreshed first), with time-weighted daily returns.

    Flows count at the start of their day and outflows at its end (docs/conventions.md), so a
    day that sells out and withdraws everything still has a return.
    """
    recomputed = refresh_history(engine, portfolio, owner)
    with UnitOfWork(engine) as uow:
        row = repos.load_portfolio(uow.session, portfolio, owner)
        stored = repos.load_history(uow.session, row.id)
        base = row.base_currency
    navs = np.array([float(r.nav) for r in stored])
    cash_flows = np.array([float(r.external_flows) for r in stored])
    local_navs = np.array([float(r.nav_at_prior_fx) for r in stored])
    if stored:
        previous = returns.previous_values(navs)
        daily = returns.daily_twr(navs, previous, cash_flows, outflows_at="end")
        local = returns.daily_twr(local_navs, previous, cash_flows, outflows_at="end")
    else:
        daily = local = np.array([])
    days = tuple(
        DailyValue(
            r.date,
            r.pack_id,
            r.nav,
            r.securities_value,
            r.cash_value,
            r.external_flows,
            r.income,
            r.fees,
            r.daily_pnl,
            float(daily[i]),
            float(local[i]),
        )
        for i, r in enumerate(stored)
    )
    return History(portfolio, base, days, recomputed)
