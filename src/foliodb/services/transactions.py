"""One transaction at a time, for the server: pages with filters, one by id, add, amend and
reverse.

Each edit is one unit of work and writes exactly one audit entry. It locks the portfolio,
replays the whole edited ledger before anything is written (an edit that breaks a later
transaction is refused, naming it), then stores the transaction, the replayed lots, gains and
cash, forgets the daily history from the first date the edit touches, and bumps the ledger
version, so every cached figure misses.

Amending keeps the transaction's `tx_id` (a later SPECIFIC sale may name it as a lot); the
audit entry keeps it before and after. Nothing is deleted: reversing a transaction appends a
reversal entry (`<tx_id>~reversal`, dated like the transaction, with the reason as its note)
and marks both inactive, so the ledger replays as if the transaction had never been booked
while the listing still shows what was booked and when it was reversed.
"""

from __future__ import annotations

import base64
import binascii
import csv
import dataclasses
import datetime as dt
import enum
import hashlib
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from foliodb.domain import ledger
from foliodb.domain.pricing import FxTable
from foliodb.domain.types import (
    CASH_TYPES,
    MAX_TX_ID,
    REVERSAL_SUFFIX,
    BookingMethod,
    FxRate,
    LedgerState,
    Security,
    SecurityType,
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
from foliodb.services import audit, paging, portfolios, widths
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.tables import PortfolioRow, TransactionRow
from foliodb.store.uow import UnitOfWork


def reversal_id(tx_id: str) -> str:
    """The tx_id of the entry reversing `tx_id`: `<tx_id>~reversal`, or, where that would not
    fit the column, a prefix of it and a hash of the whole id before the suffix."""
    whole = tx_id + REVERSAL_SUFFIX
    if len(whole) <= MAX_TX_ID:
        return whole
    digest = hashlib.sha256(tx_id.encode()).hexdigest()[:16]
    keep = MAX_TX_ID - len(REVERSAL_SUFFIX) - len(digest) - 1
    return f"{tx_id[:keep]}~{digest}{REVERSAL_SUFFIX}"


class EntryStatus(enum.StrEnum):
    """Where a ledger entry stands: replayed, reversed by a later entry, or a reversal."""

    ACTIVE = "active"
    REVERSED = "reversed"
    REVERSAL = "reversal"


@dataclasses.dataclass(frozen=True)
class LedgerEntry:
    """A stored transaction with its standing in the ledger. A reversal entry carries the
    reversed transaction's fields, its own tx_id, and `reverses`; the transaction it reverses
    carries `reversed_by`."""

    transaction: Transaction
    status: EntryStatus
    recorded_at: dt.datetime
    reverses: str | None = None
    reversed_by: str | None = None

    @property
    def tx_id(self) -> str:
        return self.transaction.tx_id


@dataclasses.dataclass(frozen=True)
class TransactionPage:
    """Ledger entries in (trade_date, insertion) order; `next_cursor` continues after the
    last."""

    entries: tuple[LedgerEntry, ...]
    count: int
    next_cursor: str | None

    @property
    def transactions(self) -> tuple[Transaction, ...]:
        return tuple(e.transaction for e in self.entries)


# --- reading --------------------------------------------------------------------------------
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


def _entries(session: Session, portfolio_id: int, rows: Sequence[Any]) -> list[LedgerEntry]:
    """Rows as ledger entries, each inactive one linked to its counterpart."""
    reversed_ids = [r.tx_id for r in rows if not r.active and r.reverses is None]
    table = TransactionRow.__table__
    reversed_by: dict[str, str] = {}
    if reversed_ids:
        reversed_by = dict(
            session.execute(
                select(table.c.reverses, table.c.tx_id).where(
                    table.c.portfolio_id == portfolio_id, table.c.reverses.in_(reversed_ids)
                )
            )
            .tuples()
            .all()
        )
    entries = []
    for row in rows:
        if row.reverses is not None:
            status = EntryStatus.REVERSAL
        elif row.active:
            status = EntryStatus.ACTIVE
        else:
            status = EntryStatus.REVERSED
        entries.append(
            LedgerEntry(
                repos.transaction_from_row(row),
                status,
                row.created_at,
                row.reverses,
                reversed_by.get(row.tx_id),
            )
        )
    return entries


def transactions_page(
    engine: Engine,
    portfolio_id: int,
    *,
    type: TxType | None = None,
    symbol: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    status: EntryStatus | None = None,
    limit: int = 100,
    offset: int = 0,
    cursor: str | None = None,
) -> TransactionPage:
    """A page of a portfolio's ledger entries, filtered by type, symbol, trade dates (both
    included) and status (every entry when None: reversed ones and reversals too). Page by
    `offset`, or by `cursor` (stable while transactions are added)."""
    paging.check_limit(limit)
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
    if status is EntryStatus.ACTIVE:
        conditions.append(table.c.active)
    elif status is EntryStatus.REVERSED:
        conditions += [~table.c.active, table.c.reverses.is_(None)]
    elif status is EntryStatus.REVERSAL:
        conditions.append(table.c.reverses.is_not(None))
    after = _decode_cursor(cursor) if cursor else None
    with UnitOfWork(engine) as uow:
        session = uow.session
        portfolios.portfolio_row(session, portfolio_id)
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
        entries = _entries(session, portfolio_id, rows)
    following = _encode_cursor(rows[-1].trade_date, rows[-1].id) if more and rows else None
    return TransactionPage(tuple(entries), count, following)


def get_entry(engine: Engine, portfolio_id: int, tx_id: str) -> LedgerEntry:
    """One ledger entry by tx_id (a reversal's too)."""
    with UnitOfWork(engine) as uow:
        portfolios.portfolio_row(uow.session, portfolio_id)
        row = _tx_row(uow.session, portfolio_id, tx_id)
        return _entries(uow.session, portfolio_id, [row])[0]


def get_transaction(engine: Engine, portfolio_id: int, tx_id: str) -> Transaction:
    return get_entry(engine, portfolio_id, tx_id).transaction


def _tx_row(session: Session, portfolio_id: int, tx_id: str) -> Any:
    table = TransactionRow.__table__
    row = session.execute(
        select(table).where(table.c.portfolio_id == portfolio_id, table.c.tx_id == tx_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no transaction {tx_id!r} in portfolio {portfolio_id}")
    return row


def _active_row(session: Session, portfolio_id: int, tx_id: str, doing: str) -> Any:
    """The row of an active transaction; a reversed one or a reversal is a conflict."""
    row = _tx_row(session, portfolio_id, tx_id)
    if row.reverses is not None:
        raise ConflictError(
            f"{tx_id!r} is the reversal of {row.reverses!r} and cannot be {doing}: "
            "add the transaction again instead"
        )
    if not row.active:
        reversal = session.scalar(
            select(TransactionRow.tx_id).where(
                TransactionRow.portfolio_id == portfolio_id, TransactionRow.reverses == tx_id
            )
        )
        raise ConflictError(f"transaction {tx_id!r} was reversed by {reversal!r} already")
    return row


def entry_fields(entry: LedgerEntry) -> dict[str, Any]:
    """An entry as a flat row: the transaction's CSV cells, then where it stands."""
    return (
        {"tx_id": entry.tx_id}
        | transaction_fields(entry.transaction)
        | {
            "status": entry.status.value,
            "reverses": entry.reverses,
            "reversed_by": entry.reversed_by,
            "recorded_at": entry.recorded_at,
        }
    )


# --- writing --------------------------------------------------------------------------------
def transaction_fields(tx: Transaction) -> dict[str, str | None]:
    """A transaction as the cells of its CSV row (docs/formats.md)."""
    return {
        "external_id": tx.external_id,
        "trade_date": audit.text(tx.trade_date),
        "type": tx.type.value,
        "symbol": tx.symbol,
        "quantity": audit.text(tx.quantity),
        "price": audit.text(tx.price),
        "amount": audit.text(tx.amount),
        "currency": tx.currency,
        "fee": audit.text(tx.fee),
        "fx_rate": audit.text(tx.fx_rate),
        "counter_currency": tx.counter_currency,
        "counter_amount": audit.text(tx.counter_amount),
        "ratio": audit.text(tx.ratio),
        "lot_ids": audit.text(tx.lot_ids),
        "method": tx.method.value if tx.method else None,
        "acquired_date": audit.text(tx.acquired_date),
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
) -> tuple[LedgerEntry, bool]:
    """Add one transaction given as the cells of its CSV row. Idempotent like an import: the
    same row again adds nothing (returns it with False); a known external_id with other
    content is a conflict (amend it instead), and so is a reversed one (book it again under a
    new external_id)."""
    parsed = _parse_one(fields)
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = portfolios.portfolio_row(session, portfolio_id)
        repos.lock_portfolio(session, row.id)
        tx_id = parsed.transaction.tx_id
        known = repos.transaction_hashes(session, row.id).get(tx_id)
        if known is not None:
            # Adding a reversed transaction again is a new booking: it needs a new id.
            _active_row(session, row.id, tx_id, "added again under its id")
        if known == parsed.content_hash:
            return _entries(session, row.id, [_tx_row(session, row.id, tx_id)])[0], False
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
            audit.PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            after=audit.plain(tx),
        )
        entry = _entries(session, row.id, [_tx_row(session, row.id, tx.tx_id)])[0]
        uow.commit()
    return entry, True


def amend_transaction(
    engine: Engine, portfolio_id: int, tx_id: str, changes: Mapping[str, str | None]
) -> LedgerEntry:
    """Change fields of a transaction (None clears one); it keeps its tx_id. Without a new
    fx_rate, a changed currency or trade date looks the trade-date rate up again. A reversed
    transaction, or a reversal, cannot be amended."""
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
        row = portfolios.portfolio_row(session, portfolio_id)
        repos.lock_portfolio(session, row.id)
        old = repos.transaction_from_row(_active_row(session, row.id, tx_id, "amended"))
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
            .values(**repos.transaction_columns(tx), content_hash=parsed.content_hash)
        )
        since = min(old.trade_date, tx.trade_date)
        _store(session, row, state, since, tx.account)
        repos.audit(
            session,
            "amend_transaction",
            audit.PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            before=audit.plain(old),
            after=audit.plain(tx),
        )
        entry = _entries(session, row.id, [_tx_row(session, row.id, tx.tx_id)])[0]
        uow.commit()
    return entry


def reverse_transaction(
    engine: Engine, portfolio_id: int, tx_id: str, reason: str | None = None
) -> LedgerEntry:
    """Reverse a transaction: append its reversal entry (with `reason` as its note) and take
    both out of the ledger's replay. Refused while a later transaction depends on it, and for
    a transaction reversed already or a reversal. Returns the reversal entry."""
    reason = (reason or "").strip() or None
    problems = widths.too_wide({"reason": reason}, {"reason": 2000})
    if problems:
        raise InputError(problems)
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = portfolios.portfolio_row(session, portfolio_id)
        repos.lock_portfolio(session, row.id)
        original = _active_row(session, row.id, tx_id, "reversed")
        old = repos.transaction_from_row(original)
        history = [t for t in repos.list_transactions(session, row.id) if t.tx_id != old.tx_id]
        state = _replayed(row, history, old.tx_id, conflict=True)
        new_id = reversal_id(old.tx_id)
        if repos.transaction_hashes(session, row.id).get(new_id) is not None:
            raise ConflictError(f"the reversal's id {new_id!r} is taken by another transaction")
        reversal = dataclasses.replace(old, tx_id=new_id, external_id=None, note=reason)
        digest = hashlib.sha256(f"reversal\x1f{old.tx_id}\x1f{original.content_hash}".encode())
        session.execute(
            insert(TransactionRow).values(
                portfolio_id=row.id,
                content_hash=digest.hexdigest(),
                created_at=utcnow(),
                reverses=old.tx_id,
                active=False,
                **repos.transaction_columns(reversal),
            )
        )
        session.execute(
            update(TransactionRow)
            .where(TransactionRow.portfolio_id == row.id, TransactionRow.tx_id == old.tx_id)
            .values(active=False)
        )
        _store(session, row, state, old.trade_date, None)
        repos.audit(
            session,
            "reverse_transaction",
            audit.PORTFOLIO,
            str(row.id),
            user_id=row.owner_id,
            before=audit.plain(old),
            after={"reversal": new_id, "reverses": old.tx_id, "reason": reason},
        )
        entry = _entries(session, row.id, [_tx_row(session, row.id, new_id)])[0]
        uow.commit()
    return entry
