"""A portfolio's accounts (at a broker): list, create, change; each change is audited on
the portfolio."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, String, select

from foliodb.errors import ConflictError, InputError, InputProblem, NotFoundError
from foliodb.services import audit, portfolios, widths
from foliodb.store import repos
from foliodb.store.tables import AccountRow
from foliodb.store.uow import UnitOfWork

_UNSET: Any = object()


@dataclasses.dataclass(frozen=True)
class Account:
    id: int
    name: str
    broker: str | None
    account_number: str | None


def _account(row: AccountRow) -> Account:
    return Account(row.id, row.name, row.broker, row.account_number)


def list_accounts(engine: Engine, portfolio_id: int) -> list[Account]:
    with UnitOfWork(engine) as uow:
        portfolios.portfolio_row(uow.session, portfolio_id)
        rows = uow.session.scalars(
            select(AccountRow)
            .where(AccountRow.portfolio_id == portfolio_id)
            .order_by(AccountRow.id)
        )
        return [_account(row) for row in rows]


def _account_problems(values: Mapping[str, str | None]) -> list[InputProblem]:
    limits = {}
    for name in ("name", "broker", "account_number"):
        kind = AccountRow.__table__.c[name].type
        assert isinstance(kind, String) and kind.length is not None
        limits[name] = kind.length
    return widths.too_wide(values, limits)


def create_account(
    engine: Engine,
    portfolio_id: int,
    name: str,
    broker: str | None = None,
    account_number: str | None = None,
) -> Account:
    problems = _account_problems({"name": name, "broker": broker, "account_number": account_number})
    if not name.strip():
        problems.append(InputProblem("must not be empty", field="name", value=name))
    if problems:
        raise InputError(problems)
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = portfolios.portfolio_row(session, portfolio_id)
        taken = session.scalar(
            select(AccountRow.id).where(
                AccountRow.portfolio_id == portfolio_id, AccountRow.name == name
            )
        )
        if taken is not None:
            raise ConflictError(f"the portfolio already has an account named {name!r}")
        account = AccountRow(
            portfolio_id=portfolio_id, name=name, broker=broker, account_number=account_number
        )
        session.add(account)
        session.flush()
        after = {"account": name, "broker": broker, "account_number": account_number}
        repos.audit(
            session,
            "create_account",
            audit.PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            after=after,
        )
        result = _account(account)
        uow.commit()
        return result


def update_account(
    engine: Engine,
    portfolio_id: int,
    account_id: int,
    *,
    broker: str | None = _UNSET,
    account_number: str | None = _UNSET,
) -> Account:
    """Change an account's broker or number (its name is what transactions refer to)."""
    changes = {
        k: v for k, v in (("broker", broker), ("account_number", account_number)) if v is not _UNSET
    }
    problems = _account_problems(changes)
    if problems:
        raise InputError(problems)
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = portfolios.portfolio_row(session, portfolio_id)
        account = session.get(AccountRow, account_id)
        if account is None or account.portfolio_id != portfolio_id:
            raise NotFoundError(f"no account {account_id} in portfolio {portfolio_id}")
        before = {"account": account.name} | {k: getattr(account, k) for k in changes}
        for key, value in changes.items():
            setattr(account, key, value)
        repos.audit(
            session,
            "update_account",
            audit.PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            before=before,
            after={"account": account.name} | changes,
        )
        result = _account(account)
        uow.commit()
        return result
