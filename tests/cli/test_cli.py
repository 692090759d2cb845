"""The `foliodb` command line, driven the way a user types it.

Most tests run on SQLite; the end-to-end session and the bad-CSV path also run on PostgreSQL.
The example files (examples/*.csv) give a CAD portfolio whose valuation at PP_2024-12-31 is
worked by hand in test_a_new_user_goes_from_an_empty_database_to_valued_holdings.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from foliodb.cli.main import app
from tests.builders import CsvFiles, buy, fx, price

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PACK = "PP_2024-12-31"

# A wide terminal: rich wraps what it prints at the terminal width, 80 columns when it has none.
runner = CliRunner(env={"COLUMNS": "250"})


def foliodb(url: str, *args: str) -> Result:
    """Run `foliodb ARGS --db URL`; stdout and stderr stay apart in the result."""
    return runner.invoke(app, [*args, "--db", url])


def ok(url: str, *args: str) -> Result:
    result = foliodb(url, *args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def the_example_database(url: str) -> None:
    """init, a CAD portfolio, the example FX, prices and transactions, the year-end pack."""
    ok(url, "init")
    ok(url, "portfolio", "create", "Main", "--base", "CAD")
    ok(url, "import", "fx", str(EXAMPLES / "fx.csv"))
    ok(url, "import", "prices", str(EXAMPLES / "prices.csv"))
    ok(url, "import", "transactions", str(EXAMPLES / "transactions.csv"), "-p", "Main")
    ok(url, "pack", "create", "--date", "2024-12-31")


# --- the happy path ---------------------------------------------------------------------------
def test_a_new_user_goes_from_an_empty_database_to_valued_holdings(db_url: str) -> None:
    """By hand, at 2024-12-31 (USD/CAD 1.4389, AAPL 250.42 USD, SHOP 152.93 CAD):
    AAPL 100 + 50 - 60 (sold) = 90 x 250.42 = 22,537.80 USD = 32,429.64042 CAD;
    SHOP 50 split 2:1 = 100 x 152.93 = 15,293 CAD;
    cash CAD -5,309.95 + 6,740 = 1,430.05; USD 50,000 - 18,565 - 9,194 + 37.50 + 13,004
    - 5,002.50 - 25 = 30,255 = 43,533.9195 CAD; total 92,686.60992 CAD."""
    init = ok(db_url, "init")
    assert "ready at schema" in init.stdout
    assert "up to date" in ok(db_url, "db", "status").stdout
    created = ok(db_url, "portfolio", "create", "Main", "--base", "CAD")
    assert "created portfolio 'Main' (CAD, FIFO)" in created.stdout

    fx = ok(db_url, "import", "fx", str(EXAMPLES / "fx.csv"))
    prices = ok(db_url, "import", "prices", str(EXAMPLES / "prices.csv"))
    transactions = str(EXAMPLES / "transactions.csv")
    first = ok(db_url, "import", "transactions", transactions, "-p", "Main")
    again = ok(db_url, "import", "transactions", transactions, "-p", "Main")
    assert "5 fx rows, 5 added, 0 already present" in fx.stdout
    assert "2 prices rows, 2 added, 0 already present" in prices.stdout
    assert "9 transactions rows, 9 added, 0 already present" in first.stdout
    assert "9 transactions rows, 0 added, 9 already present" in again.stdout

    sealed = ok(db_url, "pack", "create", "--date", "2024-12-31")
    unchanged = ok(db_url, "pack", "create", "--date", "2024-12-31")
    assert sealed.stdout.startswith(f"sealed {PACK}: 2 prices, 2 FX rates; hash ")
    assert unchanged.stdout.startswith(f"unchanged, already sealed as {PACK}")

    holdings = as_json(ok(db_url, "holdings", "Main", "--format", "json"))
    assert {k: holdings[k] for k in ("portfolio", "base_currency", "pack_id", "date")} == {
        "portfolio": "Main",
        "base_currency": "CAD",
        "pack_id": PACK,
        "date": "2024-12-31",
    }
    assert (holdings["securities_value"], holdings["cash_value"], holdings["total_value"]) == (
        "47722.64042",
        "44963.9695",
        "92686.60992",
    )
    assert [
        (p["symbol"], p["quantity"], p["market_value_base"]) for p in holdings["positions"]
    ] == [("AAPL", "90", "32429.64042"), ("SHOP", "100", "15293")]
    assert [(c["currency"], c["balance"], c["value_base"]) for c in holdings["cash"]] == [
        ("CAD", "1430.05", "1430.05"),
        ("USD", "30255", "43533.9195"),
    ]

    rebuilt = ok(db_url, "ledger", "rebuild", "Main")
    assert "replayed 9 transactions -> 3 lots, 1 realized gains: identical" in rebuilt.stdout


def test_portfolios_are_listed_and_shown(sqlite_url: str) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "portfolio", "create", "Trading", "--base", "usd", "--method", "hifo")
    ok(sqlite_url, "portfolio", "create", "Main", "--base", "CAD")

    listed = as_json(ok(sqlite_url, "portfolio", "list", "--format", "json"))
    shown = as_json(ok(sqlite_url, "portfolio", "show", "Trading", "--format", "json"))
    table = ok(sqlite_url, "portfolio", "list").stdout

    assert [(p["name"], p["base_currency"], p["booking_method"]) for p in listed] == [
        ("Main", "CAD", "FIFO"),
        ("Trading", "USD", "HIFO"),
    ]
    assert shown == {  # one record: an object, not a list of one
        "name": "Trading",
        "owner": "local@localhost",
        "base_currency": "USD",
        "booking_method": "HIFO",
        "transaction_count": 0,
        "ledger_version": 0,
        "benchmark": None,
    }
    assert "Main" in table and "Trading" in table


def test_packs_are_listed_and_shown(sqlite_url: str) -> None:
    the_example_database(sqlite_url)

    listed = as_json(ok(sqlite_url, "pack", "list", "--format", "json"))
    shown = as_json(ok(sqlite_url, "pack", "show", PACK, "--format", "json"))

    assert listed == [
        {
            "pack_id": PACK,
            "date": "2024-12-31",
            "status": "COMPLETE",
            "prices": 2,
            "fx_rates": 2,
            "supersedes": None,
            "reason": None,
        }
    ]
    assert (shown["pack_id"], shown["status"], shown["supersedes"]) == (PACK, "COMPLETE", None)
    assert len(shown["content_hash"]) == 64
    assert shown["prices"] == [
        {"symbol": "AAPL", "price": "250.42", "currency": "USD", "price_date": "2024-12-31"},
        {"symbol": "SHOP", "price": "152.93", "currency": "CAD", "price_date": "2024-12-31"},
    ]
    assert [(r["base"], r["quote"], r["rate"]) for r in shown["fx_rates"]] == [
        ("EUR", "USD", "1.0389"),
        ("USD", "CAD", "1.4389"),
    ]
    assert PACK in ok(sqlite_url, "pack", "list").stdout


def test_holdings_as_csv_carry_every_position_field_under_a_header(sqlite_url: str) -> None:
    the_example_database(sqlite_url)

    result = ok(sqlite_url, "holdings", "Main", "--pack", PACK, "--format", "csv")

    reader = csv.DictReader(io.StringIO(result.stdout))
    rows = list(reader)
    assert reader.fieldnames == [
        "symbol",
        "currency",
        "quantity",
        "price",
        "price_date",
        "market_value",
        "fx_rate",
        "market_value_base",
        "cost_basis",
        "cost_basis_base",
        "unrealized_pnl_base",
        "price_effect_base",
        "currency_effect_base",
        "weight",
    ]
    # AAPL cost: 60 of lot T0002 were sold (HIFO), leaving 40 x 185.65 + 50 x 183.88 USD
    # = 16,620 USD; at trade-date FX 1.3343: 9,908.5118 + 12,267.5542 = 22,176.066 CAD.
    assert [
        (r["symbol"], r["market_value"], r["cost_basis"], r["cost_basis_base"]) for r in rows
    ] == [("AAPL", "22537.8", "16620", "22176.066"), ("SHOP", "15293", "5309.95", "5309.95")]


def test_holdings_as_a_table_name_the_portfolio_and_the_pack(sqlite_url: str) -> None:
    the_example_database(sqlite_url)

    shown = ok(sqlite_url, "holdings", "Main", "--date", "2025-01-15").stdout

    assert f"Main at {PACK} (CAD)" in shown
    assert "AAPL" in shown and "SHOP" in shown
    assert "92,686.61" in shown  # total_value, to the cent


def test_lots_and_the_gains_of_a_year_are_listed(sqlite_url: str) -> None:
    """T0007 sold 60 AAPL at 216.75 less 1 fee = 13,004 USD from lot T0002 (HIFO: 185.65 a
    share beats 183.88), costing 60/100 of 18,565 = 11,139 USD: a 1,865 USD gain;
    in CAD at 1.3343 both ways: 17,351.2372 - 14,862.7677 = 2,488.4695."""
    the_example_database(sqlite_url)

    lots = as_json(ok(sqlite_url, "lots", "Main", "--format", "json"))
    gains = as_json(ok(sqlite_url, "gains", "Main", "--year", "2024", "--format", "json"))
    none = as_json(ok(sqlite_url, "gains", "Main", "--year", "2023", "--format", "json"))

    assert [
        (lot["lot_id"], lot["symbol"], lot["open_quantity"], lot["cost_basis"]) for lot in lots
    ] == [
        ("T0002", "AAPL", "40", "7426"),
        ("T0004", "AAPL", "50", "9194"),
        ("T0003", "SHOP", "100", "5309.95"),
    ]
    assert [
        (g["lot_id"], g["tx_id"], g["quantity"], g["gain"], g["gain_base"], g["term"])
        for g in gains
    ] == [("T0002", "T0007", "60", "1865", "2488.4695", "SHORT")]
    assert none == []


# --- errors -----------------------------------------------------------------------------------
def test_a_bad_csv_exits_2_naming_every_bad_line_and_imports_nothing(
    db_url: str, tmp_path: Path
) -> None:
    ok(db_url, "init")
    ok(db_url, "portfolio", "create", "Main", "--base", "USD")
    path = CsvFiles(tmp_path).transactions(
        [
            buy("T1", "2024-01-03", "AAPL", "10", "185.64", "USD"),
            buy("T2", "2024-13-01", "AAPL", "10", "185.64", "USD"),  # line 3
            buy("T3", "2024-01-04", "AAPL", "-1", "185.64", "USD"),  # line 4
        ]
    )

    result = foliodb(db_url, "import", "transactions", str(path), "-p", "Main")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{path}:3: field 'trade_date' value '2024-13-01': is not a date" in result.stderr
    assert f"{path}:4: field 'quantity' value '-1': must not be negative" in result.stderr
    shown = as_json(ok(db_url, "portfolio", "show", "Main", "--format", "json"))
    assert shown["transaction_count"] == 0


def test_a_bad_value_that_looks_like_markup_is_reported_as_written(
    sqlite_url: str, tmp_path: Path
) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "portfolio", "create", "Main", "--base", "USD")
    path = CsvFiles(tmp_path).transactions(
        [
            {**buy("T1", "2024-01-03", "AAPL", "10", "185.64", "USD"), "type": "[/b]"},
        ]
    )

    result = foliodb(sqlite_url, "import", "transactions", str(path), "-p", "Main")

    assert result.exit_code == 2
    assert f"{path}:2: field 'type' value '[/b]'" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("holdings", "Nope"),
        ("lots", "Nope"),
        ("gains", "Nope"),
        ("ledger", "rebuild", "Nope"),
        ("portfolio", "show", "Nope"),
        ("import", "transactions", str(EXAMPLES / "transactions.csv"), "-p", "Nope"),
    ],
)
def test_an_unknown_portfolio_exits_1_naming_it(sqlite_url: str, command: tuple[str, ...]) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "portfolio", "create", "Main")

    result = foliodb(sqlite_url, *command)

    assert result.exit_code == 1
    assert "no portfolio named 'Nope' (known: Main)" in result.stderr
    assert result.stdout == ""


def test_a_failed_pack_exits_1_with_the_reason(sqlite_url: str, tmp_path: Path) -> None:
    the_example_database(sqlite_url)
    ok(
        sqlite_url,
        "import",
        "prices",
        str(CsvFiles(tmp_path).prices([price("SHOP", "2025-01-02", "155.00", "CAD")])),
    )

    result = foliodb(sqlite_url, "pack", "create", "--date", "2025-01-02")

    assert result.exit_code == 1
    assert "pack PP_2025-01-02 FAILED" in result.stderr
    assert "no price on 2025-01-02 for held securities: AAPL (" in result.stderr
    assert "no FX rate on 2025-01-02 for USD/CAD" in result.stderr
    listed = as_json(ok(sqlite_url, "pack", "list", "--format", "json"))
    assert [(p["pack_id"], p["status"]) for p in listed] == [
        ("PP_2025-01-02", "FAILED"),
        (PACK, "COMPLETE"),
    ]


def test_commands_on_an_uninitialised_database_exit_1_naming_foliodb_init(
    sqlite_url: str,
) -> None:
    result = foliodb(sqlite_url, "portfolio", "list")

    assert result.exit_code == 1
    assert "run `foliodb init`" in result.stderr


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("portfolio", "list", "--format", "xml"), "'xml' is not one of"),
        (("holdings", "Main", "--pack", PACK, "--date", "2024-12-31"), "give --pack or --date"),
        (("holdings", "Main", "--date", "31/12/2024"), "--date '31/12/2024' is not a date"),
        (("pack", "create", "--date", "2024-02-30"), "--date '2024-02-30' is not a date"),
        (("portfolio", "create", "Other", "--base", "XYZ"), "is not a known currency"),
    ],
)
def test_bad_options_exit_2_with_the_reason(
    sqlite_url: str, command: tuple[str, ...], message: str
) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "portfolio", "create", "Main")

    result = foliodb(sqlite_url, *command)

    assert result.exit_code == 2
    assert message in result.stderr


def test_owner_picks_between_two_users_portfolios_of_the_same_name(sqlite_url: str) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "portfolio", "create", "Main", "--owner", "alice@example.com")
    ok(sqlite_url, "portfolio", "create", "Main", "--owner", "bob@example.com", "--base", "CAD")

    shown = ok(
        sqlite_url, "portfolio", "show", "Main", "--owner", "bob@example.com", "--format", "json"
    )
    ambiguous = foliodb(sqlite_url, "lots", "Main")

    assert json.loads(shown.stdout)["base_currency"] == "CAD"
    assert ambiguous.exit_code == 1
    assert "several users" in ambiguous.stderr


def test_ledger_rebuild_exits_1_when_the_stored_state_differed(sqlite_url: str) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "portfolio", "create", "Main")
    ok(sqlite_url, "import", "fx", str(EXAMPLES / "fx.csv"))
    ok(sqlite_url, "import", "transactions", str(EXAMPLES / "transactions.csv"), "-p", "Main")
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("update cash_balances set balance = '1' where currency = 'USD'")
    engine.dispose()

    checked = foliodb(sqlite_url, "ledger", "rebuild", "Main", "--check")
    repaired = foliodb(sqlite_url, "ledger", "rebuild", "Main")
    clean = foliodb(sqlite_url, "ledger", "rebuild", "Main")

    assert checked.exit_code == 1
    assert "cash USD: stored 1, replayed" in checked.stdout
    assert "nothing was changed" in checked.stderr
    assert repaired.exit_code == 1
    assert "replaced by the replay" in repaired.stderr
    assert clean.exit_code == 0
    assert "identical" in clean.stdout


def test_ledger_reverse_appends_a_reversal_and_the_listing_keeps_both(db_url: str) -> None:
    ok(db_url, "init")
    ok(db_url, "portfolio", "create", "Main")
    ok(db_url, "import", "fx", str(EXAMPLES / "fx.csv"))
    ok(db_url, "import", "transactions", str(EXAMPLES / "transactions.csv"), "-p", "Main")
    listed = as_json(ok(db_url, "ledger", "transactions", "Main", "--format", "json"))
    dividend = next(t for t in listed if t["type"] == "DIVIDEND")
    reversed_ = ok(db_url, "ledger", "reverse", "Main", dividend["tx_id"], "--reason", "twice")
    assert f"{dividend['tx_id']} reversed by {dividend['tx_id']}~reversal" in reversed_.stdout
    after = as_json(ok(db_url, "ledger", "transactions", "Main", "--format", "json"))
    assert len(after) == len(listed) + 1
    entries = {t["tx_id"]: t for t in after}
    assert entries[dividend["tx_id"]]["status"] == "reversed"
    reversal = entries[dividend["tx_id"] + "~reversal"]
    assert (reversal["status"], reversal["reverses"], reversal["note"]) == (
        "reversal",
        dividend["tx_id"],
        "twice",
    )
    active = as_json(
        ok(db_url, "ledger", "transactions", "Main", "--status", "active", "-f", "json")
    )
    assert len(active) == len(listed) - 1
    assert foliodb(db_url, "ledger", "rebuild", "Main", "--check").exit_code == 0
    again = foliodb(db_url, "ledger", "reverse", "Main", dividend["tx_id"])
    assert again.exit_code == 1 and "reversed by" in again.stderr
    unknown = foliodb(db_url, "ledger", "transactions", "Main", "--status", "gone")
    assert unknown.exit_code == 2 and "active, reversed, reversal" in unknown.stderr


def test_db_may_come_before_the_command_and_be_a_plain_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    created = runner.invoke(app, ["--db", "books.db", "init"])
    made = runner.invoke(app, ["--db", "books.db", "portfolio", "create", "Main"])
    listed = runner.invoke(app, ["portfolio", "list", "--db", "books.db", "--format", "json"])

    assert created.exit_code == 0, created.output
    assert made.exit_code == 0, made.output
    assert [p["name"] for p in json.loads(listed.stdout)] == ["Main"]
    assert (tmp_path / "books.db").exists()


def test_a_carried_price_shows_its_own_date_in_the_holdings_table(
    sqlite_url: str, tmp_path: Path
) -> None:
    the_example_database(sqlite_url)
    files = CsvFiles(tmp_path)
    ok(
        sqlite_url,
        "import",
        "prices",
        str(files.prices([price("SHOP", "2025-01-02", "155", "CAD")])),
    )
    ok(sqlite_url, "import", "fx", str(files.fx([fx("2025-01-02", "USD", "CAD", "1.44")])))

    created = ok(sqlite_url, "pack", "create", "--date", "2025-01-02", "--carry-forward")
    table = ok(sqlite_url, "holdings", "Main").stdout
    year_end = ok(sqlite_url, "holdings", "Main", "--pack", PACK).stdout

    assert "carried forward: AAPL" in created.stdout
    assert "price_date" in table
    assert "2024-12-31" in table
    assert "price_date" not in year_end  # nothing carried: the compact columns


def test_nav_and_perf_show_the_history_and_its_returns(sqlite_url: str) -> None:
    the_example_database(sqlite_url)

    nav = as_json(ok(sqlite_url, "nav", "Main", "--format", "json"))
    perf = as_json(ok(sqlite_url, "perf", "Main", "--format", "json"))

    assert [(d["date"], d["pack_id"]) for d in nav] == [("2024-12-31", PACK)]
    assert {p["period"] for p in perf["periods"]} >= {"1D", "MTD", "YTD", "ITD"}
    assert "sharpe_ratio" in {m["metric"] for m in perf["metrics"]}


def test_report_writes_an_offline_html_tearsheet(sqlite_url: str, tmp_path: Path) -> None:
    the_example_database(sqlite_url)
    out = tmp_path / "main.html"

    written = ok(sqlite_url, "report", "Main", "--out", str(out), "--benchmark", "AAPL")
    unknown = foliodb(sqlite_url, "report", "Main", "--out", str(out), "--benchmark", "NOPE")

    assert str(out) in written.stdout
    page = out.read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in page
    assert unknown.exit_code == 1
    assert "'NOPE'" in unknown.stderr


def test_a_portfolio_benchmark_is_used_when_perf_names_none(sqlite_url: str) -> None:
    the_example_database(sqlite_url)

    set_ = ok(sqlite_url, "portfolio", "set-benchmark", "Main", "aapl")
    perf = as_json(ok(sqlite_url, "perf", "Main", "--format", "json"))
    unknown = foliodb(sqlite_url, "portfolio", "set-benchmark", "Main", "NOPE")
    removed = ok(sqlite_url, "portfolio", "set-benchmark", "Main")

    assert "benchmark AAPL" in set_.stdout
    assert "benchmark_return" in perf["periods"][0]
    assert unknown.exit_code == 1
    assert "no benchmark" in removed.stdout
