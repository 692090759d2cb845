"""Immutable domain values: transactions, lots, realized gains, packs, valuations."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal

Currency = str
Symbol = str
LotId = str
PackId = str


class TxType(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    SELL_SHORT = "SELL_SHORT"
    BUY_TO_COVER = "BUY_TO_COVER"
    DIVIDEND = "DIVIDEND"
    INTEREST = "INTEREST"
    FEE = "FEE"
    TAX = "TAX"
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"
    SPLIT = "SPLIT"
    FX_CONVERSION = "FX_CONVERSION"


#: The tx_id suffix of a reversal entry (the transaction's id + it); no external id ends so.
REVERSAL_SUFFIX = "~reversal"
#: The longest tx_id or external_id (the column's width).
MAX_TX_ID = 128

#: Types that move a security quantity and so need symbol, quantity and price.
TRADE_TYPES = frozenset({TxType.BUY, TxType.SELL, TxType.SELL_SHORT, TxType.BUY_TO_COVER})
#: Types that are pure cash movements and need an amount.
CASH_TYPES = frozenset(
    {TxType.DIVIDEND, TxType.INTEREST, TxType.FEE, TxType.TAX, TxType.DEPOSIT, TxType.WITHDRAWAL}
)
#: External flows: money or securities crossing the portfolio's boundary.
EXTERNAL_FLOW_TYPES = frozenset(
    {TxType.DEPOSIT, TxType.WITHDRAWAL, TxType.TRANSFER_IN, TxType.TRANSFER_OUT}
)

#: Replay order within one trade date (documented in docs/ledger.md): money arrives and
#: splits take effect first, then trades, then transfers out, income and charges, then
#: conversions and money leaving. Ties are broken by tx_id, so replay never depends on the
#: order rows arrived in. Trades are ranked by the side a symbol is on at the start of the
#: day: a long or flat position adds, then closes, then may open a short and close it again;
#: a short position the other way round (SHORT_SIDE_ORDER). So a day trade and a flip from
#: long to short (or back) both replay as they happened.
DAY_ORDER: dict[TxType, int] = {
    TxType.DEPOSIT: 0,
    TxType.TRANSFER_IN: 1,
    TxType.SPLIT: 2,
    TxType.BUY: 3,
    TxType.SELL: 4,
    TxType.SELL_SHORT: 5,
    TxType.BUY_TO_COVER: 6,
    TxType.TRANSFER_OUT: 7,
    TxType.DIVIDEND: 8,
    TxType.INTEREST: 9,
    TxType.FEE: 10,
    TxType.TAX: 11,
    TxType.FX_CONVERSION: 12,
    TxType.WITHDRAWAL: 13,
}
#: The trades' ranks for a symbol that is short at the start of the day.
SHORT_SIDE_ORDER: dict[TxType, int] = {
    TxType.SELL_SHORT: 3,
    TxType.BUY_TO_COVER: 4,
    TxType.BUY: 5,
    TxType.SELL: 6,
}


class BookingMethod(enum.StrEnum):
    FIFO = "FIFO"
    LIFO = "LIFO"
    HIFO = "HIFO"
    AVERAGE = "AVERAGE"
    SPECIFIC = "SPECIFIC"


class HoldingTerm(enum.StrEnum):
    SHORT = "SHORT"
    LONG = "LONG"


class PackStatus(enum.StrEnum):
    PENDING = "PENDING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


class SecurityType(enum.StrEnum):
    EQUITY = "EQUITY"
    ETF = "ETF"
    BOND = "BOND"
    FUND = "FUND"
    OPTION = "OPTION"
    CRYPTO = "CRYPTO"
    CASH = "CASH"


@dataclass(frozen=True, slots=True)
class SplitRatio:
    """`new` shares for every `old` share: 2:1 is a 2-for-1 split, 1:3 a 1-for-3 reverse split.
    Kept as two numbers so that a ratio such as 1:3 stays exact."""

    new: Decimal
    old: Decimal = Decimal(1)

    def __str__(self) -> str:
        return f"{self.new}:{self.old}" if self.old != 1 else str(self.new)

    @classmethod
    def from_text(cls, text: str) -> SplitRatio:
        """'2', '2:1', '1:3' or '3/2'; raises ValueError unless both parts are positive."""
        parts = text.replace("/", ":").split(":")
        if len(parts) > 2:
            raise ValueError(text)
        try:
            new, old = Decimal(parts[0]), Decimal(parts[1] if len(parts) == 2 else 1)
        except ArithmeticError:
            raise ValueError(text) from None
        if not (new.is_finite() and old.is_finite() and new > 0 and old > 0):
            raise ValueError(text)
        return cls(new, old)


@dataclass(frozen=True, slots=True)
class Security:
    symbol: Symbol
    currency: Currency
    name: str = ""
    type: SecurityType = SecurityType.EQUITY
    exchange: str | None = None
    sector: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    """One ledger fact. Quantities, prices and amounts are positive; the type gives direction.

    `fx_rate` is the trade-date rate from `currency` to the portfolio's base currency
    (base units per one unit of `currency`); it fixes the base-currency cost basis.
    `acquired_date` (TRANSFER_IN only) keeps a transferred lot's original purchase date.
    """

    tx_id: str
    trade_date: dt.date
    type: TxType
    currency: Currency
    symbol: Symbol | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    amount: Decimal | None = None
    fee: Decimal = Decimal(0)
    fx_rate: Decimal = Decimal(1)
    counter_currency: Currency | None = None
    counter_amount: Decimal | None = None
    ratio: SplitRatio | None = None
    lot_ids: tuple[LotId, ...] = ()
    method: BookingMethod | None = None
    acquired_date: dt.date | None = None
    account: str | None = None
    external_id: str | None = None
    note: str | None = None

    @property
    def order_key(self) -> tuple[dt.date, int, str]:
        return (self.trade_date, DAY_ORDER[self.type], self.tx_id)


@dataclass(frozen=True, slots=True)
class Lot:
    """An open tax lot. Short lots carry a negative quantity and a negative cost basis
    (the proceeds received), so market value minus cost basis is the P&L for both sides."""

    lot_id: LotId
    symbol: Symbol
    currency: Currency
    acquired_date: dt.date
    original_quantity: Decimal
    open_quantity: Decimal
    cost_basis: Decimal
    cost_basis_base: Decimal

    @property
    def is_short(self) -> bool:
        return self.open_quantity < 0

    @property
    def unit_cost(self) -> Decimal:
        return self.cost_basis / self.open_quantity


@dataclass(frozen=True, slots=True)
class RealizedGain:
    """One closed slice of one lot."""

    lot_id: LotId
    symbol: Symbol
    currency: Currency
    tx_id: str
    acquired_date: dt.date
    disposed_date: dt.date
    quantity: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    gain: Decimal
    proceeds_base: Decimal
    cost_basis_base: Decimal
    gain_base: Decimal
    term: HoldingTerm
    is_short: bool


@dataclass(frozen=True, slots=True)
class CashBalance:
    currency: Currency
    balance: Decimal


@dataclass(frozen=True, slots=True)
class LedgerState:
    """Everything a replay derives from a portfolio's transactions."""

    lots: tuple[Lot, ...]
    realized_gains: tuple[RealizedGain, ...]
    cash: tuple[CashBalance, ...]
    transaction_count: int


