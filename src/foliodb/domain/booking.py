"""Lot matching: which open lots a closing trade consumes, and what each slice realizes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from foliodb.domain.money import ZERO, div, mul
from foliodb.domain.types import BookingMethod, HoldingTerm, LotId
from foliodb.errors import LedgerError


@dataclass(slots=True)
class OpenLot:
    """A lot while a replay is running (mutable; frozen into `Lot` when the replay ends)."""

    lot_id: LotId
    symbol: str
    currency: str
    acquired_date: dt.date
    original_quantity: Decimal
    open_quantity: Decimal
    cost_basis: Decimal
    cost_basis_base: Decimal
    seq: int


@dataclass(frozen=True, slots=True)
class Slice:
    """Part of one lot closed by one trade, with the cost it relieves."""

    lot: OpenLot
    quantity: Decimal  # signed like the lot: negative when closing a short lot
    cost_basis: Decimal
    cost_basis_base: Decimal


def order_lots(lots: Sequence[OpenLot], method: BookingMethod) -> Sequence[OpenLot]:
    """Open lots in the order `method` consumes them (AVERAGE relieves quantity FIFO).

    `lots` is kept in opening order (the replay appends lots as it opens them, in date
    order), so FIFO and LIFO need no sort.
    """
    if method is BookingMethod.LIFO:
        return lots[::-1]
    if method is BookingMethod.HIFO:
        # Highest unit cost first for longs. For shorts unit_cost is the proceeds per unit
        # received, and covering the *lowest* proceeds first is what minimises the gain.
        # Ties go to the oldest lot, which keeps long-term treatment where it can.
        sign = -1 if lots and lots[0].open_quantity > 0 else 1
        return sorted(
            lots,
            key=lambda lot: (
                sign * div(lot.cost_basis, lot.open_quantity),
                lot.acquired_date,
                lot.seq,
            ),
        )
    return lots


def _pick_specific(
    lots: Sequence[OpenLot], lot_ids: Sequence[LotId], symbol: str, tx_id: str
) -> list[OpenLot]:
    by_id = {lot.lot_id: lot for lot in lots}
    missing = [lot_id for lot_id in lot_ids if lot_id not in by_id]
    if missing:
        raise LedgerError(
            f"transaction {tx_id}: lot(s) {', '.join(missing)} are not open lots of {symbol} "
            f"(open: {', '.join(sorted(by_id)) or 'none'})",
            tx_id,
            "lot_ids",
        )
    return [by_id[lot_id] for lot_id in lot_ids]


def close_lots(
    lots: list[OpenLot],
    quantity: Decimal,
    method: BookingMethod,
    lot_ids: Sequence[LotId],
    symbol: str,
    tx_id: str,
) -> list[Slice]:
    """Consume `quantity` (signed like the lots) from `lots`, updating them in place.

    The cost relieved from a lot is pro rata to the quantity taken; the slice that empties
    a lot takes whatever cost remains, so cost basis is conserved exactly. AVERAGE relieves
    cost at the pooled average of all open lots and re-pools what is left.
    """
    if method is BookingMethod.SPECIFIC:
        if not lot_ids:
            raise LedgerError(
                f"transaction {tx_id}: SPECIFIC booking needs lot_ids", tx_id, "lot_ids"
            )
        # A lot named twice holds its quantity once: counting it twice let a sale through
        # that the named lots could not cover.
        lot_ids = tuple(dict.fromkeys(lot_ids))
        ordered: Sequence[OpenLot] = _pick_specific(lots, lot_ids, symbol, tx_id)
        available = sum((lot.open_quantity for lot in ordered), ZERO)
        if abs(available) < abs(quantity):
            raise LedgerError(
                f"transaction {tx_id}: named lots {', '.join(lot_ids)} hold {abs(available)} "
                f"of {symbol}, fewer than the {abs(quantity)} to close",
                tx_id,
                "lot_ids",
            )
    else:
        ordered = order_lots(lots, method)

    pooled = method is BookingMethod.AVERAGE
    if pooled:
        total_qty = sum((lot.open_quantity for lot in lots), ZERO)
        total_cost = sum((lot.cost_basis for lot in lots), ZERO)
        total_base = sum((lot.cost_basis_base for lot in lots), ZERO)
        if quantity == total_qty:
            relieved, relieved_base = total_cost, total_base
        else:
            relieved = div(mul(total_cost, quantity), total_qty)
            relieved_base = div(mul(total_base, quantity), total_qty)
        left, left_base = relieved, relieved_base

    slices: list[Slice] = []
    remaining = quantity
    for lot in ordered:
        if remaining == 0:
            break
        take = remaining if abs(remaining) <= abs(lot.open_quantity) else lot.open_quantity
        remaining -= take
        if pooled:
            if remaining == 0:
                cost, cost_base = left, left_base
            else:
                cost = div(mul(relieved, take), quantity)
                cost_base = div(mul(relieved_base, take), quantity)
            left, left_base = left - cost, left_base - cost_base
        elif take == lot.open_quantity:
            cost, cost_base = lot.cost_basis, lot.cost_basis_base
        else:
            cost = div(mul(lot.cost_basis, take), lot.open_quantity)
            cost_base = div(mul(lot.cost_basis_base, take), lot.open_quantity)
        lot.open_quantity -= take
        lot.cost_basis -= cost
        lot.cost_basis_base -= cost_base
        slices.append(Slice(lot, take, cost, cost_base))

    if pooled:
        _repool(lots)
    if any(piece.lot.open_quantity == 0 for piece in slices):
        lots[:] = [lot for lot in lots if lot.open_quantity != 0]
    return slices


def _repool(lots: list[OpenLot]) -> None:
    """Spread the pooled cost left after a sale over the live lots by quantity (AVERAGE).

    Emptied lots may still hold a residue (they were relieved at the pool's average, not
    their own cost); it joins the pool, so the total is conserved exactly.
    """
    live = [lot for lot in lots if lot.open_quantity != 0]
    qty = sum((lot.open_quantity for lot in live), ZERO)
    pool = sum((lot.cost_basis for lot in lots), ZERO)
    pool_base = sum((lot.cost_basis_base for lot in lots), ZERO)
    for lot in lots:
        if lot.open_quantity == 0:
            lot.cost_basis = lot.cost_basis_base = ZERO
    left, left_base = pool, pool_base
    for lot in live[:-1]:
        lot.cost_basis = div(mul(pool, lot.open_quantity), qty)
        lot.cost_basis_base = div(mul(pool_base, lot.open_quantity), qty)
        left -= lot.cost_basis
        left_base -= lot.cost_basis_base
    if live:
        live[-1].cost_basis, live[-1].cost_basis_base = left, left_base


def holding_term(acquired: dt.date, disposed: dt.date) -> HoldingTerm:
    """LONG when disposed after the first anniversary of acquisition (held more than a year)."""
    try:
        anniversary = acquired.replace(year=acquired.year + 1)
    except ValueError:  # acquired on 29 February
        anniversary = dt.date(acquired.year + 1, 2, 28)
    return HoldingTerm.LONG if disposed > anniversary else HoldingTerm.SHORT
