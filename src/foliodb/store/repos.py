"""Repositories: load and save domain objects. They never commit; the unit of work does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from foliodb.domain.types import (
    BookingMethod,
    CashBalance,
    FxRate,
    HoldingTerm,
    LedgerState,
    Lot,
    PackPrice,
    PackStatus,
    PricingPack,
    RealizedGain,
    Security,
    SecurityType,
    SplitRatio,
    Transaction,
    TxType,
)
from foliodb.errors import NotFoundError, SealedPackError
from foliodb.store import bulk
from foliodb.store.base import utcnow
from foliodb.store.tables import (
    AccountRow,
    AuditLogRow,
    CashBalanceRow,
    FxRateRow,
    LotRow,
    PackFxRateRow,
    PackPriceRow,
    PortfolioRow,
    PriceRow,
    PricingPackRow,
    RealizedGainRow,
    SecurityRow,
    TransactionRow,
    UserRow,
)

LOCAL_USER_EMAIL = "local@localhost"


# --- users and audit ------------------------------------------------------------------------
def get_user(session: Session, email: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.email == email)).one_or_none()


def ensure_user(session: Session, email: str, role: str = "USER") -> UserRow:
    """The user with `email`, created without a password (it cannot log in) if missing."""
    user = get_user(session, email)
    if user is None:
        user = UserRow(email=email, role=role, created_at=utcnow())
        session.add(user)
        session.flush()
    return user


def audit(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    user_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    session.add(
        AuditLogRow(
            at=utcnow(),
            user_id=user_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


# --- portfolios -----------------------------------------------------------------------------
def list_portfolios(session: Session) -> list[tuple[PortfolioRow, str]]:
    stmt = (
        select(PortfolioRow, UserRow.email)
        .join(UserRow, PortfolioRow.owner_id == UserRow.id)
        .order_by(UserRow.email, PortfolioRow.name)
    )
    return [(row, email) for row, email in session.execute(stmt).all()]


def load_portfolio(session: Session, name: str, owner: str | None = None) -> PortfolioRow:
    """The portfolio called `name` (of `owner`, when several users share the name)."""
    stmt = select(PortfolioRow).where(PortfolioRow.name == name)
    if owner is not None:
        stmt = stmt.join(UserRow, PortfolioRow.owner_id == UserRow.id).where(UserRow.email == owner)
    rows = session.scalars(stmt).all()
    if not rows:
        of = f" of {owner}" if owner else ""
        known = ", ".join(sorted(set(session.scalars(select(PortfolioRow.name))))) or "none"
        raise NotFoundError(f"no portfolio named {name!r}{of} (known: {known})")
    if len(rows) > 1:
        owners = session.scalars(
            select(UserRow.email).where(UserRow.id.in_([r.owner_id for r in rows]))
        ).all()
        raise NotFoundError(
            f"several users have a portfolio named {name!r} ({', '.join(sorted(owners))}); "
            f"say whose with --owner EMAIL (owner= in Python)"
        )
    return rows[0]


def lock_portfolio(session: Session, portfolio_id: int) -> None:
    """Hold the portfolio's write lock until the transaction ends, before reading its ledger.

    A no-op UPDATE: PostgreSQL locks the row, SQLite takes the database write lock (its
    driver opens the transaction at the first write, so reads before it see no snapshot).
    Two ledger writes to one portfolio then run one after the other, the second reading what
    the first committed, instead of both checking against the same stale ledger.
    """
    session.execute(
        update(PortfolioRow)
        .where(PortfolioRow.id == portfolio_id)
        .values(ledger_version=PortfolioRow.ledger_version)
    )


def ensure_accounts(session: Session, portfolio_id: int, names: Iterable[str | None]) -> None:
    """Record the broker accounts a portfolio's transactions name."""
    wanted = {name for name in names if name}
    if not wanted:
        return
    known = set(
        session.scalars(select(AccountRow.name).where(AccountRow.portfolio_id == portfolio_id))
    )
    for name in sorted(wanted - known):
        session.add(AccountRow(portfolio_id=portfolio_id, name=name))
    session.flush()


# --- securities -----------------------------------------------------------------------------
def securities_by_symbol(
    session: Session, symbols: Iterable[str] | None = None
) -> dict[str, Security]:
    stmt = select(SecurityRow)
    if symbols is not None:
        stmt = stmt.where(SecurityRow.symbol.in_(list(symbols)))
    return {
        row.symbol: Security(
            symbol=row.symbol,
            currency=row.currency,
            name=row.name,
            type=SecurityType(row.type),
            exchange=row.exchange,
            sector=row.sector,
            country=row.country,
        )
        for row in session.scalars(stmt)
    }


