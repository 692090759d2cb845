"""services.ledger_edits: one transaction at a time (add, amend, reverse), by portfolio id,
atomic, and giving exactly the state an import of the corrected file gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import foliodb
from foliodb.errors import ConflictError, InputError, NotFoundError
from foliodb.services import ledger_edits
from tests.builders import CsvFiles

DEPOSIT = {
    "external_id": "d1",
    "trade_date": "2024-01-02",
    "type": "DEPOSIT",
    "amount": "10000",
    "currency": "USD",
}
BUY = {
    "external_id": "b1",
    "trade_date": "2024-01-03",
    "type": "BUY",
    "symbol": "AAPL",
    "quantity": "10",
    "price": "100",
    "fee": "5",
    "currency": "USD",
}
SELL = {
    "external_id": "s1",
    "trade_date": "2024-02-01",
    "type": "SELL",
    "symbol": "AAPL",
    "quantity": "4",
    "price": "120",
    "currency": "USD",
}


def _portfolio(db: foliodb.Database, name: str = "Main", base: str = "USD") -> int:
    db.create_portfolio(name, base, owner="alice@example.com")
    return ledger_edits.find_portfolio(db.engine, "alice@example.com", name).id


def _state(db: foliodb.Database, name: str) -> tuple[object, ...]:
    lots = db.lots(name, "alice@example.com").lots
    gains = db.realized_gains(name, owner="alice@example.com").gains
    return (
        [(lot.symbol, lot.open_quantity, lot.cost_basis) for lot in lots],
        [(g.quantity, g.proceeds, g.cost_basis, g.gain) for g in gains],
    )


def test_adding_transactions_gives_what_importing_them_gives(
    db: foliodb.Database, files: CsvFiles
) -> None:
    pid = _portfolio(db)
    for row in (DEPOSIT, BUY, SELL):
        _, created = ledger_edits.add_transaction(db.engine, pid, row)
        assert created
    _portfolio(db, "Imported")
    db.import_transactions(
        "Imported", files.transactions([DEPOSIT, BUY, SELL]), owner="alice@example.com"
    )
    assert _state(db, "Main") == _state(db, "Imported")
    # by hand: 10 bought for 1,005 (fee included), 4 sold for 480: cost 402, gain 78
    assert _state(db, "Main")[1] == [(Decimal(4), Decimal(480), Decimal(402), Decimal(78))]


def test_adding_the_same_transaction_again_adds_nothing(db: foliodb.Database) -> None:
    pid = _portfolio(db)
    ledger_edits.add_transaction(db.engine, pid, DEPOSIT)
    same, created = ledger_edits.add_transaction(db.engine, pid, DEPOSIT)
    assert not created and same.tx_id == "d1"
    with pytest.raises(ConflictError, match="amend it"):
        ledger_edits.add_transaction(db.engine, pid, DEPOSIT | {"amount": "5"})
    assert ledger_edits.transactions_page(db.engine, pid).count == 1


def test_a_bad_transaction_is_refused_naming_its_fields_and_nothing_is_written(
    db: foliodb.Database,
) -> None:
    pid = _portfolio(db)
    with pytest.raises(InputError) as refused:
        ledger_edits.add_transaction(
            db.engine, pid, BUY | {"quantity": "-1", "currency": "XYZ", "price": None}
        )
    problems = {(p.field, p.file, p.line) for p in refused.value.problems}
    assert problems == {("quantity", None, None), ("currency", None, None), ("price", None, None)}
    with pytest.raises(InputError, match="only 0 held"):
        ledger_edits.add_transaction(db.engine, pid, SELL)
    assert ledger_edits.transactions_page(db.engine, pid).count == 0
    assert ledger_edits.get_portfolio(db.engine, pid).ledger_version == 0


def test_a_foreign_trade_takes_the_trade_date_fx_rate(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.import_fx(files.fx([{"date": "2024-01-02", "base": "EUR", "quote": "USD", "rate": "1.1"}]))
    pid = _portfolio(db)
    euro = BUY | {"symbol": "SAP.DE", "currency": "EUR", "fee": "0"}
    tx, _ = ledger_edits.add_transaction(db.engine, pid, euro)
    assert tx.fx_rate == Decimal("1.1")
    (lot,) = db.lots("Main", "alice@example.com").lots
    assert lot.cost_basis_base == Decimal("1100.0")
    with pytest.raises(InputError, match="no JPY/USD FX rate"):
        ledger_edits.add_transaction(
            db.engine, pid, euro | {"external_id": "j", "currency": "JPY", "symbol": "7203.T"}
        )


def test_amending_keeps_the_id_and_gives_what_importing_the_corrected_file_gives(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.import_prices(
        files.prices(
            [
                {"symbol": "AAPL", "date": day, "price": "110", "currency": "USD"}
                for day in ("2024-01-03", "2024-02-01")
            ]
        )
    )
    for day in ("2024-01-03", "2024-02-01"):
        db.create_pack(day)
    pid = _portfolio(db)
    for row in (DEPOSIT, BUY, SELL):
        ledger_edits.add_transaction(db.engine, pid, row)
    stale = db.daily_values("Main", "alice@example.com").days  # stored now
    version = ledger_edits.get_portfolio(db.engine, pid).ledger_version
    amended = ledger_edits.amend_transaction(db.engine, pid, "b1", {"price": "90", "fee": None})
    assert (amended.tx_id, amended.price, amended.fee) == ("b1", Decimal(90), Decimal(0))
    assert ledger_edits.get_portfolio(db.engine, pid).ledger_version == version + 1
    _portfolio(db, "Corrected")
    corrected = [DEPOSIT, BUY | {"price": "90", "fee": "0"}, SELL]
    db.import_transactions("Corrected", files.transactions(corrected), owner="alice@example.com")
    assert _state(db, "Main") == _state(db, "Corrected")
    fresh = db.daily_values("Main", "alice@example.com").days
    assert [d.nav for d in fresh] == [
        d.nav for d in db.daily_values("Corrected", "alice@example.com").days
    ]
    # by hand, 2024-01-03: 10,000 - 900 paid + 10 x 110 held = 10,200 (it was 10,095)
    assert (stale[0].nav, fresh[0].nav) == (Decimal(10095), Decimal(10200))


def test_an_amendment_that_breaks_a_later_transaction_is_refused_whole(
    db: foliodb.Database,
) -> None:
    pid = _portfolio(db)
    for row in (DEPOSIT, BUY, SELL):
        ledger_edits.add_transaction(db.engine, pid, row)
    before = _state(db, "Main")
    with pytest.raises(InputError) as refused:
        ledger_edits.amend_transaction(db.engine, pid, "b1", {"quantity": "3"})
    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("tx_id", "s1")  # the sale it breaks
    assert _state(db, "Main") == before
    assert ledger_edits.get_transaction(db.engine, pid, "b1").quantity == Decimal(10)
    with pytest.raises(InputError, match="cannot be amended"):
        ledger_edits.amend_transaction(db.engine, pid, "b1", {"external_id": "b2"})
    with pytest.raises(NotFoundError):
        ledger_edits.amend_transaction(db.engine, pid, "nope", {"quantity": "1"})


def test_reversing_removes_a_transaction_unless_a_later_one_depends_on_it(
    db: foliodb.Database, files: CsvFiles
) -> None:
    pid = _portfolio(db)
    for row in (DEPOSIT, BUY, SELL):
        ledger_edits.add_transaction(db.engine, pid, row)
    with pytest.raises(ConflictError, match="s1"):
        ledger_edits.reverse_transaction(db.engine, pid, "b1")  # the sale needs the lot
    reversed_ = ledger_edits.reverse_transaction(db.engine, pid, "s1")
    assert reversed_.tx_id == "s1"
    _portfolio(db, "Without")
    db.import_transactions("Without", files.transactions([DEPOSIT, BUY]), owner="alice@example.com")
    assert _state(db, "Main") == _state(db, "Without")
    entries, _ = ledger_edits.list_audit(db.engine, entity_id=str(pid), limit=1)
    assert entries[0].action == "reverse_transaction"
    assert entries[0].before["quantity"] == "4" and entries[0].after is None


def test_pages_filter_and_a_cursor_survives_new_transactions(db: foliodb.Database) -> None:
    pid = _portfolio(db)
    for day in range(1, 8):
        ledger_edits.add_transaction(
            db.engine, pid, DEPOSIT | {"external_id": f"d{day}", "trade_date": f"2024-01-0{day}"}
        )
    first = ledger_edits.transactions_page(db.engine, pid, limit=3)
    assert [t.tx_id for t in first.transactions] == ["d1", "d2", "d3"]
    assert first.count == 7 and first.next_cursor is not None
    # a transaction dated before the page's end arrives: the cursor still goes on from d3
    ledger_edits.add_transaction(
        db.engine, pid, DEPOSIT | {"external_id": "d0", "trade_date": "2024-01-01"}
    )
    second = ledger_edits.transactions_page(db.engine, pid, limit=3, cursor=first.next_cursor)
    assert [t.tx_id for t in second.transactions] == ["d4", "d5", "d6"]
    by_offset = ledger_edits.transactions_page(db.engine, pid, limit=3, offset=3)
    assert [t.tx_id for t in by_offset.transactions] == ["d3", "d4", "d5"]
    window = ledger_edits.transactions_page(
        db.engine, pid, start=dt.date(2024, 1, 3), end=dt.date(2024, 1, 4)
    )
    assert [t.tx_id for t in window.transactions] == ["d3", "d4"]
    with pytest.raises(InputError, match="cursor"):
        ledger_edits.transactions_page(db.engine, pid, cursor="not-a-cursor")
