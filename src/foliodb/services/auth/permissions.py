"""What a principal may do with a portfolio: access levels by role, ownership and grants;
the checks every portfolio-scoped route applies; and sharing portfolios with other users."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foliodb.errors import ConflictError, NotFoundError, PermissionDeniedError
from foliodb.services.auth.principals import (
    Access,
    Principal,
    Role,
    Scope,
    parse_email,
    parse_scope,
)
from foliodb.services.auth.users import load_user
from foliodb.services.results import PortfolioRef
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.repos import auth as auth_repo
from foliodb.store.tables import PortfolioRow, UserRow
from foliodb.store.tables_auth import PortfolioGrantRow
from foliodb.store.uow import UnitOfWork


@dataclass(frozen=True)
class GrantInfo:
    portfolio_id: int
    grantee_email: str
    scope: Scope
    granted_by: str | None  # the granter's email; None: the local operator, or a deleted user
    granted_at: dt.datetime


# --- access rules -----------------------------------------------------------------------------
def access_level(role: Role, is_owner: bool, scope: str | None) -> Access | None:
    """What a role may do with a portfolio it owns (or not) and holds a grant on (or not):
    "owner" (everything: write, share, delete), "write", "read", or None (not even see it).

    ADMIN: "owner" of every portfolio. VIEWER: "read" at most, whatever it owns or was
    granted. MANAGER and USER: "owner" of their own, else the grant's scope. A MANAGER with
    a write grant may also share the portfolio (see `may_share`).
    """
    if role is Role.ADMIN:
        return "owner"
    if not is_owner and scope is None:
        return None
    if role is Role.VIEWER:
        return "read"
    if is_owner:
        return "owner"
    return "write" if scope == "write" else "read"


def may_share(role: Role, level: Access | None) -> bool:
    """Whether a principal with this role and access may grant and revoke access to others."""
    return level == "owner" or (role is Role.MANAGER and level == "write")


def _level(principal: Principal, found: auth_repo.PortfolioAccessRow | None) -> Access | None:
    if found is None:
        return None
    return access_level(principal.role, found.owner_id == principal.user_id, found.scope)


def _access(session: Session, principal: Principal, portfolio_id: int) -> Access | None:
    return _level(
        principal, auth_repo.portfolio_access_row(session, portfolio_id, principal.user_id)
    )


def access(engine: Engine, principal: Principal, portfolio_id: int) -> Access | None:
    """The principal's access to a portfolio; None when it may not see it or it does not exist."""
    with UnitOfWork(engine) as uow:
        return _access(uow.session, principal, portfolio_id)


_RANK: dict[Access, int] = {"read": 0, "write": 1, "owner": 2}
_SHORT_OF = {
    "write": "read-only access to portfolio {}",
    "owner": "only the owner may do this to portfolio {}",
}


def require_portfolio(
    engine: Engine, principal: Principal, portfolio_id: int, need: Access = "read"
) -> PortfolioRef:
    """The portfolio, when the principal's access to it is at least `need` ("read", "write"
    or "owner"), found and checked in one query. One the principal cannot see is "not found",
    exactly like one that does not exist; one it sees with less access is "denied"."""
    with UnitOfWork(engine) as uow:
        found = auth_repo.portfolio_access_row(uow.session, portfolio_id, principal.user_id)
    level = _level(principal, found)
    if found is None or level is None:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    if _RANK[level] < _RANK[need]:
        raise PermissionDeniedError(_SHORT_OF[need].format(portfolio_id))
    return PortfolioRef(portfolio_id, found.name, found.owner_email, found.owner_id)


def visible_portfolio_ids(engine: Engine, principal: Principal) -> set[int] | None:
    """Ids of the portfolios the principal may see; None means all of them (ADMIN)."""
    if principal.role is Role.ADMIN:
        return None
    with UnitOfWork(engine) as uow:
        owned = auth_repo.owned_portfolio_ids(uow.session, principal.user_id)
        return owned | auth_repo.granted_portfolio_ids(uow.session, principal.user_id)


def can_create_portfolio(principal: Principal) -> bool:
    return principal.role is not Role.VIEWER


# --- sharing ----------------------------------------------------------------------------------
_NOT_A_SHARER = "only the owner, an ADMIN or a MANAGER with write access shares portfolio {}"


def _grant_info(row: PortfolioGrantRow, grantee: str, granter: str | None) -> GrantInfo:
    return GrantInfo(row.portfolio_id, grantee, parse_scope(row.scope), granter, row.granted_at)


