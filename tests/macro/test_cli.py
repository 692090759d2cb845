"""`foliodb macro ...` driven the way a user types it (SQLite; the API tests cover PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from foliodb.cli.main import app
from tests.macro.fred_server import Canned, fake_fred, observations_json, series_json
from tests.macro.test_regimes import alfred_file, macro_levels
from tests.macro.test_series import GDP_VINTAGES

runner = CliRunner(env={"COLUMNS": "250"})


def foliodb(url: str, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
    return runner.invoke(app, [*args, "--db", url], env=env)


def ok(url: str, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
    result = foliodb(url, *args, env=env)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_a_user_imports_vintages_and_asks_what_was_known_on_a_date(
    sqlite_url: str, tmp_path: Path
) -> None:
    gdp = tmp_path / "gdp.csv"
    gdp.write_text(GDP_VINTAGES)
    ok(sqlite_url, "init")

    first = ok(sqlite_url, "macro", "import", str(gdp), "--code", "GDPC1", "--title", "Real GDP")
    again = ok(sqlite_url, "macro", "import", str(gdp), "--code", "GDPC1")
    listed = as_json(ok(sqlite_url, "macro", "list", "-f", "json"))
    then = as_json(
        ok(sqlite_url, "macro", "series", "GDPC1", "--as-of", "2024-01-25", "-f", "json")
    )
    latest = ok(sqlite_url, "macro", "series", "gdpc1", "-f", "csv").stdout
    table = ok(sqlite_url, "macro", "series", "GDPC1", "--as-of", "2024-03-28").stdout

    assert f"{gdp}: GDPC1, 6 observations, 6 periods added" in first.stdout
    assert "0 periods added (nothing new)" in again.stdout
    assert [(s["code"], s["title"], s["frequency"], s["dates"], s["vintages"]) for s in listed] == [
        ("GDPC1", "Real GDP", "Q", 2, 6)
    ]
    assert then == [
        {"date": "2023-07-01", "value": 22506.5},
        {"date": "2023-10-01", "value": 22672.9},
    ]
    assert latest == "date,value\n2023-07-01,22490.7\n2023-10-01,22679.2\n"
    assert "GDPC1 as known on 2024-03-28" in table and "22,679.200000" in table


def test_a_bad_file_exits_2_naming_file_line_field_and_value(
    sqlite_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "rates.csv"
    bad.write_text("observation_date,DGS10\n2024-01-02,3.95\n2024-01-03,4..1\n")
    ok(sqlite_url, "init")

    result = foliodb(sqlite_url, "macro", "import", str(bad))
    missing = foliodb(sqlite_url, "macro", "series", "DGS10")
    future = foliodb(sqlite_url, "macro", "import", str(bad), "--known-since", "2999-01-01")

    assert result.exit_code == 2
    assert f"{bad}:3: field 'DGS10' value '4..1': is not a number" in result.stderr
    assert missing.exit_code == 1 and "no economic series 'DGS10'" in missing.stderr
    assert future.exit_code == 2 and "field 'known_since' value '2999-01-01'" in future.stderr


def test_indicators_and_regimes_are_shown_from_the_command_line(
    sqlite_url: str, tmp_path: Path
) -> None:
    gdp, cpi = macro_levels()
    ok(sqlite_url, "init")
    ok(sqlite_url, "macro", "import", str(alfred_file(tmp_path / "g.csv", gdp)), "--code", "GDPC1")
    ok(
        sqlite_url,
        "macro",
        "import",
        str(alfred_file(tmp_path / "c.csv", cpi)),
        "--code",
        "CPIAUCSL",
    )

    yoy = as_json(
        ok(
            sqlite_url,
            "macro",
            "indicator",
            "yoy",
            "GDPC1",
            "--start",
            "1974-10-01",
            "--end",
            "1974-10-01",
            "-f",
            "json",
        )
    )
    regime = as_json(
        ok(sqlite_url, "macro", "regime", "--as-of", "1975-12-31", "--last", "3", "-f", "json")
    )
    wrong = foliodb(sqlite_url, "macro", "indicator", "slope")

    assert [p["date"] for p in yoy] == ["1974-10-01"]
    assert round(yoy[0]["value"], 4) == -1.9929
    # 1975 Q3 was published on 1975-11-01: its three months are the last known.
    assert [(r["month"], r["regime"]) for r in regime] == [
        ("1975-07-01", "STAGFLATION"),
        ("1975-08-01", "STAGFLATION"),
        ("1975-09-01", "STAGFLATION"),
    ]
    assert 0 < regime[0]["confidence"] < 1
    assert wrong.exit_code == 2


def test_fetch_reads_the_key_and_url_from_the_environment_and_never_prints_the_key(
    sqlite_url: str,
) -> None:
    key = "0123456789abcdef0123456789abcdef"
    ok(sqlite_url, "init")
    with fake_fred() as server:
        server.answer(
            "series", "DGS10", Canned(200, series_json("DGS10", "10-Year", "D", "Percent"))
        )
        server.answer(
            "series/observations",
            "DGS10",
            Canned(200, observations_json([("2024-04-01", "2024-04-01", "2024-03-28", "4.20")])),
        )
        server.answer(
            "series", "NOPE", Canned(400, {"error_message": "The series does not exist."})
        )
        env = {
            "FOLIODB_FRED_API_KEY": key,
            "FOLIODB_FRED_URL": server.url,
            "FOLIODB_LOG_LEVEL": "DEBUG",
        }

        fetched = ok(sqlite_url, "macro", "fetch", "DGS10", "--start", "2024-01-01", env=env)
        refused = foliodb(sqlite_url, "macro", "fetch", "NOPE", env=env)
        no_key = foliodb(
            sqlite_url,
            "macro",
            "fetch",
            "DGS10",
            env={"FOLIODB_FRED_API_KEY": None, "FOLIODB_FRED_URL": server.url},
        )

    assert "FRED DGS10: DGS10, 1 observations, 1 periods added" in fetched.stdout
    assert server.calls("series/observations")[0]["api_key"] == key
    assert refused.exit_code == 2 and "field 'code' value 'NOPE'" in refused.stderr
    assert no_key.exit_code == 2 and "FOLIODB_FRED_API_KEY" in no_key.stderr
    for result in (fetched, refused, no_key):
        assert key not in result.stdout and key not in result.stderr
    points = as_json(
        ok(sqlite_url, "macro", "series", "DGS10", "--as-of", "2024-04-01", "-f", "json")
    )
    assert points == [{"date": "2024-03-28", "value": 4.2}]
