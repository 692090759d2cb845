"""Transaction builders so domain tests read like a user's own ledger: strings in, types out."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from foliodb.domain.money import D
from foliodb.domain.types import BookingMethod, SplitRatio, Transaction, TxType

Number = str | int | Decimal


def day(iso: str | dt.date) -> dt.date:
    return iso if isinstance(iso, dt.date) else dt.date.fromisoformat(iso)


def trade(
    kind: TxType,
    tx_id: str,
    on: str | dt.date,
    symbol: str,
    quantity: Number,
    price: Number,
    *,
    fee: Number = "0",
    currency: str = "USD",
    fx_rate: Number = "1",
    method: BookingMethod | None = None,
    lot_ids: tuple[str, ...] = (),
) -> Transaction:
    return Transaction(
        tx_id=tx_id,
        trade_date=day(on),
        type=kind,
        currency=currency,
        symbol=symbol,
        quantity=D(quantity),
        price=D(price),
        fee=D(fee),
        fx_rate=D(fx_rate),
        method=method,
        lot_ids=lot_ids,
    )


buy = functools.partial(trade, TxType.BUY)
sell = functools.partial(trade, TxType.SELL)
sell_short = functools.partial(trade, TxType.SELL_SHORT)
buy_to_cover = functools.partial(trade, TxType.BUY_TO_COVER)
#: A security arriving from another account, its lot opened at `price`.
transfer_in_security = functools.partial(trade, TxType.TRANSFER_IN)


def transfer_out_security(
    tx_id: str,
    on: str | dt.date,
    symbol: str,
    quantity: Number,
    *,
    fee: Number = "0",
    currency: str = "USD",
    method: BookingMethod | None = None,
    lot_ids: tuple[str, ...] = (),
) -> Transaction:
    return Transaction(
        tx_id=tx_id,
        trade_date=day(on),
        type=TxType.TRANSFER_OUT,
        currency=currency,
        symbol=symbol,
        quantity=D(quantity),
        fee=D(fee),
        method=method,
        lot_ids=lot_ids,
    )


def split(
    tx_id: str, on: str | dt.date, symbol: str, ratio: Number, currency: str = "USD"
) -> Transaction:
    return Transaction(
        tx_id=tx_id,
        trade_date=day(on),
        type=TxType.SPLIT,
        currency=currency,
        symbol=symbol,
        ratio=SplitRatio.from_text(str(ratio)),
    )


def cash(
    kind: TxType,
    tx_id: str,
    on: str | dt.date,
    amount: Number,
    *,
    currency: str = "USD",
    fee: Number = "0",
    symbol: str | None = None,
) -> Transaction:
    """A cash movement: DEPOSIT, WITHDRAWAL, DIVIDEND, INTEREST, FEE, TAX or a cash transfer."""
    return Transaction(
        tx_id=tx_id,
        trade_date=day(on),
        type=kind,
        currency=currency,
        symbol=symbol,
        amount=D(amount),
        fee=D(fee),
    )


def deposit(tx_id: str, on: str | dt.date, amount: Number, currency: str = "USD") -> Transaction:
    return cash(TxType.DEPOSIT, tx_id, on, amount, currency=currency)


def dividend(
    tx_id: str, on: str | dt.date, symbol: str, amount: Number, currency: str = "USD"
) -> Transaction:
    return cash(TxType.DIVIDEND, tx_id, on, amount, currency=currency, symbol=symbol)


def fx_conversion(
    tx_id: str,
    on: str | dt.date,
    sold: str,
    amount: Number,
    bought: str,
    received: Number,
    *,
    fee: Number = "0",
) -> Transaction:
    return Transaction(
        tx_id=tx_id,
        trade_date=day(on),
        type=TxType.FX_CONVERSION,
        currency=sold,
        amount=D(amount),
        fee=D(fee),
        counter_currency=bought,
        counter_amount=D(received),
    )
