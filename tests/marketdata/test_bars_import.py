"""Bulk import of OHLCV bars: every bad row named, all or nothing, idempotent, conflict rules,
Parquet and column maps. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import foliodb
from foliodb.errors import InputError

from .conftest import BarFiles, minute_bars, stored

GOOD = {
    "symbol": "AAPL",
    "ts": "2024-03-04T14:30:00Z",
    "open": "175.10",
    "high": "175.50",
    "low": "174.90",
    "close": "175.35",
    "volume": "1200",
    "vwap": "175.2",
    "trades": "31",
}


def bar(**changes: str) -> dict[str, str]:
    return {**GOOD, **changes}


def where(error: InputError) -> set[tuple[str | None, int | None, str | None]]:
    return {(Path(p.file).name if p.file else None, p.line, p.field) for p in error.problems}


def test_a_file_of_valid_bars_is_stored_as_written(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    rows = minute_bars("AAPL", "2024-03-04 14:30", "2024-03-04 14:40")
    path = bar_files.csv(rows)

    result = db.bars.import_files([path], "1m", source="vendorx", rollup=False)

    assert (result.rows_read, result.inserted, result.updated, result.skipped) == (10, 10, 0, 0)
    assert result.rejected == 0 and result.seconds > 0 and result.rows_per_s > 0
    frame = db.bars.query("AAPL", "1m", "2024-03-04", "2024-03-04")
    assert list(frame.index.strftime("%Y-%m-%dT%H:%M:%SZ")) == [r["ts"] for r in rows]
    assert list(frame["close"]) == [r["close"] for r in rows]
    assert list(frame["trades"]) == [r["trades"] for r in rows]
    assert set(frame["source"]) == {"vendorx"}
    latest = db.bars.latest("aapl", "1m")
    assert latest is not None
    assert latest.ts == dt.datetime(2024, 3, 4, 14, 39, tzinfo=dt.UTC)
    assert latest.close == rows[-1]["close"]


def test_every_invalid_row_is_named_and_nothing_is_written(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    path = bar_files.csv(
        [
            bar(),  # line 2: fine
            bar(ts="2024-03-04T14:31:00Z", open="0"),  # line 3: price not > 0
            bar(ts="2024-03-04T14:32:00Z", high="175.00"),  # line 4: high below close
            bar(ts="2024-03-04T14:33:00Z", low="175.20"),  # line 5: low above open
            bar(ts="2024-03-04T14:34:00Z", volume="-5"),  # line 6: negative volume
            bar(ts="2024-03-04T14:35:30Z"),  # line 7: not on a minute
            bar(ts="yesterday"),  # line 8: not a timestamp
            bar(ts="2024-03-04T14:30:00Z"),  # line 9: repeats line 2
            bar(ts="2024-03-04T14:36:00Z", symbol=""),  # line 10: no symbol
            bar(ts="2024-03-04T14:37:00Z", close="abc"),  # line 11: not a number
            bar(ts="2024-03-04T14:38:00Z", trades="2.5"),  # line 12: not a whole number
        ]
    )

    with pytest.raises(InputError) as caught:
        db.bars.import_files([path], "1m")

    name = path.name
    assert where(caught.value) == {
        (name, 3, "open"),
        (name, 4, "high"),
        (name, 5, "low"),
        (name, 6, "volume"),
        (name, 7, "ts"),
        (name, 8, "ts"),
        (name, 9, "ts"),
        (name, 10, "symbol"),
        (name, 11, "close"),
        (name, 12, "trades"),
    }
    message = str(caught.value)
    assert f"{path}:3: field 'open' value '0': must be greater than zero" in message
    assert f"{path}:4: field 'high' value '175.00': is below open, close or low" in message
    assert (
        f"{path}:7: field 'ts' value '2024-03-04T14:35:30Z': is not aligned to 1m bars" in message
    )
    assert (
        f"{path}:9: field 'ts'" in message and f"repeats the symbol and ts of {path}:2" in message
    )
    assert f"{path}:11: field 'close' value 'abc': is not a number" in message
    assert stored(db) == []


def test_the_reject_file_takes_the_bad_rows_and_the_good_ones_load(
    db: foliodb.Database, bar_files: BarFiles, tmp_path: Path
) -> None:
    path = bar_files.csv(
        [
            bar(),
            bar(ts="2024-03-04T14:31:00Z", low="-1"),
            bar(ts="2024-03-04T14:32:00Z"),
            bar(ts="2024-03-04T14:33:00Z", high="170", volume="-1"),
        ]
    )
    rejects = tmp_path / "rejects.csv"

    result = db.bars.import_files([path], "1m", reject_file=rejects, rollup=False)

    assert (result.rows_read, result.inserted, result.rejected) == (4, 2, 2)
    assert [row[2] for row in stored(db)] == [
        dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 4, 14, 32, tzinfo=dt.UTC),
    ]
    with rejects.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == [*GOOD, "file", "row", "rule"]
    assert [(r["ts"], r["low"], r["file"], r["row"]) for r in written] == [
        ("2024-03-04T14:31:00Z", "-1", str(path), "3"),
        ("2024-03-04T14:33:00Z", "174.90", str(path), "5"),
    ]
    assert written[0]["rule"] == "low: must be greater than zero"
    assert written[1]["rule"] == ("high: is below open, close or low; volume: must not be negative")


def test_importing_the_same_file_again_changes_nothing(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    path = bar_files.csv(minute_bars("MSFT", "2024-03-04 14:30", "2024-03-04 15:30"))
    db.bars.import_files([path], "1m")
    before = stored(db)

    again = db.bars.import_files([path], "1m")
    updating = db.bars.import_files([path], "1m", on_conflict="update")
    strict = db.bars.import_files([path], "1m", on_conflict="error")

    for result in (again, updating, strict):
        assert (result.inserted, result.updated, result.skipped) == (0, 0, 60)
        assert all(r.written == 0 for r in result.rollups)
    assert stored(db) == before


def test_conflicting_bars_are_kept_replaced_or_refused_as_asked(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    first = bar_files.csv([bar(), bar(ts="2024-03-04T14:31:00Z")])
    db.bars.import_files([first], "1m", source="a", rollup=False)
    revised = bar_files.csv(
        [bar(close="175.40"), bar(ts="2024-03-04T14:31:00Z"), bar(ts="2024-03-04T14:32:00Z")]
    )

    with pytest.raises(InputError) as caught:
        db.bars.import_files([revised], "1m", on_conflict="error", rollup=False)
    assert where(caught.value) == {(revised.name, 2, "ts")}
    assert "a different bar is already stored" in str(caught.value)
    assert len(stored(db)) == 2  # the refused load wrote nothing, not even its new bar

    skipped = db.bars.import_files([revised], "1m", source="b", rollup=False)
    assert (skipped.inserted, skipped.updated, skipped.skipped) == (1, 0, 2)
    assert [(r[6], r[10]) for r in stored(db)] == [(175.35, "a"), (175.35, "a"), (175.35, "b")]

    updated = db.bars.import_files([revised], "1m", source="c", on_conflict="update")
    assert (updated.inserted, updated.updated, updated.skipped) == (0, 1, 2)
    assert [(r[6], r[10]) for r in stored(db, "1m")] == [
        (175.40, "c"),
        (175.35, "a"),
        (175.35, "b"),
    ]


def test_timestamps_in_every_accepted_form_name_the_same_instant(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    forms = [
        "2024-03-04T14:30:00Z",
        "2024-03-04 09:31:00-05:00",  # New York's local time with its offset
        "2024-03-04T14:32:00",  # naive: UTC
        "1709562780",  # epoch seconds: 14:33
        "1709562840000",  # epoch milliseconds: 14:34
        "2024-03-04T15:35:00+01:00",
    ]
    rows = [bar(symbol=f"S{i}", ts=ts) for i, ts in enumerate(forms)]

    db.bars.import_files([bar_files.csv(rows)], "1m", rollup=False)

    assert [(r[0], r[2].astimezone(dt.UTC).strftime("%H:%M")) for r in stored(db)] == [
        ("S0", "14:30"), ("S1", "14:31"), ("S2", "14:32"), ("S3", "14:33"), ("S4", "14:34"),
        ("S5", "14:35"),
    ]  # fmt: skip


def test_daily_bars_are_dated_at_midnight_utc_of_the_session(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    rows = [bar(ts="2024-03-04"), bar(ts="2024-03-05T00:00:00Z"), bar(ts="2024-03-06T05:00:00Z")]

    with pytest.raises(InputError) as caught:
        db.bars.import_files([bar_files.csv(rows)], "1d")

    (problem,) = caught.value.problems
    assert (problem.line, problem.field, problem.value) == (4, "ts", "2024-03-06T05:00:00Z")
    assert "00:00 UTC of the session date" in str(problem)


def test_parquet_with_vendor_column_names_is_read_through_the_map(
    db: foliodb.Database, tmp_path: Path
) -> None:
    path = tmp_path / "vendor.parquet"
    stamps = [
        dt.datetime(2024, 3, 4, 9, 30 + i, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        for i in range(3)
    ]
    table = pa.table(
        {
            "Ticker": ["ibm", "ibm", "ibm"],
            "Time": pa.array(stamps, pa.timestamp("ms", tz="America/New_York")),
            "O": [190.0, 190.5, 191.0],
            "H": [190.6, 191.0, 191.2],
            "L": [189.9, 190.4, 190.8],
            "C": [190.5, 190.9, 191.1],
            "Vol": pa.array([100, 0, 250], pa.int64()),
            "Exchange": ["XNYS"] * 3,
        }
    )
    pq.write_table(table, path)
    mapping = {
        "Ticker": "symbol", "Time": "ts", "O": "open", "H": "high", "L": "low", "C": "close",
        "Vol": "volume", "Exchange": "-",
    }  # fmt: skip

    result = db.bars.import_files([path], "1m", column_map=mapping, rollup=False)

    assert result.inserted == 3
    frame = db.bars.query("IBM", "1m")
    assert list(frame.index.strftime("%H:%M")) == ["14:30", "14:31", "14:32"]
    assert list(frame["close"]) == [190.5, 190.9, 191.1]
    assert frame["vwap"].isna().all() and frame["trades"].isna().all()


def test_the_map_is_given_as_the_cli_writes_it_and_a_file_without_symbols_takes_one(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    rows = [{"Date": "2024-03-04", "Open": 10, "High": 11, "Low": 9, "Close": 10.5, "Volume": 7}]
    path = bar_files.csv(rows, columns=["Date", "Open", "High", "Low", "Close", "Volume"])

    result = db.bars.import_files([path], "1d", column_map=["Date=ts"], symbol="spy", rollup=False)

    assert result.inserted == 1
    (row,) = stored(db)
    assert (
        row[:3] == ("SPY", "1d", row[2]) and row[2].strftime("%Y-%m-%d %H:%M") == "2024-03-04 00:00"
    )


def test_unknown_or_missing_columns_refuse_the_file_with_a_hint(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    rows = [
        {"symbol": "A", "ts": "2024-03-04T14:30:00Z", "open": 1, "hihg": 1, "low": 1, "close": 1}
    ]
    path = bar_files.csv(rows, columns=["symbol", "ts", "open", "hihg", "low", "close"])

    with pytest.raises(InputError) as caught:
        db.bars.import_files([path], "1m")

    problems = {(p.field, p.message): p.expected for p in caught.value.problems}
    assert "did you mean 'high'?" in (problems[("hihg", "unknown column")] or "")
    assert ("high", "required column is missing") in problems
    assert ("volume", "required column is missing") in problems
    assert stored(db) == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"interval": "2m"}, "interval"),
        ({"on_conflict": "replace"}, "on_conflict"),
        ({"source": "rollup"}, "source"),
        ({"column_map": ["no-equals-sign"]}, "--map"),
        ({"column_map": ["Close=closing"]}, "--map"),
    ],
)
def test_nonsense_arguments_are_refused_by_name(
    db: foliodb.Database, bar_files: BarFiles, arguments: dict[str, object], field: str
) -> None:
    path = bar_files.csv([bar()])
    options: dict[str, object] = {"interval": "1m", **arguments}

    with pytest.raises(InputError) as caught:
        db.bars.import_files([path], **options)  # type: ignore[arg-type]

    assert caught.value.problems[0].field == field
    assert stored(db) == []


def test_a_load_with_many_bad_rows_names_the_first_hundred_and_counts_the_rest(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    rows = [bar(ts=f"2024-03-04T15:{m:02d}:00Z", volume="-1") for m in range(60)]
    rows += [bar(ts=f"2024-03-04T16:{m:02d}:00Z", open="-2") for m in range(60)]

    with pytest.raises(InputError) as caught:
        db.bars.import_files([bar_files.csv(rows)], "1m")

    problems = caught.value.problems
    assert len(problems) == 101
    assert problems[-1].message.startswith("... and 20 more problems (120 bad rows in all;")
    assert [p.line for p in problems[:3]] == [2, 3, 4]


def test_progress_is_reported_by_stage(db: foliodb.Database, bar_files: BarFiles) -> None:
    path = bar_files.csv(minute_bars("AAPL", "2024-03-04 14:30", "2024-03-04 15:30"))
    seen: list[tuple[str, int, int]] = []

    db.bars.import_files([path], "1m", progress=lambda *event: seen.append(event))

    stages = list(dict.fromkeys(stage for stage, _, _ in seen))
    assert stages == [
        f"reading {path.name}", "checking", "writing", "rolling up 5m", "rolling up 15m",
        "rolling up 1h", "rolling up 1d",
    ]  # fmt: skip
    assert ("writing", 60, 60) in seen
