#!/usr/bin/env python
"""Market-data benchmarks for foliodb: bulk import of one-minute bars, roll-up to daily bars,
latest-bar and one-day queries, each next to a reference measured in the same run.

    cd /work/main && .venv/bin/python bench/marketdata.py                 # 5,000,000 bars
    .venv/bin/python bench/marketdata.py --rows 200000 --symbols 50       # smaller
    .venv/bin/python bench/marketdata.py --no-postgres                    # SQLite only

stdout gets one JSON object per measurement with the keys of bench/common.py (`KEYS`);
progress goes to stderr. `ratio` is foliodb's rate divided by the reference's rate.

PostgreSQL: the server at FOLIODB_BENCH_PG_URL, else a throwaway cluster started with
tests/pgcluster.py (tuned for speed over durability, like the test cluster, with 512 MB of
shared buffers); psql (for the `\\copy` reference) is /usr/bin/psql or on PATH.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "tests"))  # tests/pgcluster.py, appended so nothing shadows

import foliodb  # noqa: E402
from common import emit, log, postgres, timed  # noqa: E402

SESSION_MINUTES = 390  # 09:30-16:00 New York, 14:30-21:00 UTC in winter
COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume", "vwap", "trades")


# --- output ---------------------------------------------------------------------------------
# --- synthetic bars -------------------------------------------------------------------------
def generate(path: Path, rows: int, symbols: int, seed: int) -> pd.DataFrame:
    """`rows` one-minute bars, `symbols` symbols with the same number of regular-session
    minutes each (weekdays from 2024-01-02), a random walk of two-decimal prices; written as
    CSV (ISO timestamps with Z) and returned as a frame (ts as datetime64)."""
    rng = np.random.default_rng(seed)
    per = rows // symbols
    days = pd.bdate_range("2024-01-02", periods=per // SESSION_MINUTES + 1, tz="UTC")
    opens = days.as_unit("s").asi8 + (14 * 60 + 30) * 60
    minutes = (opens[:, None] + 60 * np.arange(SESSION_MINUTES)[None, :]).ravel()[:per]
    ts = np.tile(minutes, symbols)
    names = np.repeat(np.array([f"S{i:04d}" for i in range(symbols)], dtype=object), per)
    steps = rng.normal(0, 0.001, (symbols, per))
    start = rng.uniform(10, 500, symbols)[:, None]
    close = np.round(start * np.exp(np.cumsum(steps, axis=1)), 2).ravel()
    open_ = np.round(close * np.exp(rng.normal(0, 0.0005, close.size)), 2)
    high = np.round(np.maximum(open_, close) + rng.integers(0, 6, close.size) / 100, 2)
    dips = rng.integers(0, 6, close.size) / 100
    low = np.round(np.maximum(np.minimum(open_, close) - dips, 0.01), 2)
    frame = pd.DataFrame(
        {
            "symbol": names,
            "ts": pd.to_datetime(ts, unit="s", utc=True),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.integers(100, 100_000, close.size),
            "vwap": np.round((high + low + close) / 3, 4),
            "trades": rng.integers(1, 500, close.size),
        }
    )
    table = pa.Table.from_pandas(frame.assign(ts=frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")))
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return frame


# --- references -----------------------------------------------------------------------------
PLAIN_COLUMNS = (
    "symbol varchar(64) NOT NULL, ts timestamptz NOT NULL, open float8 NOT NULL, "
    "high float8 NOT NULL, low float8 NOT NULL, close float8 NOT NULL, volume float8 NOT NULL, "
    "vwap float8, trades bigint"
)


def psql_copy(url: str, csv_path: Path, keyed: bool) -> float:
    """Seconds for psql's \\copy of the CSV into a plain table (same columns, the primary key
    (symbol, ts) when `keyed`), created first and not timed."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    psql = shutil.which("psql") or "/usr/bin/psql"
    env = {**os.environ, **({"PGPASSWORD": u.password} if u.password else {})}
    base = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(u.host), "-p", str(u.port or 5432)]
    base += ["-U", str(u.username), "-d", str(u.database)]
    key = ", PRIMARY KEY (symbol, ts)" if keyed else ""
    create = f"DROP TABLE IF EXISTS plain_bars; CREATE TABLE plain_bars ({PLAIN_COLUMNS}{key})"
    subprocess.run([*base, "-c", create], check=True, env=env, capture_output=True)
    copy = f"\\copy plain_bars FROM '{csv_path}' WITH (FORMAT csv, HEADER true)"
    seconds, _ = timed(lambda: subprocess.run([*base, "-c", copy], check=True, env=env))
    return seconds


