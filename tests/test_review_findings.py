"""Second-reading review: each test shows one defect a demanding user would hit.

A test marked xfail(strict=True) documents a defect whose fix is not small and local (or lies
in a module being reworked elsewhere); its reason says where the fix belongs. Every other test
failed before the fix it names and passes with it.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import foliodb
from foliodb.cli.main import app
from foliodb.domain import ledger
from foliodb.domain.money import EXACT, div, mul, normalize
from foliodb.domain.types import Transaction, TxType
from foliodb.errors import FoliodbError, InputError, NotFoundError
from tests.builders import CsvFiles, buy, deposit, fx, price, sell

SRC = Path(__file__).resolve().parents[1] / "src" / "foliodb"
runner = CliRunner(env={"COLUMNS": "250"})


@pytest.fixture
def db(db_url: str) -> Iterator[foliodb.Database]:
    database = foliodb.connect(db_url, create=True)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def files(tmp_path: Path) -> CsvFiles:
    return CsvFiles(tmp_path)


def cli(url: str, *args: str) -> Result:
    return runner.invoke(app, [*args, "--db", url])


def ok(url: str, *args: str) -> Result:
    result = cli(url, *args)
    assert result.exit_code == 0, f"{args}: {result.output} {result.exception!r}"
    return result


def refused_cleanly(result: Result, code: int) -> None:
    """The command ended with `code` and a message, not a traceback."""
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), f"crashed with {result.exception!r}"
    assert result.exit_code == code
    assert result.stderr.startswith("error: ")


def fields_of(error: InputError) -> set[str | None]:
    return {p.field for p in error.problems}


def holding_100_x(db: foliodb.Database, files: CsvFiles) -> None:
    db.create_portfolio("Main", base_currency="USD")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("D1", "2024-01-02", "10000", "USD"),
                buy("B1", "2024-01-03", "X", "100", "10", "USD"),
            ]
        ),
    )


# --- concurrency ------------------------------------------------------------------------------
def test_two_imports_into_one_portfolio_at_once_cannot_both_sell_the_same_shares(
    db_url: str, tmp_path: Path
) -> None:
    """Each import checks its sale against the ledger it read; without a lock on the portfolio
    both checks pass on the same 100 shares, both commit, and the ledger holds an oversell
    that no replay accepts any more (services/ledger.py import_transactions)."""
    files = CsvFiles(tmp_path)
    mine_db = foliodb.connect(db_url, create=True)
    theirs_db = foliodb.connect(db_url)
    holding_100_x(mine_db, files)
    mine = files.transactions([sell("S1", "2024-02-01", "X", "100", "11", "USD")])
    theirs = files.transactions([sell("S2", "2024-02-02", "X", "100", "12", "USD")])
    outcome: dict[str, object] = {}

    def import_theirs() -> None:
        try:
            theirs_db.import_transactions("Main", theirs)
            outcome["theirs"] = "imported"
        except FoliodbError as exc:
            outcome["theirs"] = exc

    worker = threading.Thread(target=import_theirs)

    def progress(stage: str, _done: int, _total: int) -> None:
        # Mine has checked its sale and is about to write: the other import runs now.
        if stage == "writing" and "started" not in outcome:
            outcome["started"] = True
            worker.start()
            worker.join(timeout=2)

    try:
        mine_db.import_transactions("Main", mine, progress)
        worker.join(timeout=60)
        assert not worker.is_alive()
        assert isinstance(outcome["theirs"], InputError)  # refused: the shares are gone
        assert mine_db.portfolio("Main").transaction_count == 3
        assert mine_db.rebuild("Main").identical
    finally:
        mine_db.close()
        theirs_db.close()


# --- the CLI never ends in a traceback ---------------------------------------------------------
@pytest.mark.parametrize("name", ["Family [old]", "Trust [/]", "[b]Estate"])
def test_a_portfolio_name_with_brackets_is_shown_as_written(sqlite_url: str, name: str) -> None:
    """Names went through rich markup: '[old]' vanished, '[/]' crashed `portfolio create` after
    the portfolio was stored, and every later `portfolio list` crashed too (cli/)."""
    ok(sqlite_url, "init")

    created = cli(sqlite_url, "portfolio", "create", name)
    listed = cli(sqlite_url, "portfolio", "list")

    assert created.exit_code == 0, repr(created.exception)
    assert repr(name) in created.stdout
    assert listed.exit_code == 0, repr(listed.exception)
    assert name in listed.stdout


def test_an_import_report_shows_a_path_with_brackets_as_written(
    sqlite_url: str, tmp_path: Path
) -> None:
    ok(sqlite_url, "init")
    folder = tmp_path / "[ibkr]"
    folder.mkdir()
    path = CsvFiles(folder).fx([fx("2024-01-02", "USD", "CAD", "1.33")])

    result = ok(sqlite_url, "import", "fx", str(path))

    assert f"{path}: 1 fx rows, 1 added" in result.stdout


@pytest.mark.parametrize("year", ["0", "10000"])
def test_gains_of_an_impossible_year_exit_2_without_a_traceback(sqlite_url: str, year: str) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "portfolio", "create", "Main")

    result = cli(sqlite_url, "gains", "Main", "--year", year)

    assert result.exit_code == 2, repr(result.exception)


def test_a_negative_pack_list_limit_is_refused_rather_than_dropping_the_oldest_pack(
    sqlite_url: str,
) -> None:
    ok(sqlite_url, "init")

    result = cli(sqlite_url, "pack", "list", "--limit", "-1")

    assert result.exit_code == 2


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user@localhost/foliodb",  # unsupported engine
        "not a url",
        "postgresql://nobody@127.0.0.1:1/foliodb",  # nothing listens on port 1
    ],
)
def test_a_database_that_cannot_be_opened_is_reported_without_a_traceback(url: str) -> None:
    result = cli(url, "portfolio", "list")

    assert result.exit_code in (1, 2), repr(result.exception)
    refused_cleanly(result, result.exit_code)


def test_a_file_that_is_not_a_database_is_reported_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are not the tables you are looking for\n" * 100)

    result = cli(f"sqlite:///{path}", "portfolio", "list")

    refused_cleanly(result, 1)


def test_a_latin_1_csv_is_refused_naming_the_file_not_with_a_traceback(
    sqlite_url: str, tmp_path: Path
) -> None:
    ok(sqlite_url, "init")
    path = tmp_path / "prices.csv"
    path.write_bytes(
        "symbol,date,price,currency\nSOCGEN,2024-01-02,24.10,EUR\n"
        "SOCGEN,2024-01-03,24.30,EUR,Société Générale\n".encode("latin-1")
    )

    result = cli(sqlite_url, "import", "prices", str(path))

    refused_cleanly(result, 2)
    assert str(path) in result.stderr


# --- what SQLite accepts PostgreSQL must accept, and the other way round ----------------------
def test_a_securities_file_naming_a_symbol_twice_is_refused_naming_the_line(
    db: foliodb.Database, files: CsvFiles
) -> None:
    path = files.securities(
        [
            {"symbol": "AAPL", "currency": "USD", "name": "Apple"},
            {"symbol": "aapl", "currency": "USD", "name": "Apple Inc."},
        ]
    )

    with pytest.raises(InputError) as refused:
        db.import_securities(path)

    assert {(p.line, p.field) for p in refused.value.problems} == {(3, "symbol")}


def test_security_fields_wider_than_their_columns_are_refused_on_every_engine(
    db: foliodb.Database, files: CsvFiles
) -> None:
    """country is 2 characters: 'USA' crashed PostgreSQL with DataError, SQLite stored it."""
    path = files.securities(
        [
            {"symbol": "AAPL", "currency": "USD", "country": "USA"},
            {"symbol": "X" * 65, "currency": "USD"},
        ]
    )

    with pytest.raises(InputError) as refused:
        db.import_securities(path)

    assert {(p.line, p.field) for p in refused.value.problems} == {(2, "country"), (3, "symbol")}


def test_a_transaction_symbol_wider_than_its_column_is_refused_on_every_engine(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    path = files.transactions(
        [
            deposit("D1", "2024-01-02", "1000", "USD"),
            buy("B1", "2024-01-03", "S" * 200, "1", "10", "USD"),
            buy("B" * 129, "2024-01-03", "AAPL", "1", "10", "USD"),
        ]
    )

    with pytest.raises(InputError) as refused:
        db.import_transactions("Main", path)

    assert {(p.line, p.field) for p in refused.value.problems} == {
        (3, "symbol"),
        (4, "external_id"),
    }
    assert db.portfolio("Main").transaction_count == 0


def test_a_price_symbol_wider_than_its_column_is_refused_on_every_engine(
    db: foliodb.Database, files: CsvFiles
) -> None:
    with pytest.raises(InputError) as refused:
        db.import_prices(files.prices([price("P" * 65, "2024-01-02", "1", "USD")]))

    assert fields_of(refused.value) == {"symbol"}


def test_a_portfolio_name_wider_than_its_column_is_refused_on_every_engine(
    db: foliodb.Database,
) -> None:
    with pytest.raises(InputError) as refused:
        db.create_portfolio("N" * 201)

    assert fields_of(refused.value) == {"name"}


# --- multi-currency numbers ---------------------------------------------------------------------
def test_an_fx_rate_other_than_1_on_a_base_currency_row_is_refused(
    db: foliodb.Database, files: CsvFiles
) -> None:
    """It was stored and multiplied into the base cost: 1,000 USD of stock cost 1,360 USD."""
    db.create_portfolio("Main", base_currency="USD")
    path = files.transactions([buy("B1", "2024-01-03", "AAPL", "10", "100", "USD", fx_rate="1.36")])

    with pytest.raises(InputError) as refused:
        db.import_transactions("Main", path)

    assert {(p.line, p.field) for p in refused.value.problems} == {(2, "fx_rate")}


def test_a_trade_takes_the_fresh_inverse_rate_over_a_years_old_direct_one(
    db: foliodb.Database, files: CsvFiles
) -> None:
    """FxTable preferred a direct pair whatever its date: a 2020 USD/CAD beat the CAD/USD of the
    trade date, so the trade's base cost used a four-year-old rate (domain/pricing.py)."""
    db.create_portfolio("Main", base_currency="CAD")
    db.import_fx(
        files.fx([fx("2020-01-02", "USD", "CAD", "1.30"), fx("2024-06-03", "CAD", "USD", "0.73")])
    )
    db.import_transactions(
        "Main", files.transactions([buy("B1", "2024-06-03", "AAPL", "10", "100", "USD")])
    )

    (lot,) = db.lots("Main").lots

    assert lot.cost_basis_base == mul(Decimal(1000), div(Decimal(1), Decimal("0.73")))


