"""A portfolio's transactions: pages with filters, one by id, add one, import a CSV file,
amend one, reverse one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile, status

from foliodb.domain.types import TxType
from foliodb.errors import InputError, InputProblem
from foliodb.server.deps import ReadablePortfolio, State, WritablePortfolio
from foliodb.server.schemas.common import NAME_PATTERN, Page, problems
from foliodb.server.schemas.ledger import (
    ImportResultPublic,
    TransactionCreate,
    TransactionCreated,
    TransactionPublic,
    TransactionUpdate,
)
from foliodb.services import audit, paging, transactions
from foliodb.services.transactions import EntryStatus

router = APIRouter(tags=["transactions"])
READ = problems(401, 404, 422)
WRITE = problems(401, 403, 404, 409, 413, 422)
#: A transaction's id; it may hold "/" (an external id from a broker's file can).
TxId = Annotated[str, Path(min_length=1, max_length=128, pattern=NAME_PATTERN)]


@router.get(
    "/portfolios/{portfolio_id}/transactions",
    response_model=Page[TransactionPublic],
    responses=READ,
)
def list_transactions(
    portfolio: ReadablePortfolio,
    state: State,
    type: Annotated[TxType | None, Query()] = None,
    symbol: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN)] = None,
    start: Annotated[dt.date | None, Query(description="First trade date, included")] = None,
    end: Annotated[dt.date | None, Query(description="Last trade date, included")] = None,
    standing: Annotated[
        EntryStatus | None,
        Query(alias="status", description="Only entries that stand so; every one when absent"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=paging.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    cursor: Annotated[str | None, Query(max_length=200, pattern=NAME_PATTERN)] = None,
) -> Page[TransactionPublic]:
    """Transactions by trade date; page with `limit` and `offset`, or follow `next_cursor`
    (stable while transactions are added)."""
    page = transactions.transactions_page(
        state.database.engine,
        portfolio.id,
        type=type,
        symbol=symbol,
        start=start,
        end=end,
        status=standing,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return Page[TransactionPublic](
        data=[TransactionPublic.of(e) for e in page.entries],
        count=page.count,
        next_cursor=page.next_cursor,
    )


@router.get(
    "/portfolios/{portfolio_id}/transactions/{tx_id:path}",
    response_model=TransactionPublic,
    responses=READ,
)
def get_transaction(tx_id: TxId, portfolio: ReadablePortfolio, state: State) -> TransactionPublic:
    return TransactionPublic.of(transactions.get_entry(state.database.engine, portfolio.id, tx_id))


@router.post(
    "/portfolios/{portfolio_id}/transactions",
    response_model=TransactionCreated,
    status_code=status.HTTP_201_CREATED,
    responses={**WRITE, 200: {"model": TransactionCreated, "description": "Already there"}},
)
def create_transaction(
    body: TransactionCreate, portfolio: WritablePortfolio, state: State, response: Response
) -> TransactionCreated:
    """Add one transaction, checked like a CSV row and replayed with the ledger first."""
    tx, created = transactions.add_transaction(state.database.engine, portfolio.id, body.cells())
    if not created:
        response.status_code = status.HTTP_200_OK
    return TransactionCreated(created=created, transaction=TransactionPublic.of(tx))


@router.post(
    "/portfolios/{portfolio_id}/transactions/import",
    response_model=ImportResultPublic,
    responses=WRITE,
)
def import_transactions(
    file: Annotated[UploadFile, File(description="A transactions CSV (docs/formats.md)")],
    portfolio: WritablePortfolio,
    state: State,
) -> ImportResultPublic:
    """Import a transactions CSV: every row or none; importing it again adds nothing."""
    name = _file_name(file.filename)
    with tempfile.TemporaryDirectory(prefix="foliodb-upload-") as folder:
        path = FilePath(folder) / name
        with path.open("wb") as out:  # the body limit (10 MiB) bounds it
            shutil.copyfileobj(file.file, out)
        try:
            result = state.database.import_transactions(
                portfolio.name, path, owner=portfolio.owner, source=name
            )
        except InputError as exc:
            # Name the uploaded file, not where the server kept it.
            raise InputError(
                InputProblem(
                    p.message,
                    name if p.file else None,
                    p.line,
                    p.field,
                    p.value,
                    p.expected,
                )
                for p in exc.problems
            ) from None
    if not result.added:  # the use case audits what it adds; a no-op is audited here
        audit.record(
            state.database.engine,
            "import_transactions",
            audit.PORTFOLIO,
            str(portfolio.id),
            after={"file": name, "added": 0},
        )
    return ImportResultPublic.model_validate(
        dataclasses.asdict(result) | {"file": name, "new_securities": list(result.new_securities)}
    )


def _file_name(given: str | None) -> str:
    """The upload's own name, reduced to characters safe in a path (errors name it)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", FilePath(given or "").name)[:100].lstrip(".")
    return name or "upload.csv"


@router.patch(
    "/portfolios/{portfolio_id}/transactions/{tx_id:path}",
    response_model=TransactionPublic,
    responses=WRITE,
)
def amend_transaction(
    tx_id: TxId, body: TransactionUpdate, portfolio: WritablePortfolio, state: State
) -> TransactionPublic:
    """Amend fields of a transaction (null clears one); refused if the ledger replayed with
    the change refuses anything. The audit entry keeps the transaction before and after."""
    return TransactionPublic.of(
        transactions.amend_transaction(
            state.database.engine, portfolio.id, tx_id, body.cells(only_set=True)
        )
    )


@router.delete(
    "/portfolios/{portfolio_id}/transactions/{tx_id:path}",
    response_model=TransactionPublic,
    responses=WRITE,
)
def reverse_transaction(
    tx_id: TxId,
    portfolio: WritablePortfolio,
    state: State,
    reason: Annotated[
        str | None,
        Query(max_length=2000, pattern=NAME_PATTERN, description="Kept as the reversal's note"),
    ] = None,
) -> TransactionPublic:
    """Reverse a transaction. Nothing is deleted: a reversal entry is appended and both leave
    the ledger's replay; the transaction stays listed with `status` `reversed`. Refused (409)
    while a later transaction depends on it, or when it is reversed already. Answers the
    reversal entry."""
    return TransactionPublic.of(
        transactions.reverse_transaction(state.database.engine, portfolio.id, tx_id, reason)
    )