def sqlite_executemany(csv_path: Path, db_path: Path) -> float:
    """Seconds for csv.reader + one sqlite3 executemany into a plain table (same columns,
    primary key (symbol, ts)), one transaction, foliodb's pragmas (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(
            "CREATE TABLE plain_bars (symbol TEXT, ts TEXT, open REAL, high REAL, low REAL, "
            "close REAL, volume REAL, vwap REAL, trades INTEGER, PRIMARY KEY (symbol, ts))"
        )

        def load() -> None:
            with csv_path.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                next(reader)
                conn.execute("BEGIN")
                conn.executemany(
                    "INSERT INTO plain_bars VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ((s, t, float(o), float(h), float(lo), float(c), float(v),
                      float(w) if w else None, int(n) if n else None)
                     for s, t, o, h, lo, c, v, w, n in reader),
                )  # fmt: skip
                conn.execute("COMMIT")

        seconds, _ = timed(load)
        return seconds
    finally:
        conn.close()


def pandas_daily(frame: pd.DataFrame) -> pd.DataFrame:
    """The same daily roll-up in memory (UTC days): the database-free reference."""
    day = frame["ts"].dt.floor("D")
    pv = frame["vwap"] * frame["volume"]
    grouped = frame.assign(day=day, pv=pv).groupby(["symbol", "day"], sort=False)
    out = grouped.agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"), close=("close", "last"),
        volume=("volume", "sum"), pv=("pv", "sum"), trades=("trades", "sum"),
    )  # fmt: skip
    out["vwap"] = out["pv"] / out["volume"]
    return out


# --- PostgreSQL -----------------------------------------------------------------------------
# --- the benchmarks -------------------------------------------------------------------------
def bench_engine(
    engine: str,
    new_url: Callable[[], str],
    csv_path: Path,
    frame: pd.DataFrame,
    references: list[tuple[str, Callable[[], float]]],
    queries: int,
    raw_queries: Callable[[str], Callable[[str, Any, Any], Callable[[], Any]]],
    repeat: int,
    with_rollups: bool = False,
) -> None:
    """Imports (best of `repeat`, each into a fresh database, references alike), then the
    roll-up and the queries on the last database."""
    rows = len(frame)
    reference_times: dict[str, float] = {}
    times: list[float] = []
    for run in range(repeat):
        for name, reference in references:
            log(f"[{engine}] reference, run {run + 1}/{repeat}: {name} ...")
            seconds = reference()
            reference_times[name] = min(seconds, reference_times.get(name, seconds))
        log(f"[{engine}] foliodb import_files, run {run + 1}/{repeat} ...")
        url = new_url()
        db = foliodb.connect(url, create=True)
        seconds, result = timed(
            lambda: db.bars.import_files([csv_path], "1m", source="bench", rollup=False)  # noqa: B023
        )
        assert result.inserted == rows, result
        times.append(seconds)
        if run < repeat - 1:
            db.close()
    imported = min(times)
    for name, ref_seconds in reference_times.items():
        emit(
            "import_bars", engine, "bars", rows, imported, name, ref_seconds, repeat,
            note="foliodb: read CSV, check every row, COPY (PostgreSQL) or executemany "
            f"(SQLite) in one transaction, no roll-up (--no-rollup); runs {_runs(times)}",
        )  # fmt: skip
    try:
        log(f"[{engine}] roll-up of every bar to 1d ...")
        ref_seconds, expected = timed(lambda: pandas_daily(frame))
        roll_seconds, rolled = timed(lambda: db.bars.rollup(intervals=["1d"]))
        assert rolled[0].written == len(expected), (rolled, len(expected))
        emit(
            "rollup_1d", engine, "bars", rows, roll_seconds,
            "pandas groupby of the same bars in memory (no database)", ref_seconds,
            note=f"db.bars.rollup(intervals=['1d']): {rolled[0].written} daily bars written",
        )  # fmt: skip

        rng = np.random.default_rng(7)
        symbols = frame["symbol"].unique()
        picks = [str(s) for s in rng.choice(symbols, queries)]
        days = frame["ts"].dt.normalize().unique()
        day = pd.Timestamp(days[len(days) // 2]).date()

        def latest_all() -> None:
            for symbol in picks:
                assert db.bars.latest(symbol, "1m") is not None

        def day_all() -> None:
            for symbol in picks:
                assert len(db.bars.query(symbol, "1m", day, day)) == SESSION_MINUTES

        raw_query = raw_queries(url)
        for bench, run, kind in (
            ("latest_bar", latest_all, "latest"),
            ("day_query", day_all, "day"),
        ):
            run()  # warm: connections, statements, pandas
            seconds, _ = timed(run)
            raw = raw_query(kind, picks, day)
            raw()
            raw_seconds, _ = timed(raw)
            driver = "psycopg" if engine == "postgresql" else "sqlite3"
            returns = "a DataFrame of 390 bars" if kind == "day" else "a Bar"
            emit(
                bench, engine, "queries", queries, seconds,
                f"the same SQL through the driver ({driver}), no foliodb", raw_seconds,
                note=f"mean latency {1000 * seconds / queries:.2f} ms, driver "
                f"{1000 * raw_seconds / queries:.2f} ms; foliodb returns {returns}",
            )  # fmt: skip

        if with_rollups:
            log(f"[{engine}] foliodb import_files with roll-ups into 5m, 15m, 1h, 1d ...")
            other = foliodb.connect(new_url(), create=True)
            try:
                full_seconds, done = timed(
                    lambda: other.bars.import_files([csv_path], "1m", source="bench")
                )
                written = sum(r.written for r in done.rollups)
            finally:
                other.close()
            emit(
                "import_bars_with_rollups", engine, "bars", rows, full_seconds,
                "foliodb import_files without roll-ups", imported,
                note=f"the default: the same import, then {written} roll-up bars "
                "(5m, 15m, 1h, 1d) written in the same transaction",
            )  # fmt: skip
    finally:
        db.close()


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}s" for t in times)


def pg_raw_query(url: str) -> Callable[[str, Any, Any], Callable[[], Any]]:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    info = {"host": u.host, "port": u.port, "user": u.username, "password": u.password,
            "dbname": u.database}  # fmt: skip
    conn = psycopg.connect(**{k: v for k, v in info.items() if v is not None}, autocommit=True)

    def factory(kind: str, picks: list[str], day: Any) -> Callable[[], Any]:
        if kind == "latest":
            sql = (
                "SELECT * FROM ohlcv_bars WHERE symbol = %s AND \"interval\" = '1m' "
                "ORDER BY ts DESC LIMIT 1"
            )
            return lambda: [conn.execute(sql, (s,)).fetchone() for s in picks]
        sql = (
            "SELECT * FROM ohlcv_bars WHERE symbol = %s AND \"interval\" = '1m' "
            "AND ts >= %s AND ts < %s::timestamptz + interval '1 day' ORDER BY ts"
        )
        start = f"{day} 00:00+00"
        return lambda: [conn.execute(sql, (s, start, start)).fetchall() for s in picks]

    return factory


def sqlite_raw_query(url: str) -> Callable[[str, Any, Any], Callable[[], Any]]:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))

    def factory(kind: str, picks: list[str], day: Any) -> Callable[[], Any]:
        if kind == "latest":
            sql = (
                "SELECT * FROM ohlcv_bars WHERE symbol = ? AND \"interval\" = '1m' "
                "ORDER BY ts DESC LIMIT 1"
            )
            return lambda: [conn.execute(sql, (s,)).fetchone() for s in picks]
        sql = (
            "SELECT * FROM ohlcv_bars WHERE symbol = ? AND \"interval\" = '1m' "
            "AND ts >= ? AND ts < ? ORDER BY ts"
        )
        start = f"{day} 00:00:00.000000"
        end = f"{(pd.Timestamp(day) + pd.Timedelta(days=1)).date()} 00:00:00.000000"
        return lambda: [conn.execute(sql, (s, start, end)).fetchall() for s in picks]

    return factory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="bars (default 5000000)")
    parser.add_argument("--symbols", type=int, default=500, help="symbols (default 500)")
    parser.add_argument("--queries", type=int, default=200, help="queries timed per kind")
    parser.add_argument("--seed", type=int, default=20240102)
    parser.add_argument(
        "--repeat", type=int, default=1, help="imports timed (fresh databases); best is kept"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument(
        "--no-rollup-import",
        action="store_true",
        help="skip the PostgreSQL import that also writes the roll-ups (the longest run)",
    )
    args = parser.parse_args(argv)
    if args.symbols < 1 or args.rows < args.symbols * SESSION_MINUTES:
        parser.error("--rows must give every symbol at least one session (390 bars)")
    rows = args.rows // args.symbols * args.symbols

    log(
        f"foliodb market-data bench: python {platform.python_version()}, sqlite "
        f"{sqlite3.sqlite_version}, {rows} bars, {args.symbols} symbols"
    )
    with tempfile.TemporaryDirectory(prefix="foliodb-bench-") as tmpdir:
        tmp = Path(tmpdir)
        log("generating bars ...")
        csv_path = tmp / "bars.csv"
        frame = generate(csv_path, rows, args.symbols, args.seed)
        csv_path.read_bytes()  # warm the page cache for whoever reads first

        counter = iter(range(1_000_000))
        with postgres(
            args.no_postgres,
            "bench/marketdata.py",
            # Bulk loads need more than the test cluster's 16 MB of shared buffers; both
            # foliodb and the psql reference run on this same server.
            external_env="FOLIODB_BENCH_PG_URL",
            settings={"shared_buffers": "512MB", "max_wal_size": "4GB"},
        ) as pg:
            if isinstance(pg, str):
                log(f"skipping PostgreSQL: {pg}")
                emit("import_bars", "postgresql", "bars", rows, None, skipped=pg)
            else:
                raw_url = pg.new_database()
                bench_engine(
                    "postgresql",
                    pg.new_database,
                    csv_path,
                    frame,
                    [
                        ("psql \\copy into a plain table, same columns, primary key (symbol, ts)",
                         lambda: psql_copy(raw_url, csv_path, keyed=True)),
                        ("psql \\copy into a plain table, same columns, no key or index",
                         lambda: psql_copy(raw_url, csv_path, keyed=False)),
                    ],
                    args.queries,
                    pg_raw_query,
                    args.repeat,
                    with_rollups=not args.no_rollup_import,
                )  # fmt: skip

        if not args.no_sqlite:
            bench_engine(
                "sqlite",
                lambda: f"sqlite:///{tmp}/foliodb-{next(counter)}.db",
                csv_path,
                frame,
                [
                    ("sqlite3: csv.reader + executemany into a plain table, same columns and "
                     "primary key, one transaction",
                     lambda: sqlite_executemany(csv_path, tmp / f"plain-{next(counter)}.db")),
                ],
                args.queries,
                sqlite_raw_query,
                args.repeat,
            )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
