"""The ledger use cases: import transactions, rebuild derived state, lots, realized gains."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine, update

from foliodb.domain import ledger
from foliodb.domain.pricing import FxTable
from foliodb.domain.types import (
    CASH_TYPES,
    BookingMethod,
    FxRate,
    Security,
    SecurityType,
    Transaction,
)
from foliodb.errors import FxRateMissingError, InputError, InputProblem, LedgerError
from foliodb.ingest import csv_files
from foliodb.services import widths
from foliodb.services.results import GainsResult, ImportResult, LotsResult, RebuildResult
from foliodb.store import repos
from foliodb.store.tables import PortfolioRow
from foliodb.store.uow import UnitOfWork

log = logging.getLogger(__name__)

#: progress(stage, done, total): stage is "reading", "checking" or "writing".
Progress = Callable[[str, int, int], None]


def _count_rows(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return max(sum(1 for _ in handle) - 1, 0)
    except OSError:
        return 0  # the parser reports the unreadable file


class _FxHistory:
    """Trade-date FX: for any date, the latest imported rate of every pair on or before it."""

    def __init__(self, rates: list[FxRate]) -> None:
        self._by_pair: dict[tuple[str, str], tuple[list[dt.date], list[FxRate]]] = {}
        grouped: dict[tuple[str, str], list[FxRate]] = defaultdict(list)
        for rate in rates:
            grouped[(rate.base, rate.quote)].append(rate)
        for pair, items in grouped.items():
            items.sort(key=lambda r: r.rate_date)
            self._by_pair[pair] = ([r.rate_date for r in items], items)
        self._tables: dict[dt.date, FxTable] = {}

    def table(self, on: dt.date) -> FxTable:
        if on not in self._tables:
            latest = []
            for dates, items in self._by_pair.values():
                i = bisect.bisect_right(dates, on)
                if i:
                    latest.append(items[i - 1])
            self._tables[on] = FxTable(latest, pack_id=None)
        return self._tables[on]


def _check_securities(
    session_securities: dict[str, Security], parsed: list[csv_files.ParsedTransaction], file: str
) -> tuple[list[Security], list[InputProblem]]:
    """New securities to create (from the rows' currencies) and currency mismatches.

    Income and charges naming a symbol (a USD dividend of a CAD-listed stock and its
    withholding tax) may be in another currency than the security; a new security takes its
    currency from a trade, split or transfer row when the file has one.
    """
    new: dict[str, Security] = {}
    problems: list[InputProblem] = []
    for item in sorted(parsed, key=lambda p: p.transaction.type in CASH_TYPES):
        tx = item.transaction
        if tx.symbol is None:
            continue
        known = session_securities.get(tx.symbol) or new.get(tx.symbol)
        if known is None:
            new[tx.symbol] = Security(tx.symbol, tx.currency, tx.symbol, SecurityType.EQUITY)
        elif known.currency != tx.currency and tx.type not in CASH_TYPES:
            problems.append(
                InputProblem(
                    f"{tx.symbol} trades in {known.currency}",
                    file,
                    item.line,
                    "currency",
                    tx.currency,
                    known.currency,
                )
            )
    problems.sort(key=lambda p: p.line or 0)  # rows were visited trades first
    return list(new.values()), problems


def import_transactions(
    engine: Engine,
    portfolio: str,
    path: Path,
    progress: Progress | None = None,
    owner: str | None = None,
    source: str | None = None,
) -> ImportResult:
    """Import a transactions CSV into `portfolio`: all rows or none, and re-importing the same
    file adds nothing. Every problem of the rows themselves is reported at once; once they are
    valid the ledger is replayed before anything is written, and every transaction it cannot
    apply (an oversell, say) is reported, naming its line. `source` names the file in the
    audit entry and the result when `path` is only where it was kept (an upload)."""
    started = time.perf_counter()
    file = str(path) if source is None else source
    new_securities: list[Security] = []
    report = progress or (lambda _stage, _done, _total: None)
    lines = _count_rows(path)
    report("reading", 0, lines)
    problems: list[InputProblem] = []  # every problem of every row, reported together
    try:
        parsed = csv_files.parse_transactions(
            path, on_row=lambda line: report("reading", line - 1, lines), collect=problems
        )
    except InputError as exc:
        raise InputError(_named(p, path, file) for p in exc.problems) from None
    total = len(parsed)
    report("checking", 0, total)
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = repos.load_portfolio(session, portfolio, owner)
        repos.lock_portfolio(session, row.id)  # a concurrent import waits, then sees ours
        existing = repos.transaction_hashes(session, row.id)
        problems += [
            problem
            for item in parsed
            for problem in widths.too_wide(
                {
                    "symbol": item.transaction.symbol,
                    "external_id": item.transaction.external_id,
                    "account": item.transaction.account,
                },
                widths.TRANSACTION,
                file,
                item.line,
            )
        ]
        fresh: list[csv_files.ParsedTransaction] = []
        reversed_ids = repos.reversed_tx_ids(session, row.id)
        left_reversed = 0
        for item in parsed:
            tx = item.transaction
            known = existing.get(tx.tx_id)
            if known == item.content_hash and tx.tx_id in reversed_ids:
                left_reversed += 1  # imported before and reversed since: it stays reversed
            if known is None:
                fresh.append(item)
            elif known != item.content_hash:
                problems.append(
                    InputProblem(
                        "was already imported with different content; to correct it, amend "
                        "it (PATCH on the server), or reverse it (`foliodb ledger reverse`) and "
                        "import the corrected one under a new id",
                        file,
                        item.line,
                        "external_id",
                        tx.external_id,
                        "the same row as before, or a new external_id",
                    )
                )
        securities = repos.securities_by_symbol(session)
        new_securities, security_problems = _check_securities(securities, fresh, file)
        problems.extend(security_problems)
        fresh, fx_problems = _resolve_fx(session, fresh, row.base_currency, file)
        problems.extend(fx_problems)
        if problems:
            raise InputError(
                sorted((_named(p, path, file) for p in problems), key=lambda p: p.line or 0)
            )
        if fresh:
            history = repos.list_transactions(session, row.id)
            refused: list[LedgerError] = []
            state = ledger.replay(
                [*history, *(p.transaction for p in fresh)],
                BookingMethod(row.booking_method),
                errors=refused,
            )
            if refused:
                lines_of = {p.transaction.tx_id: p.line for p in fresh}
                raise InputError(
                    sorted(
                        (
                            InputProblem(
                                str(exc.problems[0].message),
                                file,
                                lines_of.get(exc.tx_id or ""),
                                exc.field if exc.tx_id in lines_of else None,
                            )
                            for exc in refused
                        ),
                        key=lambda p: p.line or 0,
                    )
                )
            report("writing", 0, len(fresh))
            repos.add_securities(session, new_securities)
            repos.ensure_accounts(session, row.id, {p.transaction.account for p in fresh})
            repos.add_transactions(
                session, row.id, [(p.transaction, p.content_hash) for p in fresh]
            )
            repos.replace_derived(session, row.id, state)
            # The daily history is recomputed from the first new trade date on, nothing earlier.
            repos.invalidate_history(session, row.id, min(p.transaction.trade_date for p in fresh))
            _bump_version(uow, row)
            repos.audit(
                session,
                "import_transactions",
                "portfolio",
                str(row.id),
                user_id=row.owner_id,
                after={"file": file, "added": len(fresh)},
            )
        uow.commit()
    report("writing", len(fresh), len(fresh))
    log.info(
        "imported %s into %r: %d rows, %d added, %d already present, %.2fs",
        file,
        portfolio,
        total,
        len(fresh),
        total - len(fresh),
        time.perf_counter() - started,
    )
    return ImportResult(
        file,
        "transactions",
        total,
        len(fresh),
        0,
        total - len(fresh),
        tuple(sorted(s.symbol for s in new_securities)),
        left_reversed,
    )


def _named(problem: InputProblem, path: Path, source: str) -> InputProblem:
    """The problem naming `source` where it names the file at `path`."""
    return replace(problem, file=source) if problem.file == str(path) else problem


def _resolve_fx(
    session: object, parsed: list[csv_files.ParsedTransaction], base: str, file: str
) -> tuple[list[csv_files.ParsedTransaction], list[InputProblem]]:
    """Fill each transaction's trade-date fx_rate (currency -> base) where the file gave none.
    A base-currency row's rate is 1: any other given rate would scale its base cost."""
    problems = [
        InputProblem(
            f"must be 1 for a transaction in the base currency {base}",
            file,
            p.line,
            "fx_rate",
            str(p.transaction.fx_rate),
            "1, or no fx_rate",
        )
        for p in parsed
        if p.fx_given and p.transaction.currency == base and p.transaction.fx_rate != 1
    ]
    needs = [p for p in parsed if not p.fx_given and p.transaction.currency != base]
    if not needs:
        return parsed, problems
    last = max(p.transaction.trade_date for p in needs)
    history = _FxHistory(repos.fx_rates_until(session, last))  # type: ignore[arg-type]
    out = []
    for item in parsed:
        tx = item.transaction
        if item.fx_given or tx.currency == base:
            out.append(item)
            continue
        try:
            rate = history.table(tx.trade_date).rate(tx.currency, base)
        except FxRateMissingError:
            problems.append(
                InputProblem(
                    f"no {tx.currency}/{base} FX rate on or before {tx.trade_date} to fix the "
                    f"base-currency cost",
                    file,
                    item.line,
                    "fx_rate",
                    None,
                    "an fx_rate column value, or FX rates imported first",
                )
            )
            out.append(item)  # checked further; nothing is written while problems exist
            continue
        out.append(replace(item, transaction=replace(tx, fx_rate=rate)))
    return out, problems


def _bump_version(uow: UnitOfWork, row: PortfolioRow) -> None:
    uow.session.execute(
        update(PortfolioRow)
        .where(PortfolioRow.id == row.id)
        .values(ledger_version=PortfolioRow.ledger_version + 1)
    )


def lots(engine: Engine, portfolio: str, owner: str | None = None) -> LotsResult:
    with UnitOfWork(engine) as uow:
        row = repos.load_portfolio(uow.session, portfolio, owner)
        return LotsResult(portfolio, tuple(repos.load_lots(uow.session, row.id)))


def realized_gains(
    engine: Engine, portfolio: str, year: int | None = None, owner: str | None = None
) -> GainsResult:
    with UnitOfWork(engine) as uow:
        row = repos.load_portfolio(uow.session, portfolio, owner)
        return GainsResult(
            portfolio, year, tuple(repos.load_realized_gains(uow.session, row.id, year))
        )


def _field_differences(label: str, stored: object, fresh: object) -> str:
    """`lot T1: cost_basis stored 7000, replayed 7426` — only the fields that differ."""
    if stored is None:
        return f"{label}: missing from the stored state"
    if fresh is None:
        return f"{label}: stored but not produced by the replay"
    names = [f.name for f in dataclasses.fields(stored)]  # type: ignore[arg-type]
    parts = [
        f"{name} stored {getattr(stored, name)}, replayed {getattr(fresh, name)}"
        for name in names
        if getattr(stored, name) != getattr(fresh, name)
    ]
    return f"{label}: " + "; ".join(parts)


def rebuild(
    engine: Engine, portfolio: str, owner: str | None = None, repair: bool = True
) -> RebuildResult:
    """Replay every transaction from scratch and compare with the stored lots, realized gains
    and cash. Identical results prove the derived state is reproducible; any difference is
    listed field by field and, with `repair`, the stored state is replaced by the replay."""
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = repos.load_portfolio(session, portfolio, owner)
        repos.lock_portfolio(session, row.id)
        transactions: list[Transaction] = repos.list_transactions(session, row.id)
        state = ledger.replay(transactions, BookingMethod(row.booking_method))
        differences: list[str] = []
        stored_lots = {lot.lot_id: lot for lot in repos.load_lots(session, row.id)}
        fresh_lots = {lot.lot_id: lot for lot in state.lots}
        for lot_id in sorted(stored_lots.keys() | fresh_lots.keys()):
            if stored_lots.get(lot_id) != fresh_lots.get(lot_id):
                differences.append(
                    _field_differences(
                        f"lot {lot_id}", stored_lots.get(lot_id), fresh_lots.get(lot_id)
                    )
                )
        stored_gains = Counter(repos.load_realized_gains(session, row.id))
        fresh_gains = Counter(state.realized_gains)
        for gain in sorted((stored_gains - fresh_gains).elements(), key=repr):
            differences.append(
                f"realized gain of lot {gain.lot_id} by {gain.tx_id}: stored, not replayed "
                f"(quantity {gain.quantity}, gain {gain.gain})"
            )
        for gain in sorted((fresh_gains - stored_gains).elements(), key=repr):
            differences.append(
                f"realized gain of lot {gain.lot_id} by {gain.tx_id}: replayed, not stored "
                f"(quantity {gain.quantity}, gain {gain.gain})"
            )
        stored_cash = {c.currency: c.balance for c in repos.load_cash(session, row.id)}
        fresh_cash = {c.currency: c.balance for c in state.cash}
        for currency in sorted(stored_cash.keys() | fresh_cash.keys()):
            if stored_cash.get(currency) != fresh_cash.get(currency):
                differences.append(
                    f"cash {currency}: stored {stored_cash.get(currency)}, "
                    f"replayed {fresh_cash.get(currency)}"
                )
        if differences and repair:
            repos.replace_derived(session, row.id, state)
            repos.audit(
                session,
                "rebuild",
                "portfolio",
                str(row.id),
                user_id=row.owner_id,
                after={"differences": differences},
            )
            uow.commit()
        return RebuildResult(
            portfolio,
            len(transactions),
            len(state.lots),
            len(state.realized_gains),
            tuple(differences),
            repaired=bool(differences) and repair,
        )