def test_a_carried_forward_pack_values_at_the_fresh_inverse_rate(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main", base_currency="CAD")
    db.import_transactions(
        "Main",
        files.transactions([buy("B1", "2024-06-03", "AAPL", "10", "100", "USD", fx_rate="1.37")]),
    )
    db.import_prices(files.prices([price("AAPL", "2024-06-28", "110", "USD")]))
    db.import_fx(
        files.fx([fx("2020-01-02", "USD", "CAD", "1.30"), fx("2024-06-27", "CAD", "USD", "0.73")])
    )
    db.create_pack("2024-06-28", carry_forward=True)

    (position,) = db.valuation("Main").positions

    assert position.fx_rate == div(Decimal(1), Decimal("0.73"))


def test_a_withholding_tax_in_the_dividend_currency_is_accepted_like_the_dividend(
    db: foliodb.Database, files: CsvFiles
) -> None:
    """A TSX stock paying USD dividends: the USD DIVIDEND was accepted, its USD TAX refused."""
    db.create_portfolio("Main", base_currency="CAD")
    path = files.transactions(
        [
            buy("B1", "2024-01-03", "TRI.TO", "10", "200", "CAD"),
            {
                "external_id": "V1",
                "trade_date": "2024-03-15",
                "type": "DIVIDEND",
                "symbol": "TRI.TO",
                "amount": "5.40",
                "currency": "USD",
                "fx_rate": "1.35",
            },
            {
                "external_id": "W1",
                "trade_date": "2024-03-15",
                "type": "TAX",
                "symbol": "TRI.TO",
                "amount": "0.81",
                "currency": "USD",
                "fx_rate": "1.35",
            },
        ]
    )

    assert db.import_transactions("Main", path).added == 3


# --- exact money ------------------------------------------------------------------------------
def sold_a_third(db: foliodb.Database, files: CsvFiles) -> None:
    """Cost 2.11 for 3 shares; selling 1 relieves 2.11/3, a 34-digit slice, and leaves a
    35-digit remainder so the two add back to 2.11 exactly."""
    db.create_portfolio("Main", base_currency="USD")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("D1", "2024-01-02", "10", "USD"),
                buy("B1", "2024-01-03", "X", "3", "0.70", "USD", fee="0.01"),
                sell("S1", "2024-02-01", "X", "1", "1", "USD"),
            ]
        ),
    )


