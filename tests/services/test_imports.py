"""CSV imports: all rows or none, every bad line named, and re-importing adds nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import foliodb
from foliodb.errors import InputError
from tests.builders import CsvFiles, buy, deposit, fx, price, sell

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def located(error: InputError) -> set[tuple[str | None, int | None, str | None, str | None]]:
    """Each problem as (file, line, field, value)."""
    return {(p.file, p.line, p.field, p.value) for p in error.problems}


def stored_count(db: foliodb.Database, table: str) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- transactions -----------------------------------------------------------------------------
def test_importing_the_example_transactions_adds_every_row(db: foliodb.Database) -> None:
    db.create_portfolio("Main", base_currency="CAD")
    db.import_fx(EXAMPLES / "fx.csv")

    result = db.import_transactions("Main", EXAMPLES / "transactions.csv")

    assert (result.kind, result.rows, result.added, result.updated, result.skipped) == (
        "transactions",
        9,
        9,
        0,
        0,
    )
    assert db.portfolio("Main").transaction_count == 9


def test_importing_the_same_transactions_again_adds_nothing(db: foliodb.Database) -> None:
    db.create_portfolio("Main", base_currency="CAD")
    db.import_fx(EXAMPLES / "fx.csv")
    db.import_transactions("Main", EXAMPLES / "transactions.csv")
    lots_before = db.lots("Main").lots

    again = db.import_transactions("Main", EXAMPLES / "transactions.csv")

    assert (again.rows, again.added, again.skipped) == (9, 0, 9)
    info = db.portfolio("Main")
    assert info.transaction_count == 9
    assert info.ledger_version == 1  # the empty re-import did not touch the ledger
    assert db.lots("Main").lots == lots_before


def test_rows_without_external_id_are_told_apart_and_not_imported_twice(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="USD")
    twice_the_same = {
        "trade_date": "2024-01-05",
        "type": "DEPOSIT",
        "amount": "100",
        "currency": "USD",
    }
    path = files.transactions([twice_the_same, twice_the_same, {**twice_the_same, "amount": "250"}])

    first = db.import_transactions("Main", path)
    again = db.import_transactions("Main", path)

    assert (first.added, again.added, again.skipped) == (3, 0, 3)
    assert db.portfolio("Main").transaction_count == 3


def test_a_file_with_bad_rows_writes_nothing_and_names_every_bad_line(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="USD")
    path = files.transactions(
        [
            buy("T1", "2024-01-03", "AAPL", "10", "185.64", "USD"),  # line 2: fine
            buy("T2", "2024-02-30", "AAPL", "10", "185.64", "USD"),  # line 3
            # line 4: a type foliodb does not know
            {**buy("T3", "2024-01-04", "AAPL", "10", "185.64", "USD"), "type": "PURCHASE"},
            buy("T4", "2024-01-05", "AAPL", "-5", "185.64", "USD"),  # line 5
            buy("T5", "2024-01-05", "AAPL", "5", "185.64", "XYZ"),  # line 6
            buy("T1", "2024-01-08", "AAPL", "1", "185.64", "USD"),  # line 7
            deposit("T6", "2024-01-02", "1000", "USD"),  # line 8: fine
        ]
    )

    with pytest.raises(InputError) as caught:
        db.import_transactions("Main", path)

    file = str(path)
    assert located(caught.value) == {
        (file, 3, "trade_date", "2024-02-30"),
        (file, 4, "type", "PURCHASE"),
        (file, 5, "quantity", "-5"),
        (file, 6, "currency", "XYZ"),
        (file, 7, "external_id", "T1"),
    }
    message = str(caught.value)
    assert message.startswith("5 problems in input")
    for line in (3, 4, 5, 6, 7):
        assert f"{file}:{line}: " in message
    assert db.portfolio("Main").transaction_count == 0
    assert stored_count(db, "securities") == 0


def test_a_file_without_a_required_column_is_refused_naming_the_column(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="USD")
    path = files.transactions(
        [
            {"external_id": "T1", "trade_date": "2024-01-02", "type": "DEPOSIT", "amount": "100"},
        ]
    )

    with pytest.raises(InputError, match="required column is missing") as caught:
        db.import_transactions("Main", path)

    assert located(caught.value) == {(str(path), 1, "currency", None)}
    assert db.portfolio("Main").transaction_count == 0


def test_an_oversell_in_the_file_is_refused_with_its_line_and_nothing_is_written(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="USD")
    path = files.transactions(
        [
            deposit("T1", "2024-01-02", "5000", "USD"),
            buy("T2", "2024-01-03", "AAPL", "10", "185.64", "USD"),
            sell("T3", "2024-02-01", "AAPL", "15", "190.00", "USD"),  # line 4
        ]
    )

    with pytest.raises(InputError, match="only 10 held") as caught:
        db.import_transactions("Main", path)

    assert [(p.file, p.line, p.field) for p in caught.value.problems] == [
        (str(path), 4, "quantity")
    ]
    assert db.portfolio("Main").transaction_count == 0
    assert db.lots("Main").lots == ()


def test_a_sale_of_more_than_earlier_imports_hold_is_refused_with_its_line(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="USD")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                buy("T1", "2024-01-03", "AAPL", "10", "185.64", "USD"),
            ]
        ),
    )
    later = files.transactions(
        [
            buy("T2", "2024-02-01", "MSFT", "1", "400", "USD"),
            sell("T3", "2024-02-01", "AAPL", "11", "190.00", "USD"),  # line 3
        ]
    )

    with pytest.raises(InputError, match="only 10 held") as caught:
        db.import_transactions("Main", later)

    assert [(p.line, p.field) for p in caught.value.problems] == [(3, "quantity")]
    assert db.portfolio("Main").transaction_count == 1


def test_a_changed_row_under_an_imported_external_id_is_refused(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="USD")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                buy("T1", "2024-01-03", "AAPL", "10", "185.64", "USD"),
                buy("T2", "2024-01-04", "AAPL", "5", "186.00", "USD"),
            ]
        ),
    )
    corrected = files.transactions(
        [
            buy("T1", "2024-01-03", "AAPL", "10", "185.64", "USD"),
            buy("T2", "2024-01-04", "AAPL", "5", "168.00", "USD"),  # line 3
            buy("T3", "2024-01-05", "AAPL", "1", "187.00", "USD"),
        ]
    )

    with pytest.raises(InputError, match="already imported with different content") as caught:
        db.import_transactions("Main", corrected)

    assert located(caught.value) == {(str(corrected), 3, "external_id", "T2")}
    assert db.portfolio("Main").transaction_count == 2
    assert sum(lot.open_quantity for lot in db.lots("Main").lots) == 15


def test_a_changed_fx_rate_under_an_imported_external_id_is_refused(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="CAD")
    booked = buy("T1", "2024-01-03", "AAPL", "10", "100", "USD", fx_rate="1.30")
    db.import_transactions("Main", files.transactions([booked]))
    corrected = files.transactions([{**booked, "fx_rate": "1.35"}])

    with pytest.raises(InputError, match="already imported with different content") as caught:
        db.import_transactions("Main", corrected)

    assert located(caught.value) == {(str(corrected), 2, "external_id", "T1")}
    assert [lot.cost_basis_base for lot in db.lots("Main").lots] == [Decimal("1300")]


def test_reimporting_a_file_without_fx_rate_adds_nothing_after_newer_fx_arrives(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="CAD")
    db.import_fx(files.fx([fx("2024-01-02", "USD", "CAD", "1.3316")]))
    path = files.transactions([buy("T1", "2024-01-04", "AAPL", "10", "100", "USD")])
    db.import_transactions("Main", path)
    # A rate nearer the trade date arrives: the stored trade keeps the rate it was booked at.
    db.import_fx(files.fx([fx("2024-01-03", "USD", "CAD", "1.3343")]))

    again = db.import_transactions("Main", path)

    assert (again.added, again.skipped) == (0, 1)
    assert [lot.cost_basis_base for lot in db.lots("Main").lots] == [Decimal("1331.60")]


def test_a_foreign_currency_trade_without_fx_rate_or_imported_fx_is_refused_naming_fx_rate(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="CAD")
    path = files.transactions(
        [
            buy("T1", "2024-01-03", "SHOP", "10", "100", "CAD"),
            buy("T2", "2024-01-03", "AAPL", "10", "185.64", "USD"),  # line 3
        ]
    )

    with pytest.raises(InputError, match="no USD/CAD FX rate on or before 2024-01-03") as first:
        db.import_transactions("Main", path)
    # A rate dated after the trade cannot fix its cost either.
    db.import_fx(files.fx([fx("2024-01-04", "USD", "CAD", "1.3400")]))
    with pytest.raises(InputError, match="no USD/CAD FX rate") as second:
        db.import_transactions("Main", path)

    for caught in (first, second):
        assert located(caught.value) == {(str(path), 3, "fx_rate", None)}
    assert db.portfolio("Main").transaction_count == 0


def test_a_trade_without_fx_rate_takes_the_newest_imported_rate_on_or_before_its_date(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="CAD")
    db.import_fx(
        files.fx(
            [
                fx("2024-01-02", "USD", "CAD", "1.3316"),
                fx("2024-01-05", "USD", "CAD", "1.3400"),
            ]
        )
    )
    db.import_transactions(
        "Main",
        files.transactions(
            [
                buy("T1", "2024-01-04", "AAPL", "10", "100", "USD"),  # 1.3316 (Jan 2)
                buy("T2", "2024-01-05", "AAPL", "10", "100", "USD"),  # 1.3400 (same day)
                buy("T3", "2024-01-06", "AAPL", "10", "100", "USD", fx_rate="1.25"),  # the file's
            ]
        ),
    )

    base_costs = {lot.lot_id: lot.cost_basis_base for lot in db.lots("Main").lots}

    assert base_costs == {
        "T1": Decimal("1331.60"),
        "T2": Decimal("1340.00"),
        "T3": Decimal("1250.00"),
    }


# --- prices and FX ----------------------------------------------------------------------------
def test_importing_the_same_prices_again_adds_nothing(db: foliodb.Database) -> None:
    first = db.import_prices(EXAMPLES / "prices.csv")
    again = db.import_prices(EXAMPLES / "prices.csv")

    assert (first.kind, first.rows, first.added, first.updated, first.skipped) == (
        "prices",
        2,
        2,
        0,
        0,
    )
    assert (again.rows, again.added, again.updated, again.skipped) == (2, 0, 0, 2)
    assert stored_count(db, "prices") == 2


def test_a_changed_price_is_counted_as_updated_and_replaces_the_old_one(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.import_prices(
        files.prices(
            [
                price("AAPL", "2024-12-31", "250.42", "USD"),
                price("SHOP", "2024-12-31", "152.93", "CAD"),
            ]
        )
    )

    result = db.import_prices(
        files.prices(
            [
                price("AAPL", "2024-12-31", "250.43", "USD"),  # corrected
                price("SHOP", "2024-12-31", "152.93", "CAD"),  # unchanged
                price("SHOP", "2025-01-02", "155.00", "CAD"),  # new
            ]
        )
    )

    assert (result.rows, result.added, result.updated, result.skipped) == (3, 1, 1, 1)
    with db.engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT symbol, date, price FROM prices ORDER BY symbol, date")
        ).all()
    assert [(s, str(d), Decimal(p)) for s, d, p in stored] == [
        ("AAPL", "2024-12-31", Decimal("250.43")),
        ("SHOP", "2024-12-31", Decimal("152.93")),
        ("SHOP", "2025-01-02", Decimal("155.00")),
    ]


def test_importing_the_same_fx_rates_again_adds_nothing_and_a_changed_rate_is_updated(
    db: foliodb.Database, files: CsvFiles
) -> None:
    first = db.import_fx(EXAMPLES / "fx.csv")
    again = db.import_fx(EXAMPLES / "fx.csv")
    corrected = db.import_fx(files.fx([fx("2024-12-31", "USD", "CAD", "1.4390")]))

    assert (first.kind, first.rows, first.added, first.updated, first.skipped) == ("fx", 5, 5, 0, 0)
    assert (again.added, again.updated, again.skipped) == (0, 0, 5)
    assert (corrected.added, corrected.updated, corrected.skipped) == (0, 1, 0)
    assert stored_count(db, "fx_rates") == 5


def test_imported_prices_and_rates_keep_every_digit(db: foliodb.Database, files: CsvFiles) -> None:
    long_price, long_rate = "0.1000000000000000000000000000000000000001", "1.33333333333333333333"
    db.import_prices(files.prices([price("PENNY", "2024-12-31", long_price, "USD")]))
    db.import_fx(files.fx([fx("2024-12-31", "USD", "CAD", long_rate)]))

    with db.engine.connect() as connection:
        stored_price = connection.execute(sa.text("SELECT price FROM prices")).scalar_one()
        stored_rate = connection.execute(sa.text("SELECT rate FROM fx_rates")).scalar_one()

    # Raw driver values: text on SQLite (never a float), NUMERIC on PostgreSQL.
    assert isinstance(stored_price, str | Decimal) and isinstance(stored_rate, str | Decimal)
    assert (Decimal(stored_price), Decimal(stored_rate)) == (
        Decimal(long_price),
        Decimal(long_rate),
    )


def test_an_external_id_with_a_semicolon_is_refused_since_lot_ids_are_separated_by_it(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    path = files.transactions([buy("B;1", "2024-01-03", "X", "1", "10", "USD")])

    with pytest.raises(InputError) as caught:
        db.import_transactions("Main", path)

    (problem,) = caught.value.problems
    assert (problem.line, problem.field, problem.value) == (2, "external_id", "B;1")


def test_naming_a_lot_that_is_not_open_is_reported_on_the_lot_ids_field(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    path = files.transactions(
        [
            buy("B1", "2024-01-03", "X", "5", "10", "USD"),
            sell("S1", "2024-01-04", "X", "1", "11", "USD", lot_ids="NOPE"),
        ]
    )

    with pytest.raises(InputError) as caught:
        db.import_transactions("Main", path)

    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "lot_ids")
    assert "NOPE" in problem.message


def test_row_problems_of_every_kind_are_reported_in_one_go(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    path = files.transactions(
        [
            deposit("D1", "2024-01-02", "1000", "USD"),
            buy("B1", "2024-13-01", "X", "1", "10", "USD"),  # bad date: a parse problem
            buy("B2", "2024-01-03", "Y", "1", "10", "EUR"),  # no EUR/USD rate: a lookup problem
        ]
    )

    with pytest.raises(InputError) as caught:
        db.import_transactions("Main", path)

    assert [(p.line, p.field) for p in caught.value.problems] == [
        (3, "trade_date"),
        (4, "fx_rate"),
    ]
    assert db.portfolio("Main").transaction_count == 0


def test_every_oversell_in_a_file_is_reported_in_one_go(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    path = files.transactions(
        [
            buy("B1", "2024-01-03", "X", "10", "10", "USD"),
            sell("S1", "2024-01-04", "X", "11", "10", "USD"),
            buy("B2", "2024-01-03", "Y", "5", "10", "USD"),
            sell("S2", "2024-01-05", "Y", "6", "10", "USD"),
        ]
    )

    with pytest.raises(InputError) as caught:
        db.import_transactions("Main", path)

    assert [(p.line, p.field) for p in caught.value.problems] == [
        (3, "quantity"),
        (5, "quantity"),
    ]
    assert db.portfolio("Main").transaction_count == 0


def test_an_import_names_the_securities_it_created(db: foliodb.Database, files: CsvFiles) -> None:
    path = files.prices([price("NEWCO", "2024-01-02", "10", "USD")])

    first = db.import_prices(path)
    again = db.import_prices(path)

    assert first.new_securities == ("NEWCO",)
    assert again.new_securities == ()


def test_a_spreadsheet_export_with_semicolons_and_unnamed_empty_columns_imports(
    db: foliodb.Database, tmp_path: Path
) -> None:
    db.create_portfolio("Main")
    path = tmp_path / "export.csv"
    path.write_bytes(
        "\ufeffexternal_id;trade_date;type;amount;currency;;\r\n"
        "D1;2024-01-02;DEPOSIT;1000;USD;;\r\n".encode()
    )

    result = db.import_transactions("Main", path)

    assert (result.rows, result.added) == (1, 1)


def test_a_value_under_a_column_without_a_name_is_refused(
    db: foliodb.Database, tmp_path: Path
) -> None:
    db.create_portfolio("Main")
    path = tmp_path / "export.csv"
    path.write_text("external_id,trade_date,type,amount,currency,\nD1,2024-01-02,DEPOSIT,1,USD,x\n")

    with pytest.raises(InputError) as caught:
        db.import_transactions("Main", path)

    (problem,) = caught.value.problems
    assert (problem.line, problem.value) == (2, "x")


def test_a_misspelled_column_gets_a_suggestion(db: foliodb.Database, tmp_path: Path) -> None:
    db.create_portfolio("Main")
    path = tmp_path / "typo.csv"
    path.write_text("external_id,trade_date,type,quantitty,currency\n")

    with pytest.raises(InputError) as caught:
        db.import_transactions("Main", path)

    assert caught.value.problems[0].expected == "did you mean 'quantity'?"


def test_creating_a_portfolio_again_with_exist_ok_returns_it_and_refuses_a_different_one(
    db: foliodb.Database,
) -> None:
    first = db.create_portfolio("Main", "CAD", "AVERAGE")
    again = db.create_portfolio("Main", "CAD", "AVERAGE", exist_ok=True)

    assert again == first
    with pytest.raises(foliodb.errors.ConflictError, match="CAD, AVERAGE"):
        db.create_portfolio("Main", "USD", exist_ok=True)
    with pytest.raises(InputError, match="not an email"):
        db.create_portfolio("Other", owner="alice")