def add_securities(session: Session, securities: Sequence[Security]) -> None:
    bulk.insert_rows(
        session,
        SecurityRow,
        [
            {
                "symbol": s.symbol,
                "currency": s.currency,
                "name": s.name or s.symbol,
                "type": s.type.value,
                "exchange": s.exchange,
                "sector": s.sector,
                "country": s.country,
            }
            for s in securities
        ],
    )


def update_security(session: Session, security: Security) -> None:
    session.execute(
        update(SecurityRow)
        .where(SecurityRow.symbol == security.symbol)
        .values(
            name=security.name,
            type=security.type.value,
            exchange=security.exchange,
            sector=security.sector,
            country=security.country,
        )
    )


# --- transactions ---------------------------------------------------------------------------
def _tx_from_row(row: Any) -> Transaction:
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
    stmt = select(table).where(table.c.portfolio_id == portfolio_id)
    if until is not None:
        stmt = stmt.where(table.c.trade_date <= until)
    return [_tx_from_row(row) for row in session.execute(stmt.order_by(table.c.id))]


def count_transactions_after(session: Session, portfolio_id: int, after: dt.date) -> int:
    stmt = (
        select(func.count())
        .select_from(TransactionRow)
        .where(TransactionRow.portfolio_id == portfolio_id, TransactionRow.trade_date > after)
    )
    return session.scalar(stmt) or 0


def transaction_hashes(session: Session, portfolio_id: int) -> dict[str, str]:
    stmt = select(TransactionRow.tx_id, TransactionRow.content_hash).where(
        TransactionRow.portfolio_id == portfolio_id
    )
    return dict(session.execute(stmt).tuples().all())


def add_transactions(
    session: Session, portfolio_id: int, transactions: Sequence[tuple[Transaction, str]]
) -> int:
    """Insert (transaction, content hash) pairs."""
    now = utcnow()
    return bulk.insert_rows(
        session,
        TransactionRow,
        [
            {
                "portfolio_id": portfolio_id,
                "tx_id": tx.tx_id,
                "external_id": tx.external_id,
                "content_hash": digest,
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
                "created_at": now,
            }
            for tx, digest in transactions
        ],
    )


def symbols_traded_until(session: Session, until: dt.date) -> set[str]:
    stmt = (
        select(TransactionRow.symbol)
        .where(TransactionRow.trade_date <= until, TransactionRow.symbol.is_not(None))
        .distinct()
    )
    return {s for s in session.scalars(stmt) if s}


def portfolio_ids_with_transactions_until(session: Session, until: dt.date) -> list[int]:
    stmt = select(TransactionRow.portfolio_id).where(TransactionRow.trade_date <= until).distinct()
    return list(session.scalars(stmt))