def test_the_total_of_realized_gains_is_exact(db: foliodb.Database, files: CsvFiles) -> None:
    """GainsResult.total_base summed in the default 28-digit context."""
    sold_a_third(db, files)
    gains = db.realized_gains("Main")

    (gain,) = gains.gains
    assert gain.gain_base == Decimal("0.2966666666666666666666666666666667")
    assert gains.total_base() == gain.gain_base


def test_exported_lots_and_gains_add_back_to_the_cost_paid(sqlite_url: str, tmp_path: Path) -> None:
    """JSON and CSV promise exact values, but money.normalize rounded them to 34 digits."""
    database = foliodb.connect(sqlite_url, create=True)
    sold_a_third(database, CsvFiles(tmp_path))
    database.close()

    lots = json.loads(ok(sqlite_url, "lots", "Main", "--format", "json").stdout)
    gains = json.loads(ok(sqlite_url, "gains", "Main", "--format", "json").stdout)

    assert EXACT.add(Decimal(lots[0]["cost_basis"]), Decimal(gains[0]["cost_basis"])) == Decimal(
        "2.11"
    )


def test_normalize_keeps_every_digit_and_large_integers() -> None:
    long = Decimal("1.4066666666666666666666666666666667")

    assert normalize(long) == long
    assert normalize(Decimal("1E+30")) == 10**30