@dataclass(frozen=True, slots=True)
class PackPrice:
    symbol: Symbol
    price: Decimal
    currency: Currency
    price_date: dt.date


@dataclass(frozen=True, slots=True)
class FxRate:
    """1 unit of `base` buys `rate` units of `quote` (EUR/USD 1.08: one euro is 1.08 dollars)."""

    base: Currency
    quote: Currency
    rate: Decimal
    rate_date: dt.date


@dataclass(frozen=True, slots=True)
class PricingPack:
    pack_id: PackId
    date: dt.date
    status: PackStatus
    content_hash: str | None = None
    supersedes: PackId | None = None
    reason: str | None = None
    sealed_at: dt.datetime | None = None
    prices: tuple[PackPrice, ...] = field(default=(), repr=False)
    fx_rates: tuple[FxRate, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class PositionValue:
    symbol: Symbol
    currency: Currency
    quantity: Decimal
    price: Decimal
    price_date: dt.date
    market_value: Decimal
    fx_rate: Decimal
    market_value_base: Decimal
    cost_basis: Decimal
    cost_basis_base: Decimal
    unrealized_pnl_base: Decimal
    price_effect_base: Decimal
    currency_effect_base: Decimal
    weight: Decimal


@dataclass(frozen=True, slots=True)
class CashValue:
    currency: Currency
    balance: Decimal
    fx_rate: Decimal
    value_base: Decimal
    weight: Decimal


@dataclass(frozen=True, slots=True)
class Valuation:
    """A portfolio valued at one sealed pack, all totals in the base currency."""

    portfolio: str
    base_currency: Currency
    pack_id: PackId
    date: dt.date
    positions: tuple[PositionValue, ...]
    cash: tuple[CashValue, ...]
    securities_value: Decimal
    cash_value: Decimal
    total_value: Decimal
    cost_basis_base: Decimal
    unrealized_pnl_base: Decimal
    price_effect_base: Decimal
    currency_effect_base: Decimal
