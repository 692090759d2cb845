"""Portfolios: create, list, show."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from foliodb.domain.currencies import is_currency
from foliodb.domain.types import BookingMethod
from foliodb.errors import ConflictError, InputError, InputProblem, NotFoundError
from foliodb.services import widths
from foliodb.services.results import PortfolioInfo
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.tables import PortfolioRow, TransactionRow
from foliodb.store.uow import UnitOfWork

#: The owner of portfolios created without one (a user without a password: it cannot log in).
LOCAL_USER = repos.LOCAL_USER_EMAIL


def _info(uow: UnitOfWork, row: PortfolioRow, owner: str) -> PortfolioInfo:
    count = (
        uow.session.scalar(
            select(func.count())
            .select_from(TransactionRow)
            .where(TransactionRow.portfolio_id == row.id)
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