def _require_sharer(session: Session, actor: Principal, portfolio_id: int) -> PortfolioRow:
    level = _access(session, actor, portfolio_id)
    portfolio = session.get(PortfolioRow, portfolio_id)
    if level is None or portfolio is None:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    if not may_share(actor.role, level):
        raise PermissionDeniedError(_NOT_A_SHARER.format(portfolio_id))
    return portfolio


def _grant_audit(portfolio_id: int, grantee: str, scope: str) -> dict[str, Any]:
    return {"portfolio_id": portfolio_id, "grantee": grantee, "scope": scope}


def grant(
    engine: Engine, actor: Principal, portfolio_id: int, grantee_email: str, scope: str
) -> GrantInfo:
    """Share a portfolio with a user, to read or to write; granting again changes the scope."""
    wanted = parse_scope(scope)
    with UnitOfWork(engine) as uow:
        portfolio = _require_sharer(uow.session, actor, portfolio_id)
        grantee = load_user(uow.session, grantee_email)
        if grantee.id == portfolio.owner_id:
            raise ConflictError(f"{grantee.email} owns portfolio {portfolio_id}")
        row = auth_repo.get_grant(uow.session, portfolio_id, grantee.id)
        if row is not None and row.scope == wanted:
            granter = uow.session.get(UserRow, row.granted_by) if row.granted_by else None
            return _grant_info(row, grantee.email, granter.email if granter else None)
        before = None if row is None else _grant_audit(portfolio_id, grantee.email, row.scope)
        if row is None:
            row = PortfolioGrantRow(portfolio_id=portfolio_id, grantee_id=grantee.id)
            uow.session.add(row)
        row.scope, row.granted_by, row.granted_at = wanted, actor.user_id, utcnow()
        repos.audit(
            uow.session,
            "grant" if before is None else "set_scope",
            "portfolio_grant",
            f"{portfolio_id}:{grantee.id}",
            user_id=actor.user_id,
            before=before,
            after=_grant_audit(portfolio_id, grantee.email, wanted),
        )
        uow.session.flush()
        info = _grant_info(row, grantee.email, actor.email)
        uow.commit()
        return info


def revoke_grant(engine: Engine, actor: Principal, portfolio_id: int, grantee_email: str) -> None:
    """Stop sharing a portfolio with a user (those who may share it; or the grantee, leaving)."""
    address = parse_email(grantee_email)
    with UnitOfWork(engine) as uow:
        level = _access(uow.session, actor, portfolio_id)
        if level is None:
            raise NotFoundError(f"no portfolio {portfolio_id}")
        if address != actor.email.lower() and not may_share(actor.role, level):
            raise PermissionDeniedError(_NOT_A_SHARER.format(portfolio_id))
        grantee = load_user(uow.session, address)
        row = auth_repo.get_grant(uow.session, portfolio_id, grantee.id)
        if row is None:
            raise NotFoundError(f"portfolio {portfolio_id} is not shared with {grantee.email}")
        repos.audit(
            uow.session,
            "revoke",
            "portfolio_grant",
            f"{portfolio_id}:{grantee.id}",
            user_id=actor.user_id,
            before=_grant_audit(portfolio_id, grantee.email, row.scope),
        )
        uow.session.delete(row)
        uow.commit()


def list_grants(engine: Engine, actor: Principal, portfolio_id: int) -> list[GrantInfo]:
    """Who a portfolio is shared with: all of them for those who may share it, else only the
    actor's own grant."""
    with UnitOfWork(engine) as uow:
        level = _access(uow.session, actor, portfolio_id)
        if level is None:
            raise NotFoundError(f"no portfolio {portfolio_id}")
        only = None if may_share(actor.role, level) else actor.user_id
        return [
            _grant_info(row, email, by)
            for row, email, by in auth_repo.list_grants(uow.session, portfolio_id, only)
        ]


def find_portfolio(engine: Engine, name: str, owner: str | None = None) -> tuple[int, Principal]:
    """A portfolio's id and its owner, by name (for the operator's CLI)."""
    with UnitOfWork(engine) as uow:
        portfolio = repos.load_portfolio(uow.session, name, owner)
        row = uow.session.get(UserRow, portfolio.owner_id)
        assert row is not None
        return portfolio.id, Principal(row.id, row.email, Role(row.role))
