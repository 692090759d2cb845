"""Roll-ups of one-minute bars into 5m, 15m, 1h and 1d bars, checked against pandas resample of
the same bars (computed here, not by foliodb), kept up to date by each load, including a
backfill below the watermark; vendor bars are never replaced by roll-ups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import foliodb

from .conftest import BarFiles, Row, add_security, minute_bars, stored

NY = "America/New_York"
# 2024-11-27: a regular session, 09:30-16:00 New York (14:30-21:00 UTC), with pre-market bars
# from 08:00 and evening bars past midnight UTC (still the 27th in New York). 2024-11-29: the
# early close after Thanksgiving, 09:30-13:00 (14:30-18:00 UTC). Some minutes are missing.
MISSING = ["2024-11-27 14:31", "2024-11-27 15:00", "2024-11-27 15:01", "2024-11-29 17:59"]


def session_bars(symbol: str, seed: int = 1) -> list[Row]:
    return (
        minute_bars(symbol, "2024-11-27 13:00", "2024-11-27 21:00", seed, MISSING)
        + minute_bars(symbol, "2024-11-28 00:00", "2024-11-28 00:45", seed, with_vwap=False)
        + minute_bars(symbol, "2024-11-29 14:30", "2024-11-29 18:00", seed, MISSING)
    )


def expected(rows: list[Row], target: str, tz: str = "UTC") -> pd.DataFrame:
    """pandas' answer: resample per symbol (left-labelled, left-closed), empty buckets
    dropped; daily buckets are the local dates of `tz`, labelled 00:00 UTC."""
    frame = pd.DataFrame(rows)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["pv"] = frame["vwap"].astype(float).fillna(frame["close"]) * frame["volume"]
    frame = frame.set_index("ts").sort_index()
    rules = {
        "open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum",
        "trades": "sum", "pv": "sum",
    }  # fmt: skip
    if target == "1d":
        local = frame.index.tz_convert(tz).tz_localize(None).normalize()
        out = frame.groupby(local).agg({**rules, "symbol": "count"})
        out.index = out.index.tz_localize("UTC")
    else:
        freq = {"5m": "5min", "15m": "15min", "1h": "1h"}[target]
        out = frame.resample(freq, label="left", closed="left").agg({**rules, "symbol": "count"})
    out = out[out["symbol"] > 0]
    out["vwap"] = (out["pv"] / out["volume"]).where(out["volume"] > 0)
    out.index.name = "ts"
    return out[["open", "high", "low", "close", "volume", "vwap", "trades"]]


def assert_same_bars(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.index) == list(want.index)
    for column in ("open", "high", "low", "close", "volume"):
        assert got[column].tolist() == want[column].tolist(), column
    assert got["trades"].astype("int64").tolist() == want["trades"].astype("int64").tolist()
    np.testing.assert_allclose(
        got["vwap"].to_numpy(float), want["vwap"].to_numpy(float), rtol=1e-12
    )


def rolled(db: foliodb.Database, symbol: str, interval: str) -> pd.DataFrame:
    frame = db.bars.query(symbol, interval)
    assert set(frame["source"]) <= {"rollup"}
    return frame


def watermark(db: foliodb.Database, symbol: str, interval: str) -> dt.datetime:
    with db.engine.connect() as connection:
        value = connection.execute(
            sa.text(
                'SELECT watermark FROM bar_rollup_watermarks WHERE symbol = :s AND "interval" = :i'
            ),
            {"s": symbol, "i": interval},
        ).scalar_one()
    if isinstance(value, str):  # SQLite keeps naive UTC text
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def test_roll_ups_equal_pandas_resample_of_the_same_bars(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    add_security(db, "AAPL", "XNYS")  # days by New York's date
    aapl, xyz = session_bars("AAPL"), session_bars("XYZ", seed=2)  # XYZ: no security, UTC days

    result = db.bars.import_files([bar_files.csv(aapl + xyz)], "1m")

    assert [r.interval for r in result.rollups] == ["5m", "15m", "1h", "1d"]
    for target in ("5m", "15m", "1h"):
        assert_same_bars(rolled(db, "AAPL", target), expected(aapl, target))
        assert_same_bars(rolled(db, "XYZ", target), expected(xyz, target))
    assert_same_bars(rolled(db, "AAPL", "1d"), expected(aapl, "1d", NY))
    assert_same_bars(rolled(db, "XYZ", "1d"), expected(xyz, "1d"))
    # The evening bars after midnight UTC belong to New York's 27th, and to UTC's 28th.
    assert [ts.date().isoformat() for ts in rolled(db, "AAPL", "1d").index] == [
        "2024-11-27",
        "2024-11-29",
    ]
    assert len(rolled(db, "XYZ", "1d")) == 3
    hourly = rolled(db, "AAPL", "1h")
    early_close = hourly[hourly.index >= "2024-11-29"]
    assert early_close.index[-1].hour == 17  # the 13:00 New York close ends the session
    assert watermark(db, "AAPL", "1d") == dt.datetime(2024, 11, 29, 17, 58, tzinfo=dt.UTC)


def test_a_backfill_below_the_watermark_recomputes_just_its_buckets(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    add_security(db, "AAPL", "XNYS")
    bars = session_bars("AAPL")
    late = [r for r in bars if r["ts"] >= "2024-11-29"]
    early = [r for r in bars if r["ts"] < "2024-11-29"]
    db.bars.import_files([bar_files.csv(late)], "1m")
    mark = watermark(db, "AAPL", "1d")
    late_day = rolled(db, "AAPL", "1d")

    backfill = db.bars.import_files([bar_files.csv(early)], "1m")

    daily = {r.interval: r for r in backfill.rollups}["1d"]
    assert (daily.buckets, daily.written, daily.backfilled) == (1, 1, 1)
    assert watermark(db, "AAPL", "1d") == mark  # a backfill does not move it
    assert_same_bars(rolled(db, "AAPL", "1d"), expected(bars, "1d", NY))
    daily_bars = rolled(db, "AAPL", "1d")
    pd.testing.assert_frame_equal(daily_bars[daily_bars.index >= "2024-11-29"], late_day)

    # The missing minutes arrive late: their buckets (and only those) change.
    filled = minute_bars("AAPL", "2024-11-27 13:00", "2024-11-27 21:00", 1)
    gap = [r for r in filled if r["ts"][:16].replace("T", " ") in MISSING[:3]]
    before = rolled(db, "AAPL", "5m")
    again = db.bars.import_files([bar_files.csv(gap)], "1m")

    counts = {r.interval: (r.buckets, r.written, r.backfilled) for r in again.rollups}
    assert counts == {"5m": (2, 2, 2), "15m": (2, 2, 2), "1h": (2, 2, 2), "1d": (1, 1, 1)}
    everything = sorted(bars + gap, key=lambda r: r["ts"])
    for target in ("5m", "15m", "1h"):
        assert_same_bars(rolled(db, "AAPL", target), expected(everything, target))
    assert_same_bars(rolled(db, "AAPL", "1d"), expected(everything, "1d", NY))
    after = rolled(db, "AAPL", "5m")
    changed = after.index[(after != before).any(axis=1)]
    assert [ts.strftime("%H:%M") for ts in changed] == ["14:30", "15:00"]


def test_a_vendor_bar_is_never_replaced_by_a_roll_up_but_replaces_one(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    bars = minute_bars("SPY", "2024-11-27 14:30", "2024-11-27 21:00")
    daily = {"symbol": "SPY", "ts": "2024-11-27", "open": 1, "high": 3, "low": 1, "close": 2,
             "volume": 10, "vwap": None, "trades": None}  # fmt: skip
    db.bars.import_files([bar_files.csv([daily])], "1d", source="vendor")

    db.bars.import_files([bar_files.csv(bars)], "1m")
    db.bars.rollup(["SPY"])

    kept = db.bars.query("SPY", "1d")
    assert kept[["open", "close", "source"]].values.tolist() == [[1.0, 2.0, "vendor"]]
    assert len(rolled(db, "SPY", "1h")) == 7

    # The other way round: a vendor's 1d bar arriving after the roll-up replaces it.
    other = minute_bars("QQQ", "2024-11-27 14:30", "2024-11-27 21:00")
    db.bars.import_files([bar_files.csv(other)], "1m")
    result = db.bars.import_files([bar_files.csv([{**daily, "symbol": "QQQ"}])], "1d", source="v")
    assert (result.inserted, result.updated, result.skipped) == (0, 1, 0)
    assert db.bars.query("QQQ", "1d")[["close", "source"]].values.tolist() == [[2.0, "v"]]


def test_rebuilding_the_roll_ups_gives_what_the_loads_kept_up(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    add_security(db, "AAPL", "XNYS")
    bars = session_bars("AAPL")
    for day in ("2024-11-29", "2024-11-27", "2024-11-28"):  # out of order, on purpose
        db.bars.import_files([bar_files.csv([r for r in bars if r["ts"].startswith(day)])], "1m")
    kept = [r for r in stored(db) if r[10] == "rollup"]
    with db.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM ohlcv_bars WHERE source = 'rollup'"))

    results = db.bars.rollup()

    assert [(r.interval, r.written) for r in results] == [
        ("5m", len([k for k in kept if k[1] == "5m"])),
        ("15m", len([k for k in kept if k[1] == "15m"])),
        ("1h", len([k for k in kept if k[1] == "1h"])),
        ("1d", 2),
    ]
    rebuilt = [r for r in stored(db) if r[10] == "rollup"]
    assert [r[:8] + r[9:] for r in rebuilt] == [r[:8] + r[9:] for r in kept]
    np.testing.assert_allclose([r[8] for r in rebuilt], [r[8] for r in kept], rtol=1e-12)


def test_a_bucket_is_built_from_the_finest_bars_it_has(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    fine = minute_bars("IBM", "2024-11-27 14:30", "2024-11-27 15:30")
    coarse = expected(minute_bars("IBM", "2024-11-27 14:30", "2024-11-27 16:30", seed=9), "5m")
    coarse_rows: list[dict[str, Any]] = [
        {"symbol": "IBM", "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), **row}
        for ts, row in coarse.reset_index(drop=False).set_index("ts").to_dict("index").items()
    ]
    db.bars.import_files([bar_files.csv(coarse_rows)], "5m", source="vendor")
    db.bars.import_files([bar_files.csv(fine)], "1m")

    hourly = rolled(db, "IBM", "1h")

    # 14:00 and 15:00 hold 1m bars (until 15:29): they are built from those alone, the 5m
    # bars of the same hours left out; 16:00 holds 5m bars only.
    assert_same_bars(hourly.iloc[:2], expected(fine, "1h"))
    assert_same_bars(hourly.iloc[2:], expected(coarse_rows, "1h").iloc[2:])
    assert db.bars.query("IBM", "5m")["source"].eq("vendor").all()


@pytest.mark.parametrize("interval", ["1m", "2h"])
def test_only_coarser_intervals_are_roll_up_targets(db: foliodb.Database, interval: str) -> None:
    with pytest.raises(foliodb.errors.InputError) as caught:
        db.bars.rollup(intervals=[interval])
    assert caught.value.problems[0].field == "interval"
