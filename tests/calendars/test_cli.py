"""`foliodb calendar ...` and `foliodb data gaps`, driven the way a user types them.

The end-to-end session runs on SQLite and PostgreSQL, the rest on SQLite. Expected times are
worked by hand (XNYS 09:30-16:00 New York, 13:00 on Black Friday; XHKG lunch 12:00-13:00).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from typer.testing import CliRunner, Result

import foliodb
from foliodb.cli.main import app
from tests.calendars.builders import (
    EXCHANGE_CALENDARS_WARNINGS,
    add_bars,
    add_daily_bars,
    add_security,
    minutes,
)

pytestmark = EXCHANGE_CALENDARS_WARNINGS

runner = CliRunner(env={"COLUMNS": "250"})


def run(url: str, *args: str) -> Result:
    return runner.invoke(app, [*args, "--db", url])


def ok(url: str, *args: str) -> Result:
    result = run(url, *args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_a_user_seeds_calendars_and_asks_about_sessions(db_url: str) -> None:
    ok(db_url, "init")
    seeded = as_json(
        ok(
            db_url,
            "calendar",
            "seed",
            "XNYS",
            "XHKG",
            "--start",
            "2023-11-01",
            "--end",
            "2024-03-31",
            "-f",
            "json",
        )
    )
    assert [(s["exchange"], s["window_start"], s["window_end"]) for s in seeded] == [
        ("XNYS", "2023-11-01", "2024-03-31"),
        ("XHKG", "2023-11-01", "2024-03-31"),
    ]
    listed = as_json(ok(db_url, "calendar", "list", "-f", "json"))
    assert [(e["code"], e["timezone"]) for e in listed] == [
        ("XHKG", "Asia/Hong_Kong"),
        ("XNYS", "America/New_York"),
    ]

    days = as_json(
        ok(
            db_url,
            "calendar",
            "sessions",
            "XNYS",
            "--start",
            "2023-11-22",
            "--end",
            "2023-11-24",
            "-f",
            "json",
        )
    )
    assert [d["session"] for d in days] == ["2023-11-22", "2023-11-24"]  # not Thanksgiving
    friday = days[1]
    assert friday["kind"] == "EARLY_CLOSE"
    assert friday["open_local"] == "2023-11-24T09:30:00-05:00"
    assert friday["close_local"] == "2023-11-24T13:00:00-05:00"
    assert friday["close_utc"] == "2023-11-24T18:00:00+00:00"
    assert friday["break_start_utc"] is None

    lunch = as_json(
        ok(db_url, "calendar", "is-open", "XHKG", "--at", "2024-02-08T12:30+08:00", "-f", "json")
    )
    assert (lunch["is_open"], lunch["state"], lunch["session"]) == (False, "BREAK", "2024-02-08")
    assert lunch["at_utc"] == "2024-02-08T04:30:00+00:00"
    assert lunch["break_end_local"] == "2024-02-08T13:00:00+08:00"
    assert lunch["next_close_local"] == "2024-02-08T16:00:00+08:00"

    following = as_json(
        ok(db_url, "calendar", "next-open", "XNYS", "--after", "2023-11-22T21:00", "-f", "json")
    )
    assert following["session"] == "2023-11-24"
    assert following["next_open_local"] == "2023-11-24T09:30:00-05:00"
    assert following["next_open_utc"] == "2023-11-24T14:30:00+00:00"


def test_tables_show_local_and_utc_clock_times(sqlite_url: str) -> None:
    ok(sqlite_url, "init")
    ok(sqlite_url, "calendar", "seed", "XHKG", "--start", "2024-02-01", "--end", "2024-02-29")
    table = ok(
        sqlite_url, "calendar", "sessions", "XHKG", "--start", "2024-02-08", "--end", "2024-02-09"
    ).stdout
    assert "XHKG sessions 2024-02-08 to 2024-02-09 (local: Asia/Hong_Kong)" in table
    lines = [line for line in table.splitlines() if "2024-02-0" in line and "│" in line]
    cells = [[c.strip() for c in line.strip("│ ").split("│")] for line in lines]
    # session, kind, open, break start, break end, close: local, then the same in UTC
    local = [["2024-02-08", "REGULAR", "09:30", "12:00", "13:00", "16:00"]]
    local += [["2024-02-09", "EARLY_CLOSE", "09:30", "", "", "12:00"]]
    utc = [["01:30", "04:00", "05:00", "08:00"], ["01:30", "", "", "04:00"]]
    assert cells == [day + in_utc for day, in_utc in zip(local, utc, strict=True)]
    status = ok(sqlite_url, "calendar", "is-open", "XHKG", "--at", "2024-02-08T02:00").stdout
    assert "2024-02-08 10:00 HKT" in status
    assert "2024-02-08 02:00 UTC" in status
    assert "OPEN" in status


def test_data_gaps_lists_runs_in_json_and_csv(sqlite_url: str) -> None:
    ok(sqlite_url, "init")
    with foliodb.connect(sqlite_url) as db:
        db.calendars.seed(["XNYS"], "2023-11-01", "2023-11-30")
        add_security(db, "ABC", "XNYS")
        add_daily_bars(db, "ABC", ["2023-11-20", "2023-11-21", "2023-11-27"])
        add_security(db, "MIN", "XNYS")
        add_bars(db, "MIN", "1m", minutes("2023-11-24T14:30", "2023-11-24T14:40"))
        add_bars(db, "MIN", "1m", minutes("2023-11-24T14:45", "2023-11-24T17:59"))
    daily = as_json(ok(sqlite_url, "data", "gaps", "ABC", "-f", "json"))
    assert daily["interval"] == "1d"
    assert (daily["expected"], daily["missing"]) == (5, 2)
    assert daily["gaps"] == [
        {"first_missing": "2023-11-22", "last_missing": "2023-11-24", "count": 2}
    ]
    text = ok(sqlite_url, "data", "gaps", "MIN", "--interval", "1m", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {
            "first_missing": "2023-11-24T14:41:00+00:00",
            "last_missing": "2023-11-24T14:44:00+00:00",
            "first_missing_local": "2023-11-24T09:41:00-05:00",
            "last_missing_local": "2023-11-24T09:44:00-05:00",
            "count": "4",
        }
    ]


def test_mistakes_are_refused_with_the_reason(sqlite_url: str) -> None:
    ok(sqlite_url, "init")
    unknown = run(sqlite_url, "calendar", "is-open", "NOPE")
    assert unknown.exit_code == 2
    assert "'NOPE': is not an exchange foliodb knows; known: " in unknown.stderr
    assert "XNYS" in unknown.stderr
    bad_time = run(sqlite_url, "calendar", "next-open", "XNYS", "--after", "noon")
    assert bad_time.exit_code == 2
    assert "is not a date and time" in bad_time.stderr
    no_symbol = run(sqlite_url, "data", "gaps", "ZZZ")
    assert no_symbol.exit_code == 1
    assert "unknown symbol ZZZ" in no_symbol.stderr
    bad_date = run(sqlite_url, "calendar", "sessions", "XNYS", "--start", "2024-13-01")
    assert bad_date.exit_code == 2
    assert "--start '2024-13-01' is not a date" in bad_date.stderr
