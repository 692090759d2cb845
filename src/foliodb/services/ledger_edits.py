"""Edits addressed by id, for the REST server: portfolios (rename, benchmark, delete),
accounts, securities, one transaction at a time (add, amend, reverse), transaction pages and
the audit trail.

Each use case is one unit of work and writes exactly one audit entry. A ledger edit locks the
portfolio, replays the whole edited ledger before anything is written (an edit that breaks a
later transaction is refused, naming it), then stores the transaction, the replayed lots, gains
and cash, forgets the daily history from the first date the edit touches, and bumps the
ledger version, so every cached figure misses.

Amending keeps the transaction's `tx_id` (a later SPECIFIC sale may name it as a lot); a
reversal removes it from the ledger. Both keep the transaction as it was in the audit entry's
`before`, and the amendment's result in `after`.
"""

from __future__ import annotations

import base64
import binascii
import csv
import dataclasses
import datetime as dt
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, and_, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from foliodb.domain import ledger
from foliodb.domain.currencies import is_currency
from foliodb.domain.money import normalize
from foliodb.domain.pricing import FxTable
from foliodb.domain.types import (
    CASH_TYPES,
    BookingMethod,
    FxRate,
    LedgerState,
    Security,
    SecurityType,
    SplitRatio,
    Transaction,
    TxType,
)
from foliodb.errors import (
    ConflictError,
    FxRateMissingError,
    InputError,
    InputProblem,
    LedgerError,
    NotFoundError,
)
from foliodb.ingest import csv_files
from foliodb.services import widths
from foliodb.store import repos
from foliodb.store.repos.identity import Actor, acting_as
from foliodb.store.tables import (
    AccountRow,
    AuditLogRow,
    PortfolioRow,
    SecurityRow,
    TransactionRow,
    UserRow,
)
from foliodb.store.uow import UnitOfWork

__all__ = [
    "Account",
    "Actor",
    "AuditEntry",
    "PortfolioRecord",
    "PortfolioRef",
    "TransactionPage",
    "acting_as",
]

#: The audit entity of everything inside a portfolio (its transactions, accounts, benchmark):
#: the portfolio, so its owner finds every change to it under one id.
PORTFOLIO = "portfolio"
MAX_PAGE = 1000


# --- results --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PortfolioRef:
    """What the name-addressed use cases need to find a portfolio known by id."""

    id: int
    name: str
    owner: str
    owner_id: int


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


@dataclasses.dataclass(frozen=True)
class Account:
    id: int
    name: str
    broker: str | None
    account_number: str | None


@dataclasses.dataclass(frozen=True)
class TransactionPage:
    """Transactions in (trade_date, insertion) order; `next_cursor` continues after the last."""

    transactions: tuple[Transaction, ...]
    count: int
    next_cursor: str | None


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


_UNSET: Any = object()


# --- portfolios -----------------------------------------------------------------------------
def _portfolio_row(session: Session, portfolio_id: int) -> PortfolioRow:
    row = session.get(PortfolioRow, portfolio_id)
    if row is None:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    return row


def portfolio_ref(engine: Engine, portfolio_id: int) -> PortfolioRef:
    with UnitOfWork(engine) as uow:
        found = uow.session.execute(
            select(PortfolioRow.name, UserRow.email, UserRow.id)
            .join(UserRow, PortfolioRow.owner_id == UserRow.id)
            .where(PortfolioRow.id == portfolio_id)
        ).one_or_none()
    if found is None:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    name, email, owner_id = found
    return PortfolioRef(portfolio_id, name, email, owner_id)


def _records(session: Session, ids: Iterable[int] | None) -> list[PortfolioRecord]:
    counts = (
        select(TransactionRow.portfolio_id, func.count().label("n"))
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


def list_portfolios(engine: Engine, ids: Iterable[int] | None = None) -> list[PortfolioRecord]:
    """Portfolios by id (every one when `ids` is None), oldest first."""
    with UnitOfWork(engine) as uow:
        return _records(uow.session, ids)


def get_portfolio(engine: Engine, portfolio_id: int) -> PortfolioRecord:
    with UnitOfWork(engine) as uow:
        found = _records(uow.session, [portfolio_id])
    if not found:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    return found[0]


def find_portfolio(engine: Engine, owner: str, name: str) -> PortfolioRecord:
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
        row = _portfolio_row(session, portfolio_id)
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
            PORTFOLIO,
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
        row = _portfolio_row(session, portfolio_id)
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
            session, "delete", PORTFOLIO, str(portfolio_id), user_id=row.owner_id, before=before
        )
        uow.commit()
        return record


# --- accounts -------------------------------------------------------------------------------
def _account(row: AccountRow) -> Account:
    return Account(row.id, row.name, row.broker, row.account_number)


