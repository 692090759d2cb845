"""Repositories of users, the audit log, portfolios and securities."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foliodb.domain.types import (
    Security,
    SecurityType,
)
from foliodb.errors import NotFoundError
from foliodb.store import bulk
from foliodb.store.base import utcnow
from foliodb.store.tables import (
    AccountRow,
    AuditLogRow,
    PortfolioRow,
    SecurityRow,
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


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from where: the user of a server request, its client IP and user
    agent. Audit entries written while one is set (`acting_as`) name it."""

    user_id: int | None
    ip: str | None = None
    user_agent: str | None = None


_acting: ContextVar[Actor | None] = ContextVar("foliodb_acting", default=None)


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Within the block (one server request), audit entries name `actor`: the use cases record
    the owner as the user when no one is signed in, the server knows who really acted."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def audit(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    user_id: int | None = None,
    before: Any = None,
    after: Any = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    actor = _acting.get()
    if actor is not None:
        user_id = actor.user_id if actor.user_id is not None else user_id
        ip = ip or actor.ip
        user_agent = user_agent or actor.user_agent
    session.add(
        AuditLogRow(
            at=utcnow(),
            user_id=user_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
            ip=ip[:64] if ip else None,
            user_agent=user_agent[:400] if user_agent else None,
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


def ledger_version(session: Session, portfolio_id: int) -> int | None:
    """The portfolio's ledger version as committed now (not the session's loaded row)."""
    return session.execute(
        select(PortfolioRow.ledger_version).where(PortfolioRow.id == portfolio_id)
    ).scalar_one_or_none()


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
