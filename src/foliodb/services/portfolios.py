"""Portfolios: create, list, show and set a benchmark by name (the CLI and the Python API);
by id (the server): show, rename, set a benchmark, delete.

A portfolio's `transaction_count` counts the transactions its ledger replays: reversed
transactions and their reversals are listed but not counted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from foliodb.domain.currencies import is_currency
from foliodb.domain.types import BookingMethod
from foliodb.errors import ConflictError, InputError, InputProblem, NotFoundError
from foliodb.services import audit, widths
from foliodb.services.results import PortfolioInfo
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.tables import PortfolioRow, TransactionRow, UserRow
from foliodb.store.uow import UnitOfWork

#: The owner of portfolios created without one (a user without a password: it cannot log in).
LOCAL_USER = repos.LOCAL_USER_EMAIL

_UNSET: Any = object()


def _info(uow: UnitOfWork, row: PortfolioRow, owner: str) -> PortfolioInfo:
    count = (
        uow.session.scalar(
            select(func.count())
            .select_from(TransactionRow)
            .where(TransactionRow.portfolio_id == row.id, TransactionRow.active)
        )
        or 0
    )
    return PortfolioInfo(
        row.name,
        owner,
        row.base_currency,
        row.booking_method,
        count,
        row.ledger_version,
        row.benchmark,
    )


def create_portfolio(
    engine: Engine,
    name: str,
    base_currency: str = "USD",
    booking_method: str = "FIFO",
    owner: str = LOCAL_USER,
    exist_ok: bool = False,
) -> PortfolioInfo:
    """Create a portfolio. With `exist_ok`, an existing one with the same base currency and
    booking method is returned instead (one that differs is still refused)."""
    problems = widths.too_wide({"name": name, "owner": owner}, widths.PORTFOLIO)
    if "@" not in owner.strip("@"):
        problems.append(
            InputProblem(
                "is not an email address",
                field="owner",
                value=owner,
                expected="an address such as alice@example.com",
            )
        )
    if not name.strip():
        problems.append(InputProblem("must not be empty", field="name", value=name))
    elif name != name.strip():
        # ' Main' beside 'Main' looks like one portfolio and answers to neither name.
        problems.append(
            InputProblem(
                "starts or ends with blanks", field="name", value=name, expected=repr(name.strip())
            )
        )
    if not is_currency(base_currency.upper()):
        problems.append(
            InputProblem(
                "is not a known currency",
                field="base_currency",
                value=base_currency,
                expected="an ISO 4217 code",
            )
        )
    try:
        method = BookingMethod(booking_method.upper())
    except ValueError:
        problems.append(
            InputProblem(
                "is not a booking method",
                field="booking_method",
                value=booking_method,
                expected=", ".join(m.value for m in BookingMethod),
            )
        )
    if problems:
        raise InputError(problems)
    with UnitOfWork(engine) as uow:
        user = repos.ensure_user(uow.session, owner)
        existing = uow.session.scalars(
            select(PortfolioRow).where(PortfolioRow.owner_id == user.id, PortfolioRow.name == name)
        ).one_or_none()
        if existing is not None:
            same = (existing.base_currency, existing.booking_method) == (
                base_currency.upper(),
                method.value,
            )
            if exist_ok and same:
                return _info(uow, existing, owner)
            raise ConflictError(
                f"{owner} already has a portfolio named {name!r} ({existing.base_currency}, "
                f"{existing.booking_method})"
            )
        row = PortfolioRow(
            owner_id=user.id,
            name=name,
            base_currency=base_currency.upper(),
            booking_method=method.value,
            ledger_version=0,
            created_at=utcnow(),
        )
        uow.session.add(row)
        uow.session.flush()
        after = {
            "name": name,
            "base_currency": row.base_currency,
            "booking_method": row.booking_method,
        }
        repos.audit(uow.session, "create", "portfolio", str(row.id), user_id=user.id, after=after)
        info = _info(uow, row, owner)
        uow.commit()
        return info


def list_portfolios(engine: Engine) -> list[PortfolioInfo]:
    with UnitOfWork(engine) as uow:
        return [_info(uow, row, owner) for row, owner in repos.list_portfolios(uow.session)]


def show_portfolio(engine: Engine, name: str, owner: str | None = None) -> PortfolioInfo:
    with UnitOfWork(engine) as uow:
        row = repos.load_portfolio(uow.session, name, owner)
        email = next(e for r, e in repos.list_portfolios(uow.session) if r.id == row.id)
        return _info(uow, row, email)


def set_benchmark(
    engine: Engine, name: str, symbol: str | None, owner: str | None = None
) -> PortfolioInfo:
    """Give the portfolio its own benchmark (a security, or an index imported as prices),
    used by performance and reports that name none; None removes it."""
    with UnitOfWork(engine) as uow:
        row = repos.load_portfolio(uow.session, name, owner)
        if symbol is not None:
            symbol = symbol.upper()
            if symbol not in repos.securities_by_symbol(uow.session, [symbol]):
                raise NotFoundError(f"no security {symbol!r} to use as a benchmark")
        before = {"benchmark": row.benchmark}
        row.benchmark = symbol
        repos.audit(
            uow.session,
            "set_benchmark",
            "portfolio",
            str(row.id),
            user_id=row.owner_id,
            before=before,
            after={"benchmark": symbol},
        )
        email = next(e for r, e in repos.list_portfolios(uow.session) if r.id == row.id)
        info = _info(uow, row, email)
        uow.commit()
        return info


# --- by id, for the server ----------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PortfolioRecord:
    id: int
    name: str
    owner: str
    base_currency: str
    booking_method: str
    transaction_count: int
    ledger_version: int
    benchmark: str | None
    created_at: dt.datetime


def portfolio_row(session: Session, portfolio_id: int) -> PortfolioRow:
    row = session.get(PortfolioRow, portfolio_id)
    if row is None:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    return row


def _records(session: Session, ids: Iterable[int] | None) -> list[PortfolioRecord]:
    counts = (
        select(TransactionRow.portfolio_id, func.count().label("n"))
        .where(TransactionRow.active)
        .group_by(TransactionRow.portfolio_id)
        .subquery()
    )
    stmt = (
        select(PortfolioRow, UserRow.email, counts.c.n)
        .join(UserRow, PortfolioRow.owner_id == UserRow.id)
        .outerjoin(counts, counts.c.portfolio_id == PortfolioRow.id)
        .order_by(PortfolioRow.id)
    )
    if ids is not None:
        stmt = stmt.where(PortfolioRow.id.in_(list(ids)))
    return [
        PortfolioRecord(
            row.id,
            row.name,
            email,
            row.base_currency,
            row.booking_method,
            count or 0,
            row.ledger_version,
            row.benchmark,
            row.created_at,
        )
        for row, email, count in session.execute(stmt).tuples()
    ]


def list_records(engine: Engine, ids: Iterable[int] | None = None) -> list[PortfolioRecord]:
    """Portfolios by id (every one when `ids` is None), oldest first."""
    with UnitOfWork(engine) as uow:
        return _records(uow.session, ids)


def get_record(engine: Engine, portfolio_id: int) -> PortfolioRecord:
    with UnitOfWork(engine) as uow:
        found = _records(uow.session, [portfolio_id])
    if not found:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    return found[0]


def portfolio_id(engine: Engine, name: str, owner: str | None = None) -> int:
    """The id of the portfolio `name` (of `owner`, or the only one so named)."""
    with UnitOfWork(engine) as uow:
        return repos.load_portfolio(uow.session, name, owner).id


def find_record(engine: Engine, owner: str, name: str) -> PortfolioRecord:
    """The portfolio `name` of the user `owner` (an email)."""
    with UnitOfWork(engine) as uow:
        row = repos.load_portfolio(uow.session, name, owner)
        return _records(uow.session, [row.id])[0]


def _name_problems(name: str) -> list[InputProblem]:
    problems = widths.too_wide({"name": name}, widths.PORTFOLIO)
    if not name.strip():
        problems.append(InputProblem("must not be empty", field="name", value=name))
    elif name != name.strip():
        problems.append(
            InputProblem(
                "starts or ends with blanks", field="name", value=name, expected=repr(name.strip())
            )
        )
    return problems


def update_portfolio(
    engine: Engine, portfolio_id: int, *, name: str = _UNSET, benchmark: str | None = _UNSET
) -> PortfolioRecord:
    """Rename a portfolio and/or set its benchmark (None removes it): one audit entry with
    the fields before and after."""
    problems = _name_problems(name) if name is not _UNSET else []
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = portfolio_row(session, portfolio_id)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if benchmark is not _UNSET and benchmark is not None:
            benchmark = benchmark.strip().upper()
            if benchmark not in repos.securities_by_symbol(session, [benchmark]):
                problems.append(
                    InputProblem(
                        "is not a known security",
                        field="benchmark",
                        value=benchmark,
                        expected="a symbol of GET /securities",
                    )
                )
        if problems:
            raise InputError(problems)
        if name is not _UNSET and name != row.name:
            taken = session.scalar(
                select(PortfolioRow.id).where(
                    PortfolioRow.owner_id == row.owner_id,
                    PortfolioRow.name == name,
                    PortfolioRow.id != row.id,
                )
            )
            if taken is not None:
                raise ConflictError(f"the owner already has a portfolio named {name!r}")
            before["name"], after["name"] = row.name, name
            row.name = name
        if benchmark is not _UNSET and benchmark != row.benchmark:
            before["benchmark"], after["benchmark"] = row.benchmark, benchmark
            row.benchmark = benchmark
        repos.audit(
            session,
            "update",
            audit.PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            before=before,
            after=after,
        )
        session.flush()
        record = _records(session, [row.id])[0]
        uow.commit()
        return record


def delete_portfolio(engine: Engine, portfolio_id: int) -> PortfolioRecord:
    """Delete a portfolio with everything in it (transactions, lots, history, caches); the
    audit entry keeps what it was."""
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = portfolio_row(session, portfolio_id)
        record = _records(session, [row.id])[0]
        before = {
            "name": record.name,
            "owner": record.owner,
            "base_currency": record.base_currency,
            "booking_method": record.booking_method,
            "transaction_count": record.transaction_count,
            "ledger_version": record.ledger_version,
            "benchmark": record.benchmark,
        }
        session.delete(row)
        session.flush()
        repos.audit(
            session,
            "delete",
            audit.PORTFOLIO,
            str(portfolio_id),
            user_id=row.owner_id,
            before=before,
        )
        uow.commit()
        return record
