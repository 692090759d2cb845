"""Replay: transactions in, lots, realized gains and cash balances out. Pure and deterministic."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from foliodb.domain import booking
from foliodb.domain.booking import OpenLot
from foliodb.domain.money import EXACT, ZERO, div, mul
from foliodb.domain.types import (
    DAY_ORDER,
    SHORT_SIDE_ORDER,
    BookingMethod,
    CashBalance,
    HoldingTerm,
    LedgerState,
    Lot,
    RealizedGain,
    Transaction,
    TxType,
)
from foliodb.errors import LedgerError


class _Book:
    """The mutable state of one replay."""

    def __init__(self, method: BookingMethod) -> None:
        self.method = method
        self.lots: dict[str, list[OpenLot]] = defaultdict(list)
        self.cash: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.gains: list[RealizedGain] = []
        # Net quantity per symbol, kept in step with the lots so a trade need not sum them.
        self.position: dict[str, Decimal] = {}
        self.seq = 0

    def in_day_order(self, ordered: list[Transaction]) -> Iterator[Transaction]:
        """`ordered` (by date, DAY_ORDER, tx_id) with each day's trades re-ranked by the side
        their symbol is on when the day starts (SHORT_SIDE_ORDER for a short position)."""
        for _, day in itertools.groupby(ordered, key=lambda tx: tx.trade_date):
            transactions = list(day)
            short = {tx.symbol for tx in transactions if tx.symbol and self.held(tx.symbol) < 0}
            if short:
                transactions.sort(
                    key=lambda tx: (
                        SHORT_SIDE_ORDER.get(tx.type, DAY_ORDER[tx.type])
                        if tx.symbol in short
                        else DAY_ORDER[tx.type],
                        tx.tx_id,
                    )
                )
            yield from transactions

    def held(self, symbol: str) -> Decimal:
        return self.position.get(symbol, ZERO)

    # --- openings -------------------------------------------------------------------------
    def open_lot(self, tx: Transaction, quantity: Decimal, cost: Decimal) -> None:
        assert tx.symbol is not None
        self.seq += 1
        self.position[tx.symbol] = self.held(tx.symbol) + quantity
        self.lots[tx.symbol].append(
            OpenLot(
                lot_id=tx.tx_id,
                symbol=tx.symbol,
                currency=tx.currency,
                acquired_date=tx.acquired_date or tx.trade_date,
                original_quantity=quantity,
                open_quantity=quantity,
                cost_basis=cost,
                cost_basis_base=mul(cost, tx.fx_rate),
                seq=self.seq,
            )
        )

    # --- closings -------------------------------------------------------------------------
    def close(self, tx: Transaction, quantity: Decimal, flow: Decimal | None) -> None:
        """Close `quantity` (signed like the lots); `flow` is the cash the close brings in
        (negative for a cover), or None for a transfer out, which realizes nothing."""
        assert tx.symbol is not None
        lots = self.lots[tx.symbol]
        method = tx.method or self.method
        slices = booking.close_lots(lots, quantity, method, tx.lot_ids, tx.symbol, tx.tx_id)
        self.position[tx.symbol] = self.held(tx.symbol) - quantity
        if flow is None:
            return
        allocated = ZERO
        for i, piece in enumerate(slices):
            if i == len(slices) - 1:
                proceeds = flow - allocated
            else:
                proceeds = div(mul(flow, piece.quantity), quantity)
                allocated += proceeds
            proceeds_base = mul(proceeds, tx.fx_rate)
            self.gains.append(
                RealizedGain(
                    lot_id=piece.lot.lot_id,
                    symbol=tx.symbol,
                    currency=tx.currency,
                    tx_id=tx.tx_id,
                    acquired_date=piece.lot.acquired_date,
                    disposed_date=tx.trade_date,
                    quantity=piece.quantity,
                    proceeds=proceeds,
                    cost_basis=piece.cost_basis,
                    gain=proceeds - piece.cost_basis,
                    proceeds_base=proceeds_base,
                    cost_basis_base=piece.cost_basis_base,
                    gain_base=proceeds_base - piece.cost_basis_base,
                    # Gains on closing a short sale are short-term whatever the holding
                    # period (US rule, IRC 1233); long lots go by the anniversary rule.
                    term=HoldingTerm.SHORT
                    if piece.quantity < 0
                    else booking.holding_term(piece.lot.acquired_date, tx.trade_date),
                    is_short=piece.quantity < 0,
                )
            )

    # --- one transaction ------------------------------------------------------------------
    def apply(self, tx: Transaction) -> None:
        kind = tx.type
        if kind in (TxType.BUY, TxType.SELL, TxType.SELL_SHORT, TxType.BUY_TO_COVER):
            self._trade(tx)
        elif kind is TxType.SPLIT:
            assert tx.symbol is not None and tx.ratio is not None
            new, old = tx.ratio.new, tx.ratio.old
            for lot in self.lots.get(tx.symbol, ()):
                lot.open_quantity = div(mul(lot.open_quantity, new), old)
                lot.original_quantity = div(mul(lot.original_quantity, new), old)
            self.position[tx.symbol] = sum(
                (lot.open_quantity for lot in self.lots.get(tx.symbol, ())), ZERO
            )
        elif kind in (TxType.TRANSFER_IN, TxType.TRANSFER_OUT) and tx.symbol is not None:
            self._transfer_security(tx)
        elif kind is TxType.FX_CONVERSION:
            assert tx.amount is not None and tx.counter_currency and tx.counter_amount is not None
            self.cash[tx.currency] -= tx.amount + tx.fee
            self.cash[tx.counter_currency] += tx.counter_amount
        else:
            assert tx.amount is not None
            sign = (
                1
                if kind in (TxType.DEPOSIT, TxType.TRANSFER_IN, TxType.DIVIDEND, TxType.INTEREST)
                else -1
            )
            self.cash[tx.currency] += sign * tx.amount - tx.fee

    def _trade(self, tx: Transaction) -> None:
        assert tx.symbol is not None and tx.quantity is not None and tx.price is not None
        gross = mul(tx.quantity, tx.price)
        held = self.held(tx.symbol)
        where = f"transaction {tx.tx_id} on {tx.trade_date}"
        if tx.type is TxType.BUY:
            if held < 0:
                raise LedgerError(
                    f"{where}: BUY of {tx.symbol} while short {-held}; use BUY_TO_COVER", tx.tx_id
                )
            self.open_lot(tx, tx.quantity, gross + tx.fee)
            self.cash[tx.currency] -= gross + tx.fee
        elif tx.type is TxType.SELL_SHORT:
            if held > 0:
                raise LedgerError(
                    f"{where}: SELL_SHORT of {tx.symbol} while holding {held} long; sell first",
                    tx.tx_id,
                )
            self.open_lot(tx, -tx.quantity, -(gross - tx.fee))
            self.cash[tx.currency] += gross - tx.fee
        elif tx.type is TxType.SELL:
            if held < tx.quantity:
                raise LedgerError(
                    f"{where}: selling {tx.quantity} {tx.symbol} but only {max(held, ZERO)} held; "
                    f"use SELL_SHORT to open a short position",
                    tx.tx_id,
                )
            self.close(tx, tx.quantity, gross - tx.fee)
            self.cash[tx.currency] += gross - tx.fee
        else:  # BUY_TO_COVER
            if -held < tx.quantity:
                raise LedgerError(
                    f"{where}: covering {tx.quantity} {tx.symbol} but only {max(-held, ZERO)} "
                    f"is short",
                    tx.tx_id,
                )
            self.close(tx, -tx.quantity, -(gross + tx.fee))
            self.cash[tx.currency] -= gross + tx.fee

    def _transfer_security(self, tx: Transaction) -> None:
        assert tx.symbol is not None and tx.quantity is not None
        if tx.type is TxType.TRANSFER_IN:
            assert tx.price is not None
            if self.held(tx.symbol) < 0:
                raise LedgerError(
                    f"transaction {tx.tx_id}: TRANSFER_IN of {tx.symbol} while short", tx.tx_id
                )
            # Like a buy's fee, a transfer fee is part of what the lot cost.
            self.open_lot(tx, tx.quantity, mul(tx.quantity, tx.price) + tx.fee)
        else:
            held = self.held(tx.symbol)
            if held < tx.quantity:
                raise LedgerError(
                    f"transaction {tx.tx_id} on {tx.trade_date}: transferring out {tx.quantity} "
                    f"{tx.symbol} but only {max(held, ZERO)} held",
                    tx.tx_id,
                )
            self.close(tx, tx.quantity, None)
        self.cash[tx.currency] -= tx.fee

    def state(self, count: int) -> LedgerState:
        lots = sorted(
            (
                Lot(
                    lot_id=o.lot_id,
                    symbol=o.symbol,
                    currency=o.currency,
                    acquired_date=o.acquired_date,
                    original_quantity=o.original_quantity,
                    open_quantity=o.open_quantity,
                    cost_basis=o.cost_basis,
                    cost_basis_base=o.cost_basis_base,
                )
                for group in self.lots.values()
                for o in group
            ),
            key=lambda lot: (lot.symbol, lot.acquired_date, lot.lot_id),
        )
        cash = tuple(
            CashBalance(currency, balance) for currency, balance in sorted(self.cash.items())
        )
        return LedgerState(tuple(lots), tuple(self.gains), cash, count)


def sort_transactions(transactions: Iterable[Transaction]) -> list[Transaction]:
    """The canonical replay order: trade date, then the documented day order, then tx_id."""
    return sorted(transactions, key=lambda tx: tx.order_key)


def replay(
    transactions: Iterable[Transaction],
    method: BookingMethod = BookingMethod.FIFO,
    errors: list[LedgerError] | None = None,
) -> LedgerState:
    """Rebuild lots, realized gains and cash from scratch.

    A transaction that cannot apply (selling more than is held, say) raises LedgerError; or,
    when an `errors` list is given, is recorded there and skipped, so that one pass finds
    every such transaction. A refused transaction changes nothing.
    """
    book = _Book(method)
    ordered = sort_transactions(transactions)
    with decimal.localcontext(EXACT):
        for tx in book.in_day_order(ordered):
            if errors is None:
                book.apply(tx)
                continue
            try:
                book.apply(tx)
            except LedgerError as exc:
                errors.append(exc)
    return book.state(len(ordered))


def replay_snapshots(
    transactions: Iterable[Transaction],
    dates: Iterable[dt.date],
    method: BookingMethod = BookingMethod.FIFO,
) -> Iterator[tuple[dt.date, LedgerState]]:
    """The ledger as it stood at the end of each of `dates` (ascending), from one replay.

    Equal, date by date, to `replay` of the transactions dated on or before it.
    """
    book = _Book(method)
    ordered = sort_transactions(transactions)
    pending = sorted(set(dates))
    applied = 0
    with decimal.localcontext(EXACT):
        for tx in book.in_day_order(ordered):
            while pending and tx.trade_date > pending[0]:
                yield pending.pop(0), book.state(applied)
            book.apply(tx)
            applied += 1
        for day in pending:
            yield day, book.state(applied)


def positions(state: LedgerState) -> dict[str, Decimal]:
    """Net quantity per symbol (negative when short)."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for lot in state.lots:
        totals[lot.symbol] = EXACT.add(totals[lot.symbol], lot.open_quantity)
    return dict(totals)
