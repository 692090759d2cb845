"""Securities, the reference data every portfolio shares: search and add one."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Engine, func, or_, select

from foliodb.domain.currencies import is_currency
from foliodb.domain.types import Security, SecurityType
from foliodb.errors import ConflictError, InputError, InputProblem
from foliodb.services import audit, widths
from foliodb.store import repos
from foliodb.store.tables import SecurityRow
from foliodb.store.uow import UnitOfWork


def list_securities(
    engine: Engine, search: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[Security], int]:
    """Securities by symbol (those whose symbol or name contains `search`) and their count."""
    stmt = select(SecurityRow)
    if search:
        pattern = f"%{search.strip().upper()}%"
        stmt = stmt.where(
            or_(SecurityRow.symbol.like(pattern), func.upper(SecurityRow.name).like(pattern))
        )
    with UnitOfWork(engine) as uow:
        count = uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = uow.session.scalars(stmt.order_by(SecurityRow.symbol).limit(limit).offset(offset))
        return [_security(row) for row in rows], count


def _security(row: SecurityRow) -> Security:
    return Security(
        row.symbol,
        row.currency,
        row.name,
        SecurityType(row.type),
        row.exchange,
        row.sector,
        row.country,
    )


def create_security(engine: Engine, security: Security) -> Security:
    """Add one security (reference data shared by every portfolio)."""
    symbol = security.symbol.strip().upper()
    values = dataclasses.asdict(security) | {"symbol": symbol}
    problems = widths.too_wide(values, widths.SECURITY)
    if not symbol:
        problems.append(InputProblem("must not be empty", field="symbol", value=symbol))
    if not is_currency(security.currency.upper()):
        problems.append(
            InputProblem(
                "is not a known currency",
                field="currency",
                value=security.currency,
                expected="an ISO 4217 code such as USD",
            )
        )
    if problems:
        raise InputError(problems)
    security = dataclasses.replace(
        security, symbol=symbol, currency=security.currency.upper(), name=security.name or symbol
    )
    with UnitOfWork(engine) as uow:
        if repos.securities_by_symbol(uow.session, [symbol]):
            raise ConflictError(f"security {symbol} exists already")
        repos.add_securities(uow.session, [security])
        repos.audit(uow.session, "create", "security", symbol, after=audit.plain(security))
        uow.commit()
    return security