def list_accounts(engine: Engine, portfolio_id: int) -> list[Account]:
    with UnitOfWork(engine) as uow:
        _portfolio_row(uow.session, portfolio_id)
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
        row = _portfolio_row(session, portfolio_id)
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
            session, "create_account", PORTFOLIO, str(row.id), user_id=row.owner_id, after=after
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
        row = _portfolio_row(session, portfolio_id)
        account = session.get(AccountRow, account_id)
        if account is None or account.portfolio_id != portfolio_id:
            raise NotFoundError(f"no account {account_id} in portfolio {portfolio_id}")
        before = {"account": account.name} | {k: getattr(account, k) for k in changes}
        for key, value in changes.items():
            setattr(account, key, value)
        repos.audit(
            session,
            "update_account",
            PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            before=before,
            after={"account": account.name} | changes,
        )
        result = _account(account)
        uow.commit()
        return result


# --- securities -----------------------------------------------------------------------------
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
        repos.audit(uow.session, "create", "security", symbol, after=_plain(security))
        uow.commit()
    return security


# --- transactions: reading --------------------------------------------------------------------
def _encode_cursor(trade_date: dt.date, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{trade_date.isoformat()}|{row_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[dt.date, int]:
    try:
        day, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return dt.date.fromisoformat(day), int(row_id)
    except (ValueError, binascii.Error, UnicodeError):
        raise InputError(
            InputProblem(
                "is not a cursor of this API",
                field="cursor",
                value=cursor[:40],
                expected="the next_cursor of a previous page",
            )
        ) from None


def transactions_page(
    engine: Engine,
    portfolio_id: int,
    *,
    type: TxType | None = None,
    symbol: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 100,
    offset: int = 0,
    cursor: str | None = None,
) -> TransactionPage:
    """A page of a portfolio's transactions, filtered by type, symbol and trade dates (both
    included). Page by `offset`, or by `cursor` (stable while transactions are added)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(
            InputProblem("is out of range", field="limit", value=str(limit), expected="1 to 1000")
        )
    table = TransactionRow.__table__
    conditions = [table.c.portfolio_id == portfolio_id]
    if type is not None:
        conditions.append(table.c.type == type.value)
    if symbol is not None:
        conditions.append(table.c.symbol == symbol.strip().upper())
    if start is not None:
        conditions.append(table.c.trade_date >= start)
    if end is not None:
        conditions.append(table.c.trade_date <= end)
    after = _decode_cursor(cursor) if cursor else None
    with UnitOfWork(engine) as uow:
        session = uow.session
        _portfolio_row(session, portfolio_id)
        count = session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0
        stmt = select(table).where(*conditions)
        if after is not None:
            day, row_id = after
            stmt = stmt.where(
                or_(
                    table.c.trade_date > day,
                    and_(table.c.trade_date == day, table.c.id > row_id),
                )
            )
        else:
            stmt = stmt.offset(offset)
        rows = session.execute(stmt.order_by(table.c.trade_date, table.c.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    following = _encode_cursor(rows[-1].trade_date, rows[-1].id) if more and rows else None
    return TransactionPage(tuple(repos.transaction_from_row(r) for r in rows), count, following)


def get_transaction(engine: Engine, portfolio_id: int, tx_id: str) -> Transaction:
    with UnitOfWork(engine) as uow:
        _portfolio_row(uow.session, portfolio_id)
        return repos.transaction_from_row(_tx_row(uow.session, portfolio_id, tx_id))


def _tx_row(session: Session, portfolio_id: int, tx_id: str) -> Any:
    table = TransactionRow.__table__
    row = session.execute(
        select(table).where(table.c.portfolio_id == portfolio_id, table.c.tx_id == tx_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no transaction {tx_id!r} in portfolio {portfolio_id}")
    return row


# --- transactions: writing --------------------------------------------------------------------
def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(normalize(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ";".join(value) or None
    return str(value)


def _plain(value: Any) -> Any:
    """A JSON value of a dataclass or field: exact decimals as text, dates in ISO form."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal | dt.date | SplitRatio):
        return _text(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def transaction_fields(tx: Transaction) -> dict[str, str | None]:
    """A transaction as the cells of its CSV row (docs/formats.md)."""
    return {
        "external_id": tx.external_id,
        "trade_date": _text(tx.trade_date),
        "type": tx.type.value,
        "symbol": tx.symbol,
        "quantity": _text(tx.quantity),
        "price": _text(tx.price),
        "amount": _text(tx.amount),
        "currency": tx.currency,
        "fee": _text(tx.fee),
        "fx_rate": _text(tx.fx_rate),
        "counter_currency": tx.counter_currency,
        "counter_amount": _text(tx.counter_amount),
        "ratio": _text(tx.ratio),
        "lot_ids": _text(tx.lot_ids),
        "method": tx.method.value if tx.method else None,
        "acquired_date": _text(tx.acquired_date),
        "account": tx.account,
        "note": tx.note,
    }


def _parse_one(fields: Mapping[str, str | None]) -> csv_files.ParsedTransaction:
    """One transaction through the CSV importer's own rules, so a transaction given as JSON is
    refused exactly where the same CSV row would be. Problems name the field, not a file."""
    unknown = sorted(set(fields) - set(csv_files.TRANSACTION_FIELDS))
    if unknown:
        raise InputError(InputProblem("is not a transaction field", field=f) for f in unknown)
    with tempfile.TemporaryDirectory(prefix="foliodb-tx-") as folder:
        path = Path(folder) / "transaction.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(csv_files.TRANSACTION_FIELDS)
            writer.writerow([fields.get(name) or "" for name in csv_files.TRANSACTION_FIELDS])
        try:
            (parsed,) = csv_files.parse_transactions(path)
        except InputError as exc:
            raise InputError(
                dataclasses.replace(p, file=None, line=None) for p in exc.problems
            ) from None
    return parsed


def _fx_on(session: Session, day: dt.date) -> FxTable:
    """Trade-date FX: the latest imported rate of every pair on or before `day`."""
    latest: dict[tuple[str, str], FxRate] = {}
    for rate in repos.fx_rates_until(session, day):
        held = latest.get((rate.base, rate.quote))
        if held is None or held.rate_date <= rate.rate_date:
            latest[(rate.base, rate.quote)] = rate
    return FxTable(latest.values())


def _checked(
    session: Session, row: PortfolioRow, parsed: csv_files.ParsedTransaction
) -> tuple[Transaction, list[Security]]:
    """The transaction with its trade-date FX rate filled in, and the securities it needs
    created; every problem at once, as the importer reports them."""
    tx = parsed.transaction
    problems = widths.too_wide(
        {"symbol": tx.symbol, "external_id": tx.external_id, "account": tx.account},
        widths.TRANSACTION,
    )
    new: list[Security] = []
    if tx.symbol is not None:
        known = repos.securities_by_symbol(session, [tx.symbol]).get(tx.symbol)
        if known is None:
            new.append(Security(tx.symbol, tx.currency, tx.symbol, SecurityType.EQUITY))
        elif known.currency != tx.currency and tx.type not in CASH_TYPES:
            problems.append(
                InputProblem(
                    f"{tx.symbol} trades in {known.currency}",
                    field="currency",
                    value=tx.currency,
                    expected=known.currency,
                )
            )
    base = row.base_currency
    if parsed.fx_given and tx.currency == base and tx.fx_rate != 1:
        problems.append(
            InputProblem(
                f"must be 1 for a transaction in the base currency {base}",
                field="fx_rate",
                value=str(tx.fx_rate),
                expected="1, or no fx_rate",
            )
        )
    elif not parsed.fx_given and tx.currency != base:
        try:
            tx = dataclasses.replace(
                tx, fx_rate=_fx_on(session, tx.trade_date).rate(tx.currency, base)
            )
        except FxRateMissingError:
            problems.append(
                InputProblem(
                    f"no {tx.currency}/{base} FX rate on or before {tx.trade_date} to fix the "
                    "base-currency cost",
                    field="fx_rate",
                    expected="an fx_rate, or FX rates imported first",
                )
            )
    if problems:
        raise InputError(problems)
    return tx, new


def _replayed(
    row: PortfolioRow, transactions: Sequence[Transaction], edited: str, conflict: bool
) -> LedgerState:
    """Replay the edited ledger; what it refuses is reported: on the edited transaction's
    field, or naming the later transaction the edit breaks."""
    refused: list[LedgerError] = []
    state = ledger.replay(list(transactions), BookingMethod(row.booking_method), errors=refused)
    if refused:
        problems = [
            InputProblem(
                str(exc.problems[0].message),
                field=exc.field if exc.tx_id == edited else "tx_id",
                value=None if exc.tx_id == edited else exc.tx_id,
            )
            for exc in refused
        ]
        if conflict:
            raise ConflictError(
                "the ledger without this transaction cannot be replayed: "
                + "; ".join(f"{p.value}: {p.message}" for p in problems)
            )
        raise InputError(problems)
    return state


def _columns(tx: Transaction) -> dict[str, Any]:
    return {
        "external_id": tx.external_id,
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
    }


def _store(
    session: Session,
    row: PortfolioRow,
    state: LedgerState,
    since: dt.date,
    account: str | None,
) -> None:
    """What every ledger edit writes after the transaction itself."""
    repos.ensure_accounts(session, row.id, [account])
    repos.replace_derived(session, row.id, state)
    repos.invalidate_history(session, row.id, since)
    session.execute(
        update(PortfolioRow)
        .where(PortfolioRow.id == row.id)
        .values(ledger_version=PortfolioRow.ledger_version + 1)
    )


def add_transaction(
    engine: Engine, portfolio_id: int, fields: Mapping[str, str | None]
) -> tuple[Transaction, bool]:
    """Add one transaction given as the cells of its CSV row. Idempotent like an import: the
    same row again adds nothing (returns it with False); a known external_id with other
    content is a conflict (amend it instead)."""
    parsed = _parse_one(fields)
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = _portfolio_row(session, portfolio_id)
        repos.lock_portfolio(session, row.id)
        tx_id = parsed.transaction.tx_id
        known = repos.transaction_hashes(session, row.id).get(tx_id)
        if known == parsed.content_hash:
            return repos.transaction_from_row(_tx_row(session, row.id, tx_id)), False
        if known is not None:
            raise ConflictError(
                f"transaction {tx_id!r} exists with other content: amend it (PATCH) instead"
            )
        tx, securities = _checked(session, row, parsed)
        history = repos.list_transactions(session, row.id)
        state = _replayed(row, [*history, tx], tx.tx_id, conflict=False)
        repos.add_securities(session, securities)
        repos.add_transactions(session, row.id, [(tx, parsed.content_hash)])
        _store(session, row, state, tx.trade_date, tx.account)
        repos.audit(
            session,
            "create_transaction",
            PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            after=_plain(tx),
        )
        uow.commit()
    return tx, True


def amend_transaction(
    engine: Engine, portfolio_id: int, tx_id: str, changes: Mapping[str, str | None]
) -> Transaction:
    """Change fields of a transaction (None clears one); it keeps its tx_id. Without a new
    fx_rate, a changed currency or trade date looks the trade-date rate up again."""
    if "external_id" in changes:
        raise InputError(
            InputProblem(
                "cannot be amended",
                field="external_id",
                value=changes["external_id"],
                expected="reverse the transaction and add it under the new id",
            )
        )
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = _portfolio_row(session, portfolio_id)
        repos.lock_portfolio(session, row.id)
        old = repos.transaction_from_row(_tx_row(session, row.id, tx_id))
        fields = transaction_fields(old) | dict(changes)
        moved = any(k in changes for k in ("currency", "trade_date"))
        if "fx_rate" not in changes and (moved or old.currency == row.base_currency):
            fields["fx_rate"] = None  # looked up again (or 1 in the base currency)
        parsed = _parse_one(fields)
        parsed = dataclasses.replace(
            parsed, transaction=dataclasses.replace(parsed.transaction, tx_id=old.tx_id)
        )
        tx, securities = _checked(session, row, parsed)
        history = [
            tx if t.tx_id == old.tx_id else t for t in repos.list_transactions(session, row.id)
        ]
        state = _replayed(row, history, tx.tx_id, conflict=False)
        repos.add_securities(session, securities)
        session.execute(
            update(TransactionRow)
            .where(TransactionRow.portfolio_id == row.id, TransactionRow.tx_id == old.tx_id)
            .values(**_columns(tx), content_hash=parsed.content_hash)
        )
        since = min(old.trade_date, tx.trade_date)
        _store(session, row, state, since, tx.account)
        repos.audit(
            session,
            "amend_transaction",
            PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            before=_plain(old),
            after=_plain(tx),
        )
        uow.commit()
    return tx


def reverse_transaction(engine: Engine, portfolio_id: int, tx_id: str) -> Transaction:
    """Take a transaction out of the ledger (refused while a later transaction depends on
    it); the audit entry keeps it. Returns what was reversed."""
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = _portfolio_row(session, portfolio_id)
        repos.lock_portfolio(session, row.id)
        old = repos.transaction_from_row(_tx_row(session, row.id, tx_id))
        history = [t for t in repos.list_transactions(session, row.id) if t.tx_id != old.tx_id]
        state = _replayed(row, history, old.tx_id, conflict=True)
        session.execute(
            delete(TransactionRow).where(
                TransactionRow.portfolio_id == row.id, TransactionRow.tx_id == old.tx_id
            )
        )
        _store(session, row, state, old.trade_date, None)
        repos.audit(
            session,
            "reverse_transaction",
            PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            before=_plain(old),
        )
        uow.commit()
    return old


# --- the audit trail --------------------------------------------------------------------------
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
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(
            InputProblem("is out of range", field="limit", value=str(limit), expected="1 to 1000")
        )
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