def currencies_used_until(session: Session, until: dt.date) -> set[str]:
    rows = session.execute(
        select(TransactionRow.currency, TransactionRow.counter_currency)
        .where(TransactionRow.trade_date <= until)
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


# --- imported prices and FX -----------------------------------------------------------------
def price_map(
    session: Session, keys: Iterable[tuple[str, dt.date]]
) -> dict[tuple[str, dt.date], Decimal]:
    wanted = set(keys)
    if not wanted:
        return {}
    dates = [d for _, d in wanted]
    stmt = select(PriceRow.symbol, PriceRow.date, PriceRow.price).where(
        PriceRow.date >= min(dates), PriceRow.date <= max(dates)
    )
    return {(s, d): p for s, d, p in session.execute(stmt) if (s, d) in wanted}


def upsert_prices(
    session: Session, prices: Sequence[PackPrice], source: str | None
) -> tuple[int, int]:
    """Insert new prices and update changed ones; returns (added, updated)."""
    existing = price_map(session, ((p.symbol, p.price_date) for p in prices))
    new = [p for p in prices if (p.symbol, p.price_date) not in existing]
    changed = [p for p in prices if existing.get((p.symbol, p.price_date), p.price) != p.price]
    bulk.insert_rows(
        session,
        PriceRow,
        [
            {
                "symbol": p.symbol,
                "date": p.price_date,
                "price": p.price,
                "currency": p.currency,
                "source": source,
            }
            for p in new
        ],
    )
    for p in changed:
        session.execute(
            update(PriceRow)
            .where(PriceRow.symbol == p.symbol, PriceRow.date == p.price_date)
            .values(price=p.price, source=source)
        )
    return len(new), len(changed)


def upsert_fx_rates(
    session: Session, rates: Sequence[FxRate], source: str | None
) -> tuple[int, int]:
    if not rates:
        return 0, 0
    dates = [r.rate_date for r in rates]
    stmt = select(FxRateRow.base, FxRateRow.quote, FxRateRow.date, FxRateRow.rate).where(
        FxRateRow.date >= min(dates), FxRateRow.date <= max(dates)
    )
    existing = {(b, q, d): r for b, q, d, r in session.execute(stmt)}
    new = [r for r in rates if (r.base, r.quote, r.rate_date) not in existing]
    changed = [r for r in rates if existing.get((r.base, r.quote, r.rate_date), r.rate) != r.rate]
    bulk.insert_rows(
        session,
        FxRateRow,
        [
            {
                "base": r.base,
                "quote": r.quote,
                "date": r.rate_date,
                "rate": r.rate,
                "source": source,
            }
            for r in new
        ],
    )
    for r in changed:
        session.execute(
            update(FxRateRow)
            .where(
                FxRateRow.base == r.base, FxRateRow.quote == r.quote, FxRateRow.date == r.rate_date
            )
            .values(rate=r.rate, source=source)
        )
    return len(new), len(changed)


def fx_rates_until(session: Session, until: dt.date) -> list[FxRate]:
    """Every imported FX rate dated on or before `until`, oldest first."""
    stmt = select(FxRateRow).where(FxRateRow.date <= until).order_by(FxRateRow.date)
    return [FxRate(r.base, r.quote, r.rate, r.date) for r in session.scalars(stmt)]


def latest_fx_rates(session: Session, on: dt.date, carry_forward: bool) -> list[FxRate]:
    """Rates dated `on`; with carry_forward, each other pair's latest earlier rate too."""
    if not carry_forward:
        stmt = select(FxRateRow).where(FxRateRow.date == on)
    else:
        latest = (
            select(FxRateRow.base, FxRateRow.quote, func.max(FxRateRow.date).label("date"))
            .where(FxRateRow.date <= on)
            .group_by(FxRateRow.base, FxRateRow.quote)
            .subquery()
        )
        stmt = select(FxRateRow).join(
            latest,
            (FxRateRow.base == latest.c.base)
            & (FxRateRow.quote == latest.c.quote)
            & (FxRateRow.date == latest.c.date),
        )
    return [FxRate(r.base, r.quote, r.rate, r.date) for r in session.scalars(stmt)]


def latest_prices(session: Session, on: dt.date, carry_forward: bool) -> list[PackPrice]:
    """Prices dated `on`; with carry_forward, each other security's latest earlier price."""
    if not carry_forward:
        stmt = select(PriceRow).where(PriceRow.date == on)
    else:
        latest = (
            select(PriceRow.symbol, func.max(PriceRow.date).label("date"))
            .where(PriceRow.date <= on)
            .group_by(PriceRow.symbol)
            .subquery()
        )
        stmt = select(PriceRow).join(
            latest, (PriceRow.symbol == latest.c.symbol) & (PriceRow.date == latest.c.date)
        )
    return [PackPrice(r.symbol, r.price, r.currency, r.date) for r in session.scalars(stmt)]


# --- pricing packs --------------------------------------------------------------------------
def _pack_from_row(
    row: PricingPackRow, prices: tuple[PackPrice, ...] = (), fx_rates: tuple[FxRate, ...] = ()
) -> PricingPack:
    return PricingPack(
        pack_id=row.pack_id,
        date=row.date,
        status=PackStatus(row.status),
        content_hash=row.content_hash,
        supersedes=row.supersedes,
        reason=row.reason,
        sealed_at=row.sealed_at,
        prices=prices,
        fx_rates=fx_rates,
    )


def packs_on(session: Session, date: dt.date) -> list[PricingPackRow]:
    stmt = select(PricingPackRow).where(PricingPackRow.date == date)
    return list(session.scalars(stmt.order_by(PricingPackRow.revision)))


def delete_failed_packs(session: Session, date: dt.date) -> None:
    """Remove the FAILED packs of a date (they hold no contents) before a new attempt."""
    session.execute(
        delete(PricingPackRow).where(
            PricingPackRow.date == date, PricingPackRow.status == PackStatus.FAILED.value
        )
    )


def add_pack(session: Session, pack: PricingPack, revision: int) -> None:
    """Store a pack with its contents. A COMPLETE pack is written PENDING, filled, then sealed,
    so the database triggers accept its contents exactly once."""
    session.add(
        PricingPackRow(
            pack_id=pack.pack_id,
            date=pack.date,
            revision=revision,
            status=PackStatus.PENDING.value,
            supersedes=pack.supersedes,
            created_at=utcnow(),
        )
    )
    session.flush()
    bulk.insert_rows(
        session,
        PackPriceRow,
        [
            {
                "pack_id": pack.pack_id,
                "symbol": p.symbol,
                "price": p.price,
                "currency": p.currency,
                "price_date": p.price_date,
            }
            for p in pack.prices
        ],
    )
    bulk.insert_rows(
        session,
        PackFxRateRow,
        [
            {
                "pack_id": pack.pack_id,
                "base": r.base,
                "quote": r.quote,
                "rate": r.rate,
                "rate_date": r.rate_date,
            }
            for r in pack.fx_rates
        ],
    )
    session.execute(
        update(PricingPackRow)
        .where(PricingPackRow.pack_id == pack.pack_id)
        .values(
            status=pack.status.value,
            content_hash=pack.content_hash,
            reason=pack.reason,
            sealed_at=pack.sealed_at,
        )
    )


def get_pack_row(session: Session, pack_id: str) -> PricingPackRow | None:
    return session.get(PricingPackRow, pack_id)


def load_pack(session: Session, pack_id: str) -> PricingPack:
    row = get_pack_row(session, pack_id)
    if row is None:
        raise NotFoundError(f"no pricing pack {pack_id!r}")
    prices = tuple(
        PackPrice(p.symbol, p.price, p.currency, p.price_date)
        for p in session.scalars(
            select(PackPriceRow)
            .where(PackPriceRow.pack_id == pack_id)
            .order_by(PackPriceRow.symbol)
        )
    )
    rates = tuple(
        FxRate(r.base, r.quote, r.rate, r.rate_date)
        for r in session.scalars(
            select(PackFxRateRow)
            .where(PackFxRateRow.pack_id == pack_id)
            .order_by(PackFxRateRow.base, PackFxRateRow.quote)
        )
    )
    return _pack_from_row(row, prices, rates)


def list_packs(session: Session) -> list[tuple[PricingPack, int, int]]:
    """Every pack (without contents) with its price and FX-rate counts, newest first."""
    n_prices = (
        select(PackPriceRow.pack_id, func.count().label("n"))
        .group_by(PackPriceRow.pack_id)
        .subquery()
    )
    n_fx = (
        select(PackFxRateRow.pack_id, func.count().label("n"))
        .group_by(PackFxRateRow.pack_id)
        .subquery()
    )
    stmt = (
        select(PricingPackRow, func.coalesce(n_prices.c.n, 0), func.coalesce(n_fx.c.n, 0))
        .outerjoin(n_prices, n_prices.c.pack_id == PricingPackRow.pack_id)
        .outerjoin(n_fx, n_fx.c.pack_id == PricingPackRow.pack_id)
        .order_by(PricingPackRow.date.desc(), PricingPackRow.revision.desc())
    )
    return [(_pack_from_row(row), a, b) for row, a, b in session.execute(stmt).all()]


def latest_complete_pack_id(session: Session, on_or_before: dt.date | None) -> str | None:
    """The newest sealed pack dated on or before the date (its latest restatement)."""
    stmt = select(PricingPackRow.pack_id).where(PricingPackRow.status == PackStatus.COMPLETE.value)
    if on_or_before is not None:
        stmt = stmt.where(PricingPackRow.date <= on_or_before)
    stmt = stmt.order_by(PricingPackRow.date.desc(), PricingPackRow.revision.desc()).limit(1)
    return session.scalars(stmt).first()


def ensure_pack_open(session: Session, pack_id: str) -> None:
    """Refuse, in the application, any change to a sealed pack (the database also refuses)."""
    row = get_pack_row(session, pack_id)
    if row is not None and row.status == PackStatus.COMPLETE.value:
        raise SealedPackError(f"pricing pack {pack_id} is sealed; restate it as a new pack")


def set_pack_price(session: Session, pack_id: str, price: PackPrice) -> None:
    """Insert or replace one price of a pack (the seal triggers refuse it for sealed packs)."""
    session.merge(
        PackPriceRow(
            pack_id=pack_id,
            symbol=price.symbol,
            price=price.price,
            currency=price.currency,
            price_date=price.price_date,
        )
    )
    session.flush()
