"""The audit trail: one entry per change, who made it and from where, before and after.

Use cases write their own entry inside their unit of work (`repos.audit`); `record` is for a
change that keeps none itself (a sign-in, an import that added nothing). `acting_as` names the
user, IP and user agent of the request for every entry written under it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, String, and_, cast, func, or_, select

from foliodb.domain.money import normalize
from foliodb.domain.types import SplitRatio
from foliodb.services import paging
from foliodb.store import repos
from foliodb.store.repos.identity import Actor, acting_as
from foliodb.store.tables import AuditLogRow, PortfolioRow, UserRow
from foliodb.store.uow import UnitOfWork

__all__ = ["PORTFOLIO", "Actor", "AuditEntry", "acting_as", "list_audit", "plain", "record", "text"]

#: The audit entity of everything inside a portfolio (its transactions, accounts, benchmark):
#: the portfolio, so its owner finds every change to it under one id.
PORTFOLIO = "portfolio"


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    user_id: int | None
    user: str | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    ip: str | None
    user_agent: str | None


def text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(normalize(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ";".join(value) or None
    return str(value)


def plain(value: Any) -> Any:
    """A JSON value of a dataclass or field: exact decimals as text, dates in ISO form."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal | dt.date | SplitRatio):
        return text(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def record(
    engine: Engine,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    user_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """One audit entry for a change whose use case keeps none itself (sign-ins, an import
    that added nothing)."""
    with UnitOfWork(engine) as uow:
        repos.audit(
            uow.session,
            action,
            entity_type,
            entity_id,
            user_id=user_id,
            before=before,
            after=after,
        )
        uow.commit()


def list_audit(
    engine: Engine,
    *,
    user_id: int | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Audit entries newest first, with their count. With `user_id` only what that user may
    see: changes to portfolios they own (their grants included), and their own actions;
    None means everything."""
    paging.check_limit(limit)
    log = AuditLogRow
    conditions = []
    if user_id is not None:
        owned = select(cast(PortfolioRow.id, String)).where(PortfolioRow.owner_id == user_id)
        # A grant's entity id is "<portfolio id>:<grantee id>".
        shared = (
            select(PortfolioRow.id)
            .where(
                PortfolioRow.owner_id == user_id,
                log.entity_id.like(cast(PortfolioRow.id, String) + ":%"),
            )
            .exists()
        )
        conditions.append(
            or_(
                log.user_id == user_id,
                and_(log.entity_type == PORTFOLIO, log.entity_id.in_(owned)),
                and_(log.entity_type == "portfolio_grant", shared),
            )
        )
    if entity_type is not None:
        conditions.append(log.entity_type == entity_type)
    if entity_id is not None:
        conditions.append(log.entity_id == entity_id)
    if since is not None:
        conditions.append(log.at >= since)
    stmt = (
        select(log, UserRow.email).outerjoin(UserRow, log.user_id == UserRow.id).where(*conditions)
    )
    with UnitOfWork(engine) as uow:
        session = uow.session
        count = session.scalar(select(func.count()).select_from(log).where(*conditions)) or 0
        rows = session.execute(stmt.order_by(log.id.desc()).limit(limit).offset(offset)).all()
        return [
            AuditEntry(
                r.id,
                r.at,
                r.user_id,
                email,
                r.action,
                r.entity_type,
                r.entity_id,
                r.before,
                r.after,
                r.ip,
                r.user_agent,
            )
            for r, email in rows
        ], count