def test_a_position_cost_is_the_exact_sum_of_its_lots(
    db: foliodb.Database, files: CsvFiles
) -> None:
    sold_a_third(db, files)
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("D2", "2024-03-01", "1000000", "USD"),
                buy("B2", "2024-03-01", "X", "1000000", "1", "USD"),
            ]
        ),
    )
    db.import_prices(files.prices([price("X", "2024-03-01", "1", "USD")]))
    db.create_pack("2024-03-01")

    (position,) = db.valuation("Main").positions
    lots = db.lots("Main").lots

    assert position.cost_basis == EXACT.add(lots[0].cost_basis, lots[1].cost_basis)


def test_a_price_change_beyond_the_28th_digit_restates_the_pack(
    db: foliodb.Database, files: CsvFiles
) -> None:
    """The pack hash normalised prices in the default 28-digit context, so the changed price
    hashed like the sealed one and `pack create` answered 'unchanged' (services/pricing.py)."""
    db.import_prices(
        files.prices([price("X", "2024-01-02", "100.00000000000000000000000000001", "USD")])
    )
    first = db.create_pack("2024-01-02")
    db.import_prices(
        files.prices([price("X", "2024-01-02", "100.00000000000000000000000000002", "USD")])
    )

    again = db.create_pack("2024-01-02")

    assert (first.pack_id, again.pack_id, again.created) == (
        "PP_2024-01-02",
        "PP_2024-01-02.2",
        True,
    )


def test_positions_are_the_exact_sum_of_the_lots() -> None:
    third = Decimal("0.3333333333333333333333333333333333")
    txs = [
        Transaction("B1", dt.date(2024, 1, 2), TxType.BUY, "USD", "X", third, Decimal(1)),
        Transaction("B2", dt.date(2024, 1, 3), TxType.BUY, "USD", "X", third, Decimal(1)),
    ]

    assert ledger.positions(ledger.replay(txs)) == {
        "X": Decimal("0.6666666666666666666666666666666666")
    }


# --- packs ------------------------------------------------------------------------------------
def test_a_pack_dated_in_the_future_is_refused(db: foliodb.Database, files: CsvFiles) -> None:
    """With --carry-forward a typo (2062 for 2026) sealed a pack that can never be deleted and
    that every later `holdings` picked as the newest (services/pricing.py create_pack)."""
    db.import_prices(files.prices([price("X", "2024-01-02", "10", "USD")]))
    future = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=400)

    with pytest.raises(InputError):
        db.create_pack(future, carry_forward=True)

    assert db.packs() == []


