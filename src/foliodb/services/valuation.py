"""Valuation of a portfolio at a sealed pricing pack.

A valuation is a pure function of the portfolio's ledger (its `ledger_version` changes with
every edit) and of a sealed pack (immutable: a restatement is a new pack id), so each process
keeps the most recent ones per engine and answers a repeated request from memory. The
portfolio row is read every time, so an edit made by another process is seen at once.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections import OrderedDict

from sqlalchemy import Engine

from foliodb.domain import ledger, valuation
from foliodb.domain.types import BookingMethod, PackStatus
from foliodb.errors import NotFoundError
from foliodb.services.results import ValuationResult
from foliodb.store import repos
from foliodb.store.uow import UnitOfWork

#: Valuations kept per engine unless configured (Settings.valuation_cache), least recently
#: used dropped first.
CACHE_SIZE = 256

#: (portfolio id, owner id, created at, name, base currency, booking method, ledger version,
#: pack id): a portfolio made later under a reused id (SQLite reuses the highest) differs.
_Key = tuple[int, int, dt.datetime, str, str, str, int, str]
_cache: weakref.WeakKeyDictionary[Engine, OrderedDict[_Key, ValuationResult]] = (
    weakref.WeakKeyDictionary()
)
_sizes: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def configure_cache(engine: Engine, size: int) -> None:
    """Keep at most `size` valuations for `engine` (0: none)."""
    with _lock:
        _sizes[engine] = size
        _trim(engine)


def _trim(engine: Engine) -> None:
    kept = _cache.get(engine)
    size = _sizes.get(engine, CACHE_SIZE)
    while kept and len(kept) > size:
        kept.popitem(last=False)


def _cached(engine: Engine, key: _Key) -> ValuationResult | None:
    with _lock:
        kept = _cache.get(engine)
        if kept is None or key not in kept:
            return None
        kept.move_to_end(key)
        return kept[key]


def _keep(engine: Engine, key: _Key, result: ValuationResult) -> None:
    with _lock:
        if _sizes.get(engine, CACHE_SIZE) > 0:
            _cache.setdefault(engine, OrderedDict())[key] = result
            _trim(engine)


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
        key = (
            row.id,
            row.owner_id,
            row.created_at,
            row.name,
            row.base_currency,
            row.booking_method,
            row.ledger_version,
            pack_id,
        )
        # Only sealed packs are kept, and a sealed pack never changes.
        hit = _cached(engine, key)
        if hit is not None:
            return hit
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
        # Outside one snapshot (PostgreSQL reads committed rows) an edit committed between the
        # reads above may show in the transactions: kept only when the version still holds.
        unchanged = repos.ledger_version(session, row.id) == version
    state = ledger.replay(transactions, method)
    result = ValuationResult(valuation.value(name, base, state, pack), version, later)
    if unchanged:
        _keep(engine, key, result)
    return result
