"""Repositories of imported prices and FX rates, and of pricing packs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from foliodb.domain.types import (
    FxRate,
    PackPrice,
    PackStatus,
    PricingPack,
)
from foliodb.errors import NotFoundError, SealedPackError
from foliodb.store import bulk
from foliodb.store.base import utcnow
from foliodb.store.tables import (
    FxRateRow,
    PackFxRateRow,
    PackPriceRow,
    PriceRow,
    PricingPackRow,
)


# --- imported prices and FX -----------------------------------------------------------------
def _upsert(
    session: Session,
    row_class: type[PriceRow] | type[FxRateRow],
    key: tuple[str, ...],
    value: str,
    rows: Sequence[dict[str, Any]],
) -> tuple[int, int]:
    """Insert rows whose natural `key` is new and update those whose `value` changed;
    returns (added, updated). Existing rows are read once, over the rows' date range."""
    if not rows:
        return 0, 0
    dates = [row["date"] for row in rows]
    columns = [getattr(row_class, name) for name in (*key, value)]
    stmt = select(*columns).where(row_class.date >= min(dates), row_class.date <= max(dates))
    existing = {tuple(found[:-1]): found[-1] for found in session.execute(stmt)}
    new = [row for row in rows if tuple(row[k] for k in key) not in existing]
    changed = [
        row for row in rows if existing.get(tuple(row[k] for k in key), row[value]) != row[value]
    ]
    bulk.insert_rows(session, row_class, new)
    for row in changed:
        session.execute(
            update(row_class)
            .where(*(getattr(row_class, k) == row[k] for k in key))
            .values({value: row[value], "source": row["source"]})
        )
    return len(new), len(changed)


def upsert_prices(
    session: Session, prices: Sequence[PackPrice], source: str | None
) -> tuple[int, int]:
    """Insert new prices and update changed ones; returns (added, updated)."""
    rows = [
        {
            "symbol": p.symbol,
            "date": p.price_date,
            "price": p.price,
            "currency": p.currency,
            "source": source,
        }
        for p in prices
    ]
    return _upsert(session, PriceRow, ("symbol", "date"), "price", rows)


def upsert_fx_rates(
    session: Session, rates: Sequence[FxRate], source: str | None
) -> tuple[int, int]:
    """Insert new FX rates and update changed ones; returns (added, updated)."""
    rows = [
        {"base": r.base, "quote": r.quote, "date": r.rate_date, "rate": r.rate, "source": source}
        for r in rates
    ]
    return _upsert(session, FxRateRow, ("base", "quote", "date"), "rate", rows)


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


def pack_date(session: Session, pack_id: str) -> dt.date:
    """The date of a pack, without loading its prices."""
    row = get_pack_row(session, pack_id)
    if row is None:
        raise NotFoundError(f"no pricing pack {pack_id!r}")
    return row.date


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


def newest_seal(session: Session, until: dt.date | None = None) -> dt.datetime | None:
    """When the newest pack (dated on or before `until`) was sealed: any new or restated
    pack changes it."""
    stmt = select(func.max(PricingPackRow.sealed_at)).where(
        PricingPackRow.status == PackStatus.COMPLETE.value
    )
    if until is not None:
        stmt = stmt.where(PricingPackRow.date <= until)
    return session.scalar(stmt)
