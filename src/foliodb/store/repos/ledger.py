"""Repositories of transactions and the state derived from them (lots, gains, cash)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from foliodb.domain.types import (
    BookingMethod,
    CashBalance,
    HoldingTerm,
    LedgerState,
    Lot,
    RealizedGain,
    SplitRatio,
    Transaction,
    TxType,
)
from foliodb.store import bulk
from foliodb.store.base import utcnow
from foliodb.store.tables import (
    CashBalanceRow,
    LotRow,
    RealizedGainRow,
    TransactionRow,
)


# --- transactions ---------------------------------------------------------------------------
def transaction_from_row(row: Any) -> Transaction:
    """A stored transaction row (ORM row or result row) as the domain's Transaction."""
    return Transaction(
        tx_id=row.tx_id,
        trade_date=row.trade_date,
        type=TxType(row.type),
        currency=row.currency,
        symbol=row.symbol,
        quantity=row.quantity,
        price=row.price,
        amount=row.amount,
        fee=row.fee,
        fx_rate=row.fx_rate,
        counter_currency=row.counter_currency,
        counter_amount=row.counter_amount,
        ratio=SplitRatio.from_text(row.ratio) if row.ratio else None,
        lot_ids=tuple(row.lot_ids.split(";")) if row.lot_ids else (),
        method=BookingMethod(row.method) if row.method else None,
        acquired_date=row.acquired_date,
        account=row.account,
        external_id=row.external_id,
        note=row.note,
    )


def list_transactions(
    session: Session, portfolio_id: int, until: dt.date | None = None
) -> list[Transaction]:
    # Plain rows, not ORM objects: a replay reads every transaction once and keeps none.
    table = TransactionRow.__table__
    stmt = select(table).where(table.c.portfolio_id == portfolio_id, table.c.active)
    if until is not None:
        stmt = stmt.where(table.c.trade_date <= until)
    return [transaction_from_row(row) for row in session.execute(stmt.order_by(table.c.id))]


def count_transactions_after(session: Session, portfolio_id: int, after: dt.date) -> int:
    stmt = (
        select(func.count())
        .select_from(TransactionRow)
        .where(
            TransactionRow.portfolio_id == portfolio_id,
            TransactionRow.trade_date > after,
            TransactionRow.active,
        )
    )
    return session.scalar(stmt) or 0


def transaction_hashes(session: Session, portfolio_id: int) -> dict[str, str]:
    stmt = select(TransactionRow.tx_id, TransactionRow.content_hash).where(
        TransactionRow.portfolio_id == portfolio_id
    )
    return dict(session.execute(stmt).tuples().all())


def reversed_tx_ids(session: Session, portfolio_id: int) -> set[str]:
    """The ids of the portfolio's reversed transactions (not their reversal entries)."""
    stmt = select(TransactionRow.tx_id).where(
        TransactionRow.portfolio_id == portfolio_id,
        ~TransactionRow.active,
        TransactionRow.reverses.is_(None),
    )
    return set(session.scalars(stmt))


def transaction_columns(tx: Transaction) -> dict[str, Any]:
    """A transaction's own columns (not its portfolio, hash, standing or timestamps)."""
    return {
        "tx_id": tx.tx_id,
        "external_id": tx.external_id,
        "trade_date": tx.trade_date,
        "type": tx.type.value,
        "symbol": tx.symbol,
        "quantity": tx.quantity,
        "price": tx.price,
        "amount": tx.amount,
        "currency": tx.currency,
        "fee": tx.fee,
        "fx_rate": tx.fx_rate,
        "counter_currency": tx.counter_currency,
        "counter_amount": tx.counter_amount,
        "ratio": str(tx.ratio) if tx.ratio else None,
        "lot_ids": ";".join(tx.lot_ids) or None,
        "method": tx.method.value if tx.method else None,
        "acquired_date": tx.acquired_date,
        "account": tx.account,
        "note": tx.note,
    }


def add_transactions(
    session: Session, portfolio_id: int, transactions: Sequence[tuple[Transaction, str]]
) -> int:
    """Insert (transaction, content hash) pairs."""
    now = utcnow()
    return bulk.insert_rows(
        session,
        TransactionRow,
        [
            {"portfolio_id": portfolio_id, "content_hash": digest, "created_at": now}
            | transaction_columns(tx)
            for tx, digest in transactions
        ],
    )


def symbols_traded_until(session: Session, until: dt.date) -> set[str]:
    stmt = (
        select(TransactionRow.symbol)
        .where(
            TransactionRow.trade_date <= until,
            TransactionRow.symbol.is_not(None),
            TransactionRow.active,
        )
        .distinct()
    )
    return {s for s in session.scalars(stmt) if s}


