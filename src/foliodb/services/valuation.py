"""Valuation of a portfolio at a sealed pricing pack."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from foliodb.domain import ledger, valuation
from foliodb.domain.types import BookingMethod, PackStatus
from foliodb.errors import NotFoundError
from foliodb.services.results import ValuationResult
from foliodb.store import repos
from foliodb.store.uow import UnitOfWork


def value_portfolio(
    engine: Engine,
    portfolio: str,
    pack_id: str | None = None,
    date: dt.date | None = None,
    owner: str | None = None,
) -> ValuationResult:
    """Value `portfolio` at `pack_id`, or at the newest sealed pack dated on or before `date`
    (default: the newest sealed pack). The ledger is replayed up to the pack's date, so a
    valuation at an old pack shows the holdings of that day."""
    with UnitOfWork(engine) as uow:
        session = uow.session
        row = repos.load_portfolio(session, portfolio, owner)
        if pack_id is None:
            pack_id = repos.latest_complete_pack_id(session, date)
            if pack_id is None:
                when = f" dated on or before {date}" if date else ""
                raise NotFoundError(f"no sealed pricing pack{when}; run `foliodb pack create`")
        pack = repos.load_pack(session, pack_id)
        if pack.status is not PackStatus.COMPLETE:
            raise NotFoundError(
                f"pricing pack {pack_id} is {pack.status.value}, not sealed"
                + (f": {pack.reason}" if pack.reason else "")
            )
        transactions = repos.list_transactions(session, row.id, until=pack.date)
        later = repos.count_transactions_after(session, row.id, pack.date)
        name, base, method = row.name, row.base_currency, BookingMethod(row.booking_method)
        version = row.ledger_version
    state = ledger.replay(transactions, method)
    return ValuationResult(valuation.value(name, base, state, pack), version, later)