def test_a_currency_no_longer_held_does_not_fail_later_packs(
    db: foliodb.Database, files: CsvFiles
) -> None:
    """A yen account closed in 2020 made every 2024 pack FAILED for want of a JPY/USD rate."""
    db.create_portfolio("Main", base_currency="USD")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("D1", "2020-01-02", "100000", "JPY", fx_rate="0.0092"),
                {
                    "external_id": "W1",
                    "trade_date": "2020-06-01",
                    "type": "WITHDRAWAL",
                    "amount": "100000",
                    "currency": "JPY",
                    "fx_rate": "0.0093",
                },
                deposit("D2", "2024-01-02", "1000", "USD"),
                buy("B1", "2024-01-03", "X", "10", "10", "USD"),
            ]
        ),
    )
    db.import_prices(files.prices([price("X", "2024-06-28", "12", "USD")]))

    assert db.create_pack("2024-06-28").pack.status.value == "COMPLETE"


# --- portfolios -------------------------------------------------------------------------------
def test_two_owners_portfolios_of_the_same_name_stay_reachable(db: foliodb.Database) -> None:
    db.create_portfolio("Main", owner="alice@example.com")
    db.create_portfolio("Main", owner="bob@example.com")

    assert db.portfolio("Main", owner="bob@example.com").owner == "bob@example.com"
    assert db.lots("Main", owner="alice@example.com").lots == ()


def test_an_ambiguous_portfolio_name_is_refused_not_guessed(db: foliodb.Database) -> None:
    db.create_portfolio("Main", owner="alice@example.com")
    db.create_portfolio("Main", owner="bob@example.com")

    with pytest.raises(NotFoundError, match="several users"):
        db.lots("Main")


# --- ledger gaps (in modules being reworked; fixes described) ---------------------------------
def test_a_one_for_three_reverse_split_leaves_exactly_a_third(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                buy("B1", "2024-01-03", "X", "300", "1", "USD"),
                {
                    "external_id": "R1",
                    "trade_date": "2024-02-01",
                    "type": "SPLIT",
                    "symbol": "X",
                    "ratio": "1:3",
                    "currency": "USD",
                },
            ]
        ),
    )

    assert db.lots("Main").lots[0].open_quantity == 100


def test_shares_transferred_in_keep_their_original_acquisition_date(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                {
                    "external_id": "T1",
                    "trade_date": "2024-01-03",
                    "type": "TRANSFER_IN",
                    "symbol": "X",
                    "quantity": "10",
                    "price": "5",
                    "currency": "USD",
                    "acquired_date": "2015-06-01",
                },
                sell("S1", "2024-02-01", "X", "10", "50", "USD"),
            ]
        ),
    )

    assert db.realized_gains("Main").gains[0].term.value == "LONG"


# --- layers -----------------------------------------------------------------------------------
def test_the_python_api_imports_no_store_module() -> None:
    """database.py is an edge: it may use services and domain types, not the store."""
    tree = ast.parse((SRC / "database.py").read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }

    assert not {m for m in imported if m.startswith("foliodb.store")}


