"""Valuations (holdings) and pricing packs."""

from __future__ import annotations

import datetime as dt

from foliodb.domain.types import PackStatus
from foliodb.server.schemas.common import Exact, Schema
from foliodb.services.results import ValuationResult


class PositionPublic(Schema):
    symbol: str
    currency: str
    quantity: Exact
    price: Exact
    price_date: dt.date
    market_value: Exact
    fx_rate: Exact
    market_value_base: Exact
    cost_basis: Exact
    cost_basis_base: Exact
    unrealized_pnl_base: Exact
    price_effect_base: Exact
    currency_effect_base: Exact
    weight: Exact


class CashPublic(Schema):
    currency: str
    balance: Exact
    fx_rate: Exact
    value_base: Exact
    weight: Exact


class ValuationPublic(Schema):
    """The CLI's `holdings --format json`: totals in base currency, positions and cash;
    `later_transactions` counts transactions dated after the pack (not in these figures)."""

    portfolio: str
    base_currency: str
    pack_id: str
    date: dt.date
    ledger_version: int
    securities_value: Exact
    cash_value: Exact
    total_value: Exact
    cost_basis_base: Exact
    unrealized_pnl_base: Exact
    price_effect_base: Exact
    currency_effect_base: Exact
    later_transactions: int
    positions: list[PositionPublic]
    cash: list[CashPublic]

    @classmethod
    def of(cls, result: ValuationResult) -> ValuationPublic:
        return cls.model_validate(
            {
                **result.totals(),
                "later_transactions": result.later_transactions,
                "positions": result.positions,
                "cash": result.cash,
            }
        )


class PackSummaryPublic(Schema):
    pack_id: str
    date: dt.date
    status: PackStatus
    prices: int
    fx_rates: int
    supersedes: str | None
    content_hash: str | None
    reason: str | None


class PackPricePublic(Schema):
    symbol: str
    price: Exact
    currency: str
    price_date: dt.date


class PackFxRatePublic(Schema):
    base: str
    quote: str
    rate: Exact
    rate_date: dt.date


class PackPublic(Schema):
    pack_id: str
    date: dt.date
    status: PackStatus
    content_hash: str | None
    supersedes: str | None
    sealed_at: dt.datetime | None
    reason: str | None
    prices: list[PackPricePublic]
    fx_rates: list[PackFxRatePublic]


class PackCreate(Schema):
    """Build and seal the pack of `date` from imported prices and FX (docs/packs.md)."""

    date: dt.date
    carry_forward: bool = False
    from_bars: bool = False


class PackCreated(Schema):
    """The pack the date now has. `created` is false when it was already sealed with the
    same contents; `failure` says why a restatement failed (the sealed pack stays);
    a pack FAILED gives its `reason`."""

    pack_id: str
    date: dt.date
    status: PackStatus
    created: bool
    content_hash: str | None
    supersedes: str | None
    reason: str | None
    failure: str | None
    carried: list[str]