def portfolio_ids_with_transactions_until(session: Session, until: dt.date) -> list[int]:
    stmt = (
        select(TransactionRow.portfolio_id)
        .where(TransactionRow.trade_date <= until, TransactionRow.active)
        .distinct()
    )
    return list(session.scalars(stmt))


def currencies_used_until(session: Session, until: dt.date) -> set[str]:
    rows = session.execute(
        select(TransactionRow.currency, TransactionRow.counter_currency)
        .where(TransactionRow.trade_date <= until, TransactionRow.active)
        .distinct()
    ).all()
    return {c for row in rows for c in row if c}


# --- derived ledger state -------------------------------------------------------------------
def replace_derived(session: Session, portfolio_id: int, state: LedgerState) -> None:
    """Swap the stored lots, realized gains and cash for a fresh replay's."""
    for row_class in (LotRow, RealizedGainRow, CashBalanceRow):
        session.execute(delete(row_class).where(row_class.portfolio_id == portfolio_id))
    bulk.insert_rows(
        session,
        LotRow,
        [
            {
                "portfolio_id": portfolio_id,
                "lot_id": lot.lot_id,
                "symbol": lot.symbol,
                "currency": lot.currency,
                "acquired_date": lot.acquired_date,
                "original_quantity": lot.original_quantity,
                "open_quantity": lot.open_quantity,
                "cost_basis": lot.cost_basis,
                "cost_basis_base": lot.cost_basis_base,
            }
            for lot in state.lots
        ],
    )
    bulk.insert_rows(
        session,
        RealizedGainRow,
        [
            {
                "portfolio_id": portfolio_id,
                "lot_id": g.lot_id,
                "symbol": g.symbol,
                "currency": g.currency,
                "tx_id": g.tx_id,
                "acquired_date": g.acquired_date,
                "disposed_date": g.disposed_date,
                "quantity": g.quantity,
                "proceeds": g.proceeds,
                "cost_basis": g.cost_basis,
                "gain": g.gain,
                "proceeds_base": g.proceeds_base,
                "cost_basis_base": g.cost_basis_base,
                "gain_base": g.gain_base,
                "term": g.term.value,
                "is_short": g.is_short,
            }
            for g in state.realized_gains
        ],
    )
    bulk.insert_rows(
        session,
        CashBalanceRow,
        [
            {"portfolio_id": portfolio_id, "currency": c.currency, "balance": c.balance}
            for c in state.cash
        ],
    )


def load_lots(session: Session, portfolio_id: int) -> list[Lot]:
    stmt = select(LotRow).where(LotRow.portfolio_id == portfolio_id)
    lots = [
        Lot(
            r.lot_id,
            r.symbol,
            r.currency,
            r.acquired_date,
            r.original_quantity,
            r.open_quantity,
            r.cost_basis,
            r.cost_basis_base,
        )
        for r in session.scalars(stmt)
    ]
    return sorted(lots, key=lambda lot: (lot.symbol, lot.acquired_date, lot.lot_id))


def load_realized_gains(
    session: Session, portfolio_id: int, year: int | None = None
) -> list[RealizedGain]:
    stmt = select(RealizedGainRow).where(RealizedGainRow.portfolio_id == portfolio_id)
    if year is not None:
        stmt = stmt.where(
            RealizedGainRow.disposed_date >= dt.date(year, 1, 1),
            RealizedGainRow.disposed_date <= dt.date(year, 12, 31),
        )
    return [
        RealizedGain(
            lot_id=r.lot_id,
            symbol=r.symbol,
            currency=r.currency,
            tx_id=r.tx_id,
            acquired_date=r.acquired_date,
            disposed_date=r.disposed_date,
            quantity=r.quantity,
            proceeds=r.proceeds,
            cost_basis=r.cost_basis,
            gain=r.gain,
            proceeds_base=r.proceeds_base,
            cost_basis_base=r.cost_basis_base,
            gain_base=r.gain_base,
            term=HoldingTerm(r.term),
            is_short=r.is_short,
        )
        for r in session.scalars(stmt.order_by(RealizedGainRow.id))
    ]


def load_cash(session: Session, portfolio_id: int) -> list[CashBalance]:
    stmt = select(CashBalanceRow).where(CashBalanceRow.portfolio_id == portfolio_id)
    return [
        CashBalance(r.currency, r.balance)
        for r in session.scalars(stmt.order_by(CashBalanceRow.currency))
    ]
