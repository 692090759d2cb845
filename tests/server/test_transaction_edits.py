"""services.transactions: one transaction at a time (add, amend, reverse), by portfolio id,
atomic, and giving exactly the state an import of the corrected file gives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import foliodb
from foliodb.domain.types import PackStatus
from foliodb.errors import ConflictError, InputError, NotFoundError
from foliodb.services import audit, portfolios, transactions
from foliodb.services.transactions import EntryStatus
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
    return portfolios.find_record(db.engine, "alice@example.com", name).id


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
        _, created = transactions.add_transaction(db.engine, pid, row)
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
    transactions.add_transaction(db.engine, pid, DEPOSIT)
    same, created = transactions.add_transaction(db.engine, pid, DEPOSIT)
    assert not created and same.tx_id == "d1"
    with pytest.raises(ConflictError, match="amend it"):
        transactions.add_transaction(db.engine, pid, DEPOSIT | {"amount": "5"})
    assert transactions.transactions_page(db.engine, pid).count == 1


def test_a_bad_transaction_is_refused_naming_its_fields_and_nothing_is_written(
    db: foliodb.Database,
) -> None:
    pid = _portfolio(db)
    with pytest.raises(InputError) as refused:
        transactions.add_transaction(
            db.engine, pid, BUY | {"quantity": "-1", "currency": "XYZ", "price": None}
        )
    problems = {(p.field, p.file, p.line) for p in refused.value.problems}
    assert problems == {("quantity", None, None), ("currency", None, None), ("price", None, None)}
    with pytest.raises(InputError, match="only 0 held"):
        transactions.add_transaction(db.engine, pid, SELL)
    assert transactions.transactions_page(db.engine, pid).count == 0
    assert portfolios.get_record(db.engine, pid).ledger_version == 0


def test_a_foreign_trade_takes_the_trade_date_fx_rate(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.import_fx(files.fx([{"date": "2024-01-02", "base": "EUR", "quote": "USD", "rate": "1.1"}]))
    pid = _portfolio(db)
    euro = BUY | {"symbol": "SAP.DE", "currency": "EUR", "fee": "0"}
    tx, _ = transactions.add_transaction(db.engine, pid, euro)
    assert tx.transaction.fx_rate == Decimal("1.1")
    (lot,) = db.lots("Main", "alice@example.com").lots
    assert lot.cost_basis_base == Decimal("1100.0")
    with pytest.raises(InputError, match="no JPY/USD FX rate"):
        transactions.add_transaction(
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
        transactions.add_transaction(db.engine, pid, row)
    stale = db.daily_values("Main", "alice@example.com").days  # stored now
    version = portfolios.get_record(db.engine, pid).ledger_version
    amended = transactions.amend_transaction(db.engine, pid, "b1", {"price": "90", "fee": None})
    assert (amended.tx_id, amended.transaction.price, amended.transaction.fee) == (
        "b1",
        Decimal(90),
        Decimal(0),
    )
    assert portfolios.get_record(db.engine, pid).ledger_version == version + 1
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
        transactions.add_transaction(db.engine, pid, row)
    before = _state(db, "Main")
    with pytest.raises(InputError) as refused:
        transactions.amend_transaction(db.engine, pid, "b1", {"quantity": "3"})
    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("tx_id", "s1")  # the sale it breaks
    assert _state(db, "Main") == before
    assert transactions.get_transaction(db.engine, pid, "b1").quantity == Decimal(10)
    with pytest.raises(InputError, match="cannot be amended"):
        transactions.amend_transaction(db.engine, pid, "b1", {"external_id": "b2"})
    with pytest.raises(NotFoundError):
        transactions.amend_transaction(db.engine, pid, "nope", {"quantity": "1"})


def test_reversing_appends_a_reversal_unless_a_later_one_depends_on_it(
    db: foliodb.Database, files: CsvFiles
) -> None:
    pid = _portfolio(db)
    for row in (DEPOSIT, BUY, SELL):
        transactions.add_transaction(db.engine, pid, row)
    with pytest.raises(ConflictError, match="s1"):
        transactions.reverse_transaction(db.engine, pid, "b1")  # the sale needs the lot
    reversal = transactions.reverse_transaction(db.engine, pid, "s1", reason="booked twice")
    assert (reversal.transaction.tx_id, reversal.status, reversal.reverses) == (
        "s1~reversal",
        EntryStatus.REVERSAL,
        "s1",
    )
    assert reversal.transaction.note == "booked twice"
    assert reversal.transaction.quantity == Decimal(4)  # the reversed transaction's fields
    # the ledger replays as if the sale had never been booked
    _portfolio(db, "Without")
    db.import_transactions("Without", files.transactions([DEPOSIT, BUY]), owner="alice@example.com")
    assert _state(db, "Main") == _state(db, "Without")
    assert portfolios.get_record(db.engine, pid).transaction_count == 2
    # ... and yet nothing is gone: the listing shows what was booked and its reversal
    page = transactions.transactions_page(db.engine, pid)
    assert [(e.transaction.tx_id, e.status, e.reverses, e.reversed_by) for e in page.entries] == [
        ("d1", EntryStatus.ACTIVE, None, None),
        ("b1", EntryStatus.ACTIVE, None, None),
        ("s1", EntryStatus.REVERSED, None, "s1~reversal"),
        ("s1~reversal", EntryStatus.REVERSAL, "s1", None),
    ]
    for status, expected in (
        (EntryStatus.ACTIVE, ["d1", "b1"]),
        (EntryStatus.REVERSED, ["s1"]),
        (EntryStatus.REVERSAL, ["s1~reversal"]),
    ):
        only = transactions.transactions_page(db.engine, pid, status=status)
        assert [t.tx_id for t in only.transactions] == expected and only.count == len(expected)
    assert transactions.get_entry(db.engine, pid, "s1").reversed_by == "s1~reversal"
    entries, _ = audit.list_audit(db.engine, entity_id=str(pid), limit=1)
    assert entries[0].action == "reverse_transaction"
    assert entries[0].before["quantity"] == "4"
    assert entries[0].after == {
        "reversal": "s1~reversal",
        "reverses": "s1",
        "reason": "booked twice",
    }


def test_a_reversed_transaction_stays_reversed(db: foliodb.Database, files: CsvFiles) -> None:
    pid = _portfolio(db)
    for row in (DEPOSIT, BUY, SELL):
        transactions.add_transaction(db.engine, pid, row)
    transactions.reverse_transaction(db.engine, pid, "s1")
    version = portfolios.get_record(db.engine, pid).ledger_version
    with pytest.raises(ConflictError, match="reversed by 's1~reversal'"):
        transactions.reverse_transaction(db.engine, pid, "s1")
    with pytest.raises(ConflictError, match="is the reversal of 's1'"):
        transactions.reverse_transaction(db.engine, pid, "s1~reversal")
    with pytest.raises(ConflictError, match="reversed by"):
        transactions.amend_transaction(db.engine, pid, "s1", {"quantity": "2"})
    with pytest.raises(ConflictError, match="reversed by"):
        transactions.add_transaction(db.engine, pid, SELL)  # booking it again needs a new id
    # importing the file it came from again adds nothing and does not bring it back
    result = db.import_transactions(
        "Main", files.transactions([DEPOSIT, BUY, SELL]), owner="alice@example.com"
    )
    assert result.added == 0
    assert portfolios.get_record(db.engine, pid).ledger_version == version
    assert transactions.get_entry(db.engine, pid, "s1").status == EntryStatus.REVERSED
    again, created = transactions.add_transaction(db.engine, pid, SELL | {"external_id": "s2"})
    assert created and again.status == EntryStatus.ACTIVE
    assert [lot.open_quantity for lot in db.lots("Main", "alice@example.com").lots] == [6]


def test_a_reversed_purchase_needs_no_price_in_a_pack(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.import_prices(
        files.prices([{"symbol": "AAPL", "date": "2024-01-03", "price": "101", "currency": "USD"}])
    )
    pid = _portfolio(db)
    for row in (DEPOSIT, BUY, BUY | {"external_id": "m1", "symbol": "MSFT"}):
        transactions.add_transaction(db.engine, pid, row)
    failed = db.create_pack("2024-01-03").pack
    assert failed.status == PackStatus.FAILED and "MSFT" in (failed.reason or "")
    transactions.reverse_transaction(db.engine, pid, "m1")
    made = db.create_pack("2024-01-03")
    assert made.pack.status == PackStatus.COMPLETE
    value = db.valuation("Main", pack=made.pack_id, owner="alice@example.com")
    assert [p.symbol for p in value.valuation.positions] == ["AAPL"]


def test_an_external_id_may_not_end_like_a_reversal_entry(
    db: foliodb.Database, files: CsvFiles
) -> None:
    pid = _portfolio(db)
    with pytest.raises(InputError) as refused:
        transactions.add_transaction(db.engine, pid, DEPOSIT | {"external_id": "d1~Reversal"})
    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("external_id", "d1~Reversal")
    assert "names reversal entries" in problem.message
    with pytest.raises(InputError, match="reversal"):
        db.import_transactions(
            "Main",
            files.transactions([DEPOSIT | {"external_id": "x~reversal"}]),
            owner="alice@example.com",
        )


def test_a_transaction_with_the_longest_id_is_reversed_under_an_id_that_fits(
    db: foliodb.Database,
) -> None:
    pid = _portfolio(db)
    longest = "L" * 128
    transactions.add_transaction(db.engine, pid, DEPOSIT | {"external_id": longest})
    transactions.add_transaction(db.engine, pid, DEPOSIT | {"external_id": longest[:-1]})
    first = transactions.reverse_transaction(db.engine, pid, longest)
    second = transactions.reverse_transaction(db.engine, pid, longest[:-1])
    for entry in (first, second):
        assert len(entry.tx_id) <= 128 and entry.tx_id.endswith("~reversal")
    assert first.tx_id != second.tx_id  # the hash of the whole id tells them apart
    assert transactions.get_entry(db.engine, pid, longest).reversed_by == first.tx_id
    assert transactions.reversal_id("b1") == "b1~reversal"


def test_importing_a_reversed_transaction_again_says_it_stays_reversed(
    db: foliodb.Database, files: CsvFiles
) -> None:
    pid = _portfolio(db)
    db.import_transactions("Main", files.transactions([DEPOSIT, BUY]), owner="alice@example.com")
    transactions.reverse_transaction(db.engine, pid, "b1")
    again = db.import_transactions(
        "Main", files.transactions([DEPOSIT, BUY]), owner="alice@example.com"
    )
    assert (again.added, again.skipped, again.reversed) == (0, 2, 1)
    changed = files.transactions([BUY | {"quantity": "11"}])
    with pytest.raises(InputError, match="reverse it"):
        db.import_transactions("Main", changed, owner="alice@example.com")


def test_an_import_names_the_source_it_was_given_not_where_the_file_was_kept(
    db: foliodb.Database, files: CsvFiles
) -> None:
    _portfolio(db)
    bad = files.transactions([DEPOSIT | {"amount": "lots"}])
    with pytest.raises(InputError) as refused:
        db.import_transactions("Main", bad, owner="alice@example.com", source="upload.csv")
    assert {p.file for p in refused.value.problems} == {"upload.csv"}
    missing = files.transactions([{"trade_date": "2024-01-02"}], columns=["trade_date"])
    with pytest.raises(InputError) as header:
        db.import_transactions("Main", missing, owner="alice@example.com", source="upload.csv")
    assert {p.file for p in header.value.problems} == {"upload.csv"}


def test_pages_filter_and_a_cursor_survives_new_transactions(db: foliodb.Database) -> None:
    pid = _portfolio(db)
    for day in range(1, 8):
        transactions.add_transaction(
            db.engine, pid, DEPOSIT | {"external_id": f"d{day}", "trade_date": f"2024-01-0{day}"}
        )
    first = transactions.transactions_page(db.engine, pid, limit=3)
    assert [t.tx_id for t in first.transactions] == ["d1", "d2", "d3"]
    assert first.count == 7 and first.next_cursor is not None
    # a transaction dated before the page's end arrives: the cursor still goes on from d3
    transactions.add_transaction(
        db.engine, pid, DEPOSIT | {"external_id": "d0", "trade_date": "2024-01-01"}
    )
    second = transactions.transactions_page(db.engine, pid, limit=3, cursor=first.next_cursor)
    assert [t.tx_id for t in second.transactions] == ["d4", "d5", "d6"]
    by_offset = transactions.transactions_page(db.engine, pid, limit=3, offset=3)
    assert [t.tx_id for t in by_offset.transactions] == ["d3", "d4", "d5"]
    window = transactions.transactions_page(
        db.engine, pid, start=dt.date(2024, 1, 3), end=dt.date(2024, 1, 4)
    )
    assert [t.tx_id for t in window.transactions] == ["d3", "d4"]
    with pytest.raises(InputError, match="cursor"):
        transactions.transactions_page(db.engine, pid, cursor="not-a-cursor")