# --- more concurrency: idempotent writes that race on a natural key ------------------------------
def test_two_pack_creations_for_one_date_at_once_both_end_with_the_sealed_pack(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read 'no pack yet' and insert PP_<date>: the second died with IntegrityError."""
    from foliodb.services import pricing

    files = CsvFiles(tmp_path)
    mine_db = foliodb.connect(db_url, create=True)
    theirs_db = foliodb.connect(db_url)
    mine_db.import_prices(files.prices([price("X", "2024-01-02", "10", "USD")]))
    real_packs_on = pricing.repos.packs_on
    theirs: dict[str, object] = {}

    def packs_on_then_theirs_runs(session: object, date: dt.date) -> object:
        found = real_packs_on(session, date)  # type: ignore[arg-type]
        if not theirs:
            theirs["started"] = True
            worker = threading.Thread(
                target=lambda: theirs.update(result=theirs_db.create_pack(date))
            )
            worker.start()
            worker.join(timeout=60)
        return found

    monkeypatch.setattr(pricing.repos, "packs_on", packs_on_then_theirs_runs)
    try:
        mine = mine_db.create_pack("2024-01-02")
        assert theirs["result"].pack_id == mine.pack_id == "PP_2024-01-02"  # type: ignore[attr-defined]
        assert [p.pack_id for p in mine_db.packs()] == ["PP_2024-01-02"]
    finally:
        mine_db.close()
        theirs_db.close()


def test_two_price_imports_naming_a_new_symbol_at_once_both_succeed(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both saw the symbol as new and inserted the security: the second died with
    IntegrityError although re-importing is meant to be harmless."""
    from foliodb.services import pricing

    files = CsvFiles(tmp_path)
    mine_db = foliodb.connect(db_url, create=True)
    theirs_db = foliodb.connect(db_url)
    mine = files.prices([price("NEW", "2024-01-02", "10", "USD")])
    theirs = files.prices([price("NEW", "2024-01-03", "11", "USD")])
    real_securities = pricing.repos.securities_by_symbol
    started: list[bool] = []

    def securities_then_theirs_runs(session: object, symbols: object = None) -> object:
        known = real_securities(session, symbols)  # type: ignore[arg-type]
        if not started:
            started.append(True)
            worker = threading.Thread(target=lambda: theirs_db.import_prices(theirs))
            worker.start()
            worker.join(timeout=60)
        return known

    monkeypatch.setattr(pricing.repos, "securities_by_symbol", securities_then_theirs_runs)
    try:
        result = mine_db.import_prices(mine)
        assert (result.added, result.skipped) == (1, 0)
        pack = mine_db.create_pack("2024-01-03", carry_forward=True).pack
        assert [(p.symbol, p.price) for p in pack.prices] == [("NEW", Decimal(11))]
    finally:
        mine_db.close()
        theirs_db.close()


# --- the Python API and configuration ----------------------------------------------------------
def test_the_python_api_refuses_a_bad_date_string_as_input_error(db: foliodb.Database) -> None:
    """README: errors are FoliodbError subclasses; a bad date string raised a bare ValueError."""
    db.create_portfolio("Main")

    with pytest.raises(InputError):
        db.create_pack("31/12/2024")
    with pytest.raises(InputError):
        db.valuation("Main", date="2024-02-30")


def test_a_tilde_in_an_sqlite_url_means_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README shows the default as sqlite:///~/.local/share/...; written out, that made a
    directory called '~' in whatever the current directory was."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)

    ok("sqlite:///~/books/foliodb.db", "init")

    assert (home / "books" / "foliodb.db").exists()
    assert not (work / "~").exists()


def test_a_bad_setting_in_the_environment_is_reported_without_a_traceback(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOLIODB_POOL_SIZE", "lots")

    result = cli(sqlite_url, "init")

    refused_cleanly(result, 2)
    assert "FOLIODB_POOL_SIZE" in result.stderr


def test_a_float_is_refused_by_the_bulk_path_of_every_engine(db: foliodb.Database) -> None:
    """The SQLite bulk path refused floats; PostgreSQL's COPY stored them."""
    from sqlalchemy.orm import Session

    from foliodb.store import bulk
    from foliodb.store.tables import FxRateRow

    with Session(db.engine) as session, pytest.raises(TypeError, match="floats"):
        bulk.insert_rows(
            session,
            FxRateRow,
            [{"base": "USD", "quote": "CAD", "date": dt.date(2024, 1, 2), "rate": 1 / 3}],
        )


@pytest.mark.parametrize("name", [" Main", "Main ", "Main\t"])
def test_a_portfolio_name_with_surrounding_blanks_is_refused(
    db: foliodb.Database, name: str
) -> None:
    """' Main' was stored beside 'Main', and `holdings Main` then named neither."""
    with pytest.raises(InputError) as refused:
        db.create_portfolio(name)

    assert fields_of(refused.value) == {"name"}


def test_a_source_wider_than_its_column_is_refused_on_every_engine(
    db: foliodb.Database, files: CsvFiles
) -> None:
    source = "Bloomberg BVAL end-of-day composite pricing, European fixed income"

    with pytest.raises(InputError) as refused:
        db.import_fx(files.fx([fx("2024-01-02", "USD", "CAD", "1.33")]), source=source)

    assert fields_of(refused.value) == {"source"}


def test_a_write_that_waits_too_long_for_sqlite_is_reported_without_a_traceback(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding the write lock past the busy timeout gave OperationalError
    'database is locked' and a traceback."""
    import sqlite3

    from foliodb.store import engine

    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    ok(sqlite_url, "init")
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    try:
        result = cli(sqlite_url, "portfolio", "create", "Main")
    finally:
        other.execute("ROLLBACK")
        other.close()

    refused_cleanly(result, 1)
    assert "database is locked" in result.stderr
