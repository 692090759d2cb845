"""What the use cases return: dataclasses of exact values, each with `.to_frame()`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from foliodb.domain import money
from foliodb.domain.types import (
    CashValue,
    Lot,
    PositionValue,
    PricingPack,
    RealizedGain,
    Valuation,
)

if TYPE_CHECKING:  # pandas loads only when a frame is asked for (it costs 0.3 s)
    import pandas as pd


def records(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Plain dicts of dataclasses, field names unchanged (they are our column names)."""
    return [dataclasses.asdict(item) for item in items]


def frame(items: Sequence[Any], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A DataFrame of dataclass rows; Decimal columns become float64 for analysis (the exact
    values stay on the dataclasses)."""
    names = (
        list(columns)
        if columns is not None
        else ([f.name for f in dataclasses.fields(items[0])] if items else [])
    )
    import pandas as pd

    data = pd.DataFrame.from_records(records(items), columns=names)
    for name in data.columns:
        if len(data) and isinstance(data[name].iloc[0], Decimal):
            data[name] = data[name].astype("float64")
        if len(data) and isinstance(data[name].iloc[0], dt.date):
            data[name] = pd.to_datetime(data[name])
    return data


@dataclasses.dataclass(frozen=True)
class PortfolioRef:
    """A portfolio known by id, with what the name-addressed use cases need to find it."""

    id: int
    name: str
    owner: str  # the owner's email
    owner_id: int


@dataclasses.dataclass(frozen=True)
class PortfolioInfo:
    name: str
    owner: str
    base_currency: str
    booking_method: str
    transaction_count: int
    ledger_version: int
    benchmark: str | None = None


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """What one import did: rows read, added, updated (prices/FX) and skipped as already there;
    of those skipped, `reversed` are transactions reversed since, which stay reversed."""

    file: str
    kind: str
    rows: int
    added: int
    updated: int
    skipped: int
    new_securities: tuple[str, ...] = ()
    reversed: int = 0


@dataclasses.dataclass(frozen=True)
class PackResult:
    """The pack a date now has; `failure` is set when this attempt failed and the date kept
    its earlier sealed pack."""

    pack: PricingPack
    created: bool
    carried: tuple[str, ...] = ()
    failure: str | None = None

    @property
    def pack_id(self) -> str:
        return self.pack.pack_id


@dataclasses.dataclass(frozen=True)
class PackSummary:
    pack_id: str
    date: dt.date
    status: str
    prices: int
    fx_rates: int
    supersedes: str | None
    content_hash: str | None
    reason: str | None


@dataclasses.dataclass(frozen=True)
class ValuationResult:
    """A valuation plus frames of its positions and cash. `ledger_version` counts the
    portfolio's ledger changes (with the pack id it pins what the figures were computed from);
    `later_transactions` counts transactions dated after the pack, which it leaves out."""

    valuation: Valuation
    ledger_version: int = 0
    later_transactions: int = 0

    @property
    def pack_id(self) -> str:
        return self.valuation.pack_id

    @property
    def positions(self) -> tuple[PositionValue, ...]:
        return self.valuation.positions

    @property
    def cash(self) -> tuple[CashValue, ...]:
        return self.valuation.cash

    def to_frame(self) -> pd.DataFrame:
        columns = [f.name for f in dataclasses.fields(PositionValue)]
        return frame(self.valuation.positions, columns)

    def cash_frame(self) -> pd.DataFrame:
        return frame(self.valuation.cash, [f.name for f in dataclasses.fields(CashValue)])

    def totals(self) -> dict[str, Any]:
        v = self.valuation
        return {
            "portfolio": v.portfolio,
            "base_currency": v.base_currency,
            "pack_id": v.pack_id,
            "date": v.date,
            "ledger_version": self.ledger_version,
            "securities_value": v.securities_value,
            "cash_value": v.cash_value,
            "total_value": v.total_value,
            "cost_basis_base": v.cost_basis_base,
            "unrealized_pnl_base": v.unrealized_pnl_base,
            "price_effect_base": v.price_effect_base,
            "currency_effect_base": v.currency_effect_base,
        }


@dataclasses.dataclass(frozen=True)
class LotsResult:
    portfolio: str
    lots: tuple[Lot, ...]

    def to_frame(self) -> pd.DataFrame:
        return frame(self.lots, [f.name for f in dataclasses.fields(Lot)])


@dataclasses.dataclass(frozen=True)
class GainsResult:
    portfolio: str
    year: int | None
    gains: tuple[RealizedGain, ...]

    def to_frame(self) -> pd.DataFrame:
        return frame(self.gains, [f.name for f in dataclasses.fields(RealizedGain)])

    def total_base(self) -> Decimal:
        return money.total(g.gain_base for g in self.gains)


@dataclasses.dataclass(frozen=True)
class RebuildResult:
    """A replay compared with what was stored: identical, or the differences found."""

    portfolio: str
    transactions: int
    lots: int
    realized_gains: int
    differences: tuple[str, ...]
    repaired: bool = False

    @property
    def identical(self) -> bool:
        return not self.differences
