"""`foliodb data ...` and `foliodb pack create --from-bars`, typed the way a user types them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner, Result

import foliodb
from foliodb.cli.main import app
from tests.builders import CsvFiles, buy, deposit

from .conftest import BarFiles, add_security, minute_bars

runner = CliRunner(env={"COLUMNS": "250"})


def foliodb_cli(url: str, *args: str) -> Result:
    return runner.invoke(app, [*args, "--db", url])


def ok(url: str, *args: str) -> Result:
    result = foliodb_cli(url, *args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def vendor_file(bar_files: BarFiles) -> Path:
    """A vendor's daily file: its own column names, one bad row (high below close)."""
    rows = [
        {"Date": "2024-03-07", "Ticker": "AAPL", "O": "169.15", "H": "170.73", "L": "168.49",
         "C": "169.00", "Vol": "71765100"},
        {"Date": "2024-03-08", "Ticker": "AAPL", "O": "169.00", "H": "173.70", "L": "168.94",
         "C": "187.35", "Vol": "76114600"},
        {"Date": "2024-03-08", "Ticker": "MSFT", "O": "407.96", "H": "410.42", "L": "404.33",
         "C": "406.22", "Vol": "22211900"},
    ]  # fmt: skip
    return bar_files.csv(rows, columns=["Date", "Ticker", "O", "H", "L", "C", "Vol"])


MAP = ["--map", "Date=ts", "--map", "Ticker=symbol", "--map", "O=open", "--map", "H=high",
       "--map", "L=low", "--map", "C=close", "--map", "Vol=volume"]  # fmt: skip


def test_a_bad_row_refuses_the_load_naming_file_line_and_field(
    db: foliodb.Database, db_url: str, bar_files: BarFiles
) -> None:
    path = vendor_file(bar_files)

    result = foliodb_cli(db_url, "data", "import-bars", str(path), "--interval", "1d", *MAP)

    assert result.exit_code == 2
    assert f"{path}:3: field 'high' value '173.70': is below open, close or low" in result.stderr
    assert json.loads(ok(db_url, "data", "bars", "AAPL", "--format", "json").stdout) == []


def test_a_user_loads_queries_rolls_up_prunes_and_prices_from_bars(
    db: foliodb.Database, db_url: str, bar_files: BarFiles, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.csv"
    loaded = ok(
        db_url, "data", "import-bars", str(vendor_file(bar_files)), "--interval", "1d", *MAP,
        "--reject-file", str(rejects), "--source", "vendorx",
    )  # fmt: skip
    assert "3 1d bars read from 1 file: 2 inserted, 0 updated, 0 already present, 1 rejected" in (
        loaded.stdout
    )
    assert f"rejected rows written to {rejects}" in loaded.stdout
    with rejects.open(newline="") as handle:
        (rejected,) = csv.DictReader(handle)
    assert (rejected["Date"], rejected["C"], rejected["row"]) == ("2024-03-08", "187.35", "3")
    assert rejected["rule"] == "high: is below open, close or low"

    daily = json.loads(ok(db_url, "data", "bars", "aapl", "--format", "json").stdout)
    assert daily == [
        {"ts": "2024-03-07T00:00:00+00:00", "open": 169.15, "high": 170.73, "low": 168.49,
         "close": 169.0, "volume": 71765100.0, "vwap": None, "trades": None, "source": "vendorx"}
    ]  # fmt: skip

    minutes = minute_bars("AAPL", "2024-03-08 14:30", "2024-03-08 21:00")
    minutes[-1].update(open=187.30, high=187.40, low=187.20, close=187.35)
    ok(db_url, "data", "import-bars", str(bar_files.csv(minutes)), "-i", "1m")
    again = ok(db_url, "data", "import-bars", str(bar_files.csv(minutes)), "-i", "1m")
    assert "390 1m bars read from 1 file: 0 inserted, 0 updated, 390 already present" in (
        again.stdout
    )
    table = ok(db_url, "data", "bars", "AAPL", "--start", "2024-03-08", "--end", "2024-03-08")
    assert "187.35" in table.stdout and "rollup" in table.stdout
    as_csv = list(
        csv.DictReader(
            io.StringIO(ok(db_url, "data", "bars", "AAPL", "-f", "csv", "-i", "1h").stdout)
        )
    )
    assert [r["ts"][11:16] for r in as_csv] == [f"{h}:00" for h in range(14, 21)]
    rebuilt = ok(db_url, "data", "rollup", "AAPL", "--interval", "1d")
    assert rebuilt.stdout.strip() == "roll-up 1d: 1 buckets, 0 bars written"

    add_security(db, "AAPL", "XNYS")
    db.create_portfolio("Main", base_currency="USD")
    files = CsvFiles(tmp_path)
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("T0", "2024-03-01", "20000", "USD"),
                buy("T1", "2024-03-04", "AAPL", "10", "170", "USD"),
            ]
        ),
    )
    sealed = ok(db_url, "pack", "create", "--date", "2024-03-08", "--from-bars")
    assert sealed.stdout.startswith("sealed PP_2024-03-08: 1 prices, 0 FX rates")
    holdings = json.loads(ok(db_url, "holdings", "Main", "--format", "json").stdout)
    assert [(p["symbol"], p["price"], p["market_value_base"]) for p in holdings["positions"]] == [
        ("AAPL", "187.35", "1873.5")
    ]

    pruned = ok(db_url, "data", "retention", "--interval", "1m", "--before", "2024-03-09")
    assert "1m bars before 2024-03-09 00:00 UTC:" in pruned.stdout
    assert json.loads(ok(db_url, "data", "bars", "AAPL", "-i", "1m", "-f", "json").stdout) == []
    refused = foliodb_cli(db_url, "data", "retention", "--interval", "1m", "--older-than", "soon")
    assert refused.exit_code == 2 and "field 'older_than' value 'soon'" in refused.stderr
