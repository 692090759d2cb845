"""Repositories of sign-in and sharing: users by email, refresh tokens, API keys, login
attempts, portfolio grants; and the PostgreSQL side of row-level security (the request's
settings, the server's database role). They never commit; the unit of work does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, func, select, text, update
from sqlalchemy.orm import Session

from foliodb.store.tables import PortfolioRow, UserRow
from foliodb.store.tables_auth import (
    ApiKeyRow,
    LoginAttemptRow,
    PortfolioGrantRow,
    RefreshTokenRow,
)


# --- users ------------------------------------------------------------------------------------
def user_by_email(session: Session, email: str) -> UserRow | None:
    """The user whose email is `email` in any case (emails are stored lower-case since 0010;
    older rows may not be)."""
    rows = session.scalars(select(UserRow).where(func.lower(UserRow.email) == email.lower()))
    return rows.first()


def list_users(session: Session) -> Sequence[UserRow]:
    return session.scalars(select(UserRow).order_by(UserRow.email)).all()


def count_admins(session: Session) -> int:
    return session.scalar(select(func.count()).where(UserRow.role == "ADMIN")) or 0


# --- refresh tokens ---------------------------------------------------------------------------
def refresh_token_by_hash(session: Session, token_hash: str) -> RefreshTokenRow | None:
    stmt = select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
    return session.scalars(stmt).one_or_none()


def revoke_refresh_token(session: Session, token_id: int, at: dt.datetime) -> bool:
    """Revoke one token unless it already is; whether this call revoked it. Compare-and-set in
    one UPDATE, so of two concurrent uses of one token exactly one wins, on either engine."""
    result = session.execute(
        update(RefreshTokenRow)
        .where(RefreshTokenRow.id == token_id, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def revoke_refresh_family(session: Session, family_id: str, at: dt.datetime) -> None:
    session.execute(
        update(RefreshTokenRow)
        .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def revoke_user_refresh_tokens(session: Session, user_id: int, at: dt.datetime) -> None:
    session.execute(
        update(RefreshTokenRow)
        .where(RefreshTokenRow.user_id == user_id, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def set_replaced_by(session: Session, token_id: int, successor_id: int) -> None:
    session.execute(
        update(RefreshTokenRow)
        .where(RefreshTokenRow.id == token_id)
        .values(replaced_by=successor_id)
    )


# --- API keys ---------------------------------------------------------------------------------
def list_api_keys(session: Session, user_id: int) -> Sequence[ApiKeyRow]:
    stmt = select(ApiKeyRow).where(ApiKeyRow.user_id == user_id).order_by(ApiKeyRow.id)
    return session.scalars(stmt).all()


# --- login attempts ---------------------------------------------------------------------------
def add_login_attempt(session: Session, email: str, ip: str | None, at: dt.datetime) -> int:
    row = LoginAttemptRow(email=email, ip=ip, at=at)
    session.add(row)
    session.flush()
    return row.id


def login_attempt_times(
    session: Session,
    since: dt.datetime,
    *,
    email: str | None = None,
    ip: str | None = None,
    excluding: int | None = None,
) -> list[dt.datetime]:
    """When the attempts after `since` for this account (or from this IP) were made, oldest
    first."""
    stmt = select(LoginAttemptRow.at).where(LoginAttemptRow.at > since)
    if email is not None:
        stmt = stmt.where(LoginAttemptRow.email == email)
    if ip is not None:
        stmt = stmt.where(LoginAttemptRow.ip == ip)
    if excluding is not None:
        stmt = stmt.where(LoginAttemptRow.id != excluding)
    return list(session.scalars(stmt.order_by(LoginAttemptRow.at)))


def delete_login_attempt(session: Session, attempt_id: int) -> None:
    session.execute(delete(LoginAttemptRow).where(LoginAttemptRow.id == attempt_id))


def clear_login_attempts(session: Session, email: str) -> None:
    session.execute(delete(LoginAttemptRow).where(LoginAttemptRow.email == email))


def prune_login_attempts(session: Session, before: dt.datetime) -> None:
    session.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at <= before))


# --- portfolios and grants --------------------------------------------------------------------
class PortfolioAccessRow(NamedTuple):
    name: str
    owner_id: int
    owner_email: str
    scope: str | None  # the asking user's grant scope; None: no grant


def portfolio_access_row(
    session: Session, portfolio_id: int, user_id: int
) -> PortfolioAccessRow | None:
    """The portfolio's name and owner, and `user_id`'s grant scope on it, in one query; None
    when there is no such portfolio (or row-level security hides it)."""
    stmt = (
        select(PortfolioRow.name, PortfolioRow.owner_id, UserRow.email, PortfolioGrantRow.scope)
        .join(UserRow, PortfolioRow.owner_id == UserRow.id)
        .outerjoin(
            PortfolioGrantRow,
            (PortfolioGrantRow.portfolio_id == PortfolioRow.id)
            & (PortfolioGrantRow.grantee_id == user_id),
        )
        .where(PortfolioRow.id == portfolio_id)
    )
    row = session.execute(stmt).one_or_none()
    return None if row is None else PortfolioAccessRow(*row)


def owned_portfolio_ids(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(PortfolioRow.id).where(PortfolioRow.owner_id == user_id)))


def granted_portfolio_ids(session: Session, user_id: int) -> set[int]:
    stmt = select(PortfolioGrantRow.portfolio_id).where(PortfolioGrantRow.grantee_id == user_id)
    return set(session.scalars(stmt))


def get_grant(session: Session, portfolio_id: int, grantee_id: int) -> PortfolioGrantRow | None:
    return session.get(PortfolioGrantRow, (portfolio_id, grantee_id))


def list_grants(
    session: Session, portfolio_id: int, grantee_id: int | None = None
) -> list[tuple[PortfolioGrantRow, str, str | None]]:
    """Grants on a portfolio (only `grantee_id`'s, if given) with the grantee's and the
    granter's emails, by grantee email."""
    granter = UserRow.__table__.alias("granter")
    stmt = (
        select(PortfolioGrantRow, UserRow.email, granter.c.email)
        .join(UserRow, UserRow.id == PortfolioGrantRow.grantee_id)
        .outerjoin(granter, granter.c.id == PortfolioGrantRow.granted_by)
        .where(PortfolioGrantRow.portfolio_id == portfolio_id)
        .order_by(UserRow.email)
    )
    if grantee_id is not None:
        stmt = stmt.where(PortfolioGrantRow.grantee_id == grantee_id)
    return [(row, email, by) for row, email, by in session.execute(stmt).all()]


# --- PostgreSQL: row-level security context and the server's role -----------------------------
def set_rls_context(connection: Connection | Session, user_id: int | None, role: str) -> None:
    """Set `foliodb.user_id` and `foliodb.user_role` until the transaction ends (None: clear
    them, so nothing is visible). A no-op on SQLite, which has no row-level security."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    if bind.dialect.name != "postgresql":
        return
    connection.execute(
        text(
            "SELECT set_config('foliodb.user_id', :user_id, true), "
            "set_config('foliodb.user_role', :role, true)"
        ),
        {"user_id": "" if user_id is None else str(user_id), "role": role},
    )


def role_exists(connection: Connection, name: str) -> bool:
    found = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
    return found.first() is not None


def current_schema(connection: Connection) -> str:
    return str(connection.execute(text("SELECT current_schema()")).scalar_one())


def run_ddl(connection: Connection, statements: Sequence[str]) -> None:
    for statement in statements:
        connection.exec_driver_sql(statement)


def set_role_password(connection: Connection, name: str, quoted_name: str, password: str) -> None:
    """Give a role its password as a SCRAM verifier computed here by libpq, so the password
    itself never reaches the server (nor its statement log)."""
    raw: Any = connection.connection.driver_connection
    verifier = raw.pgconn.encrypt_password(
        password.encode(), name.encode(), b"scram-sha-256"
    ).decode()
    connection.exec_driver_sql(f"ALTER ROLE {quoted_name} PASSWORD '{verifier}'")
