"""Transactions, imports, lots and realized gains: the fields of docs/formats.md."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from foliodb.domain.types import (
    BookingMethod,
    HoldingTerm,
    TxType,
)
from foliodb.server.schemas.common import Exact, Schema, Text
from foliodb.server.schemas.portfolios import Currency, Symbol
from foliodb.services.transactions import EntryStatus, LedgerEntry

#: A decimal a client sends: exact, at most 34 significant digits (the ledger's precision).
Amount = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=34, decimal_places=18)]
ExternalId = Annotated[Text, Field(min_length=1, max_length=128, pattern=r"^[^;]*$")]
Note = Annotated[Text, Field(max_length=2000)]


def _cell(value: Any) -> str | None:
    """A value as the importer reads it from a CSV cell."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(value) or None
    return str(value)


class _TransactionFields(Schema):
    def cells(self, only_set: bool = False) -> dict[str, str | None]:
        """The fields as CSV cells; with `only_set`, those the request named (null clears)."""
        names = self.model_fields_set if only_set else type(self).model_fields
        return {name: _cell(getattr(self, name)) for name in names}


class TransactionCreate(_TransactionFields):
    """One transaction, with the columns of the transactions CSV. Decimals may be sent as
    strings (exact) or numbers. Without `external_id` the transaction's id is a hash of its
    content, so posting the same one again adds nothing."""

    external_id: ExternalId | None = None
    trade_date: dt.date
    type: TxType
    symbol: Symbol | None = None
    quantity: Amount | None = None
    price: Amount | None = None
    amount: Amount | None = None
    currency: Currency
    fee: Amount | None = None
    fx_rate: Amount | None = None
    counter_currency: Currency | None = None
    counter_amount: Amount | None = None
    ratio: Annotated[Text, Field(max_length=64, examples=["2:1"])] | None = None
    lot_ids: (
        list[Annotated[Text, Field(min_length=1, max_length=128, pattern=r"^[^;]*$")]] | None
    ) = None
    method: BookingMethod | None = None
    acquired_date: dt.date | None = None
    account: Annotated[Text, Field(max_length=200)] | None = None
    note: Note | None = None


class TransactionUpdate(_TransactionFields):
    """Fields to change (null clears one). The transaction keeps its tx_id; its external_id
    cannot change (reverse it and add it anew)."""

    trade_date: dt.date | None = None
    type: TxType | None = None
    symbol: Symbol | None = None
    quantity: Amount | None = None
    price: Amount | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    fee: Amount | None = None
    fx_rate: Amount | None = None
    counter_currency: Currency | None = None
    counter_amount: Amount | None = None
    ratio: Annotated[Text, Field(max_length=64)] | None = None
    lot_ids: (
        list[Annotated[Text, Field(min_length=1, max_length=128, pattern=r"^[^;]*$")]] | None
    ) = None
    method: BookingMethod | None = None
    acquired_date: dt.date | None = None
    account: Annotated[Text, Field(max_length=200)] | None = None
    note: Note | None = None


class TransactionPublic(Schema):
    """A ledger entry: the transaction's CSV fields, and where it stands. `status` is
    `active` (replayed), `reversed` (`reversed_by` names its reversal) or `reversal` (an
    entry appended by DELETE; `reverses` names the transaction, `note` holds the reason).
    `recorded_at` is when the entry was stored."""

    tx_id: str
    external_id: str | None
    trade_date: dt.date
    type: TxType
    symbol: str | None
    quantity: Exact | None
    price: Exact | None
    amount: Exact | None
    currency: str
    fee: Exact
    fx_rate: Exact
    counter_currency: str | None
    counter_amount: Exact | None
    ratio: str | None
    lot_ids: list[str]
    method: BookingMethod | None
    acquired_date: dt.date | None
    account: str | None
    note: str | None
    status: EntryStatus
    reverses: str | None
    reversed_by: str | None
    recorded_at: dt.datetime

    @classmethod
    def of(cls, entry: LedgerEntry) -> TransactionPublic:
        tx = entry.transaction
        return cls(
            tx_id=tx.tx_id,
            external_id=tx.external_id,
            trade_date=tx.trade_date,
            type=tx.type,
            symbol=tx.symbol,
            quantity=tx.quantity,
            price=tx.price,
            amount=tx.amount,
            currency=tx.currency,
            fee=tx.fee,
            fx_rate=tx.fx_rate,
            counter_currency=tx.counter_currency,
            counter_amount=tx.counter_amount,
            ratio=str(tx.ratio) if tx.ratio else None,
            lot_ids=list(tx.lot_ids),
            method=tx.method,
            acquired_date=tx.acquired_date,
            account=tx.account,
            note=tx.note,
            status=entry.status,
            reverses=entry.reverses,
            reversed_by=entry.reversed_by,
            recorded_at=entry.recorded_at,
        )


class TransactionCreated(Schema):
    """The transaction; `created` is false when the same one was already there."""

    created: bool
    transaction: TransactionPublic


class ImportResultPublic(Schema):
    """`skipped`: rows already in the ledger; `reversed`: of those, transactions reversed since
    (importing them again does not bring them back)."""

    file: str
    kind: str
    rows: int
    added: int
    updated: int
    skipped: int
    new_securities: list[str]
    reversed: int


class LotPublic(Schema):
    lot_id: str
    symbol: str
    currency: str
    acquired_date: dt.date
    original_quantity: Exact
    open_quantity: Exact
    cost_basis: Exact
    cost_basis_base: Exact


class RealizedGainPublic(Schema):
    lot_id: str
    symbol: str
    currency: str
    tx_id: str
    acquired_date: dt.date
    disposed_date: dt.date
    quantity: Exact
    proceeds: Exact
    cost_basis: Exact
    gain: Exact
    proceeds_base: Exact
    cost_basis_base: Exact
    gain_base: Exact
    term: HoldingTerm
    is_short: bool
