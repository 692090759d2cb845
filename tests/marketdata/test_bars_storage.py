"""Where bars are stored: PostgreSQL leaf partitions made on demand (monthly, yearly for 1d),
also by loaders running at once; retention drops whole old partitions and deletes the rest."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

import foliodb
from foliodb.errors import InputError

from .conftest import BarFiles, minute_bars, stored


def partitions(db: foliodb.Database) -> dict[str, tuple[str, str]]:
    """{leaf partition: (parent, bound)} read from pg_inherits and pg_class."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                """
                SELECT child.relname, parent.relname, pg_get_expr(child.relpartbound, child.oid)
                FROM pg_inherits i
                JOIN pg_class child ON child.oid = i.inhrelid
                JOIN pg_class parent ON parent.oid = i.inhparent
                WHERE parent.relname LIKE 'ohlcv\\_bars\\_%' AND child.relkind = 'r'
                """
            )
        ).all()
    return {child: (parent, bound) for child, parent, bound in rows}


def postgresql_only(db: foliodb.Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's")


def month_end_bars() -> list[dict[str, object]]:
    return minute_bars("AAPL", "2024-01-31 23:50", "2024-02-01 00:10")


def test_the_first_bar_of_a_month_creates_its_partition(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    postgresql_only(db)
    daily = [
        {"symbol": "AAPL", "ts": day, "open": 1, "high": 2, "low": 1, "close": 2, "volume": 5}
        for day in ("2023-12-29", "2024-01-02")
    ]

    minutes = db.bars.import_files([bar_files.csv(month_end_bars())], "1m")
    days = db.bars.import_files([bar_files.csv(daily)], "1d")

    made = partitions(db)
    assert set(minutes.partitions_created) == {
        f"ohlcv_bars_{i}_p2024_{m}" for i in ("1m", "5m", "15m", "1h") for m in ("01", "02")
    } | {"ohlcv_bars_1d_p2024"}
    assert days.partitions_created == ("ohlcv_bars_1d_p2023",)
    assert made["ohlcv_bars_1m_p2024_01"] == (
        "ohlcv_bars_1m",
        "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00')",
    )
    assert made["ohlcv_bars_1d_p2023"] == (
        "ohlcv_bars_1d",
        "FOR VALUES FROM ('2023-01-01 00:00:00+00') TO ('2024-01-01 00:00:00+00')",
    )
    with db.engine.connect() as connection:
        placed = dict(
            connection.execute(
                sa.text(
                    "SELECT tableoid::regclass::text, count(*) FROM ohlcv_bars "
                    "WHERE \"interval\" = '1m' GROUP BY 1"
                )
            ).all()
        )
    assert placed == {"ohlcv_bars_1m_p2024_01": 10, "ohlcv_bars_1m_p2024_02": 10}
    again = db.bars.import_files([bar_files.csv(month_end_bars())], "1m")
    assert again.partitions_created == ()


def test_loaders_running_at_once_share_a_new_partition(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    postgresql_only(db)
    files = [
        bar_files.csv(minute_bars(symbol, "2024-03-04 14:30", "2024-03-04 15:30"))
        for symbol in ("A", "B", "C", "D")
    ]
    errors: list[BaseException] = []

    def load(path: object) -> None:
        try:
            db.bars.import_files([path], "1m")  # type: ignore[list-item]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(f,)) for f in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(stored(db, "1m")) == 240
    assert len(stored(db, "1h")) == 8  # 14:00 and 15:00 for each symbol
    assert "ohlcv_bars_1m_p2024_03" in partitions(db)


def test_retention_drops_old_partitions_and_deletes_the_older_rows_of_the_boundary_one(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    rows = (
        minute_bars("AAPL", "2024-01-10 14:30", "2024-01-10 14:40")
        + minute_bars("AAPL", "2024-02-14 14:30", "2024-02-14 14:40")
        + minute_bars("AAPL", "2024-02-15 14:30", "2024-02-15 14:40")
        + minute_bars("AAPL", "2024-03-01 14:30", "2024-03-01 14:40")
    )
    db.bars.import_files([bar_files.csv(rows)], "1m")

    result = db.bars.apply_retention("1m", before="2024-02-15")

    assert result.cutoff == dt.datetime(2024, 2, 15, tzinfo=dt.UTC)
    left = [r[2] for r in stored(db, "1m")]
    assert min(left) == dt.datetime(2024, 2, 15, 14, 30, tzinfo=dt.UTC) and len(left) == 20
    assert len(stored(db, "1d")) == 4  # the roll-ups stay
    if db.engine.dialect.name == "postgresql":
        assert result.partitions_dropped == ("ohlcv_bars_1m_p2024_01",)
        assert result.rows_deleted == 10  # the 14th of February, row by row
        assert "ohlcv_bars_1m_p2024_01" not in partitions(db)
        assert "ohlcv_bars_1m_p2024_02" in partitions(db)
    else:
        assert (result.partitions_dropped, result.rows_deleted) == ((), 20)


def test_retention_by_age_counts_back_from_today(db: foliodb.Database, bar_files: BarFiles) -> None:
    today = dt.datetime.now(dt.UTC).date()
    old = today.replace(year=today.year - 3).isoformat()
    recent = (today - dt.timedelta(days=30)).isoformat()
    rows = [
        {"symbol": "X", "ts": day, "open": 1, "high": 1, "low": 1, "close": 1, "volume": 0}
        for day in (old, recent)
    ]
    db.bars.import_files([bar_files.csv(rows)], "1d")

    kept = db.bars.apply_retention("1d", older_than="90d")
    gone = db.bars.apply_retention("1d", older_than="2y")

    assert kept.cutoff == dt.datetime.combine(today - dt.timedelta(days=90), dt.time(), dt.UTC)
    assert (kept.rows_deleted, len(kept.partitions_dropped)) in {(1, 0), (0, 1)}
    assert gone.rows_deleted == 0 and gone.partitions_dropped == ()
    assert [r[2].date().isoformat() for r in stored(db)] == [recent]


@pytest.mark.parametrize(
    ("older_than", "before", "field"),
    [
        (None, None, "older_than / before"),
        ("90d", "2024-01-01", "older_than / before"),
        ("0d", None, "older_than"),
        ("2 years", None, "older_than"),
        ("-1y", None, "older_than"),
        (None, "2024-13-01", "before"),
        (None, "2999-01-01", "before"),
    ],
)
def test_nonsense_retention_is_refused_and_removes_nothing(
    db: foliodb.Database,
    bar_files: BarFiles,
    older_than: str | None,
    before: str | None,
    field: str,
) -> None:
    db.bars.import_files([bar_files.csv(month_end_bars())], "1m", rollup=False)

    with pytest.raises(InputError) as caught:
        db.bars.apply_retention("1m", older_than=older_than, before=before)

    assert caught.value.problems[0].field == field
    assert len(stored(db)) == 20


def test_a_bar_stored_by_a_concurrent_writer_meanwhile_is_merged_not_duplicated(
    db: foliodb.Database, bar_files: BarFiles
) -> None:
    postgresql_only(db)
    rows = minute_bars("AAPL", "2024-03-04 14:30", "2024-03-04 14:40")
    db.bars.import_files([bar_files.csv(rows[:1])], "1m", rollup=False)  # makes the partition
    with db.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM ohlcv_bars"))
    results: list[object] = []
    writer = db.engine.connect()
    transaction = writer.begin()
    writer.execute(
        sa.text(
            'INSERT INTO ohlcv_bars (symbol, "interval", ts, open, high, low, close, volume, '
            "source) VALUES ('AAPL', '1m', :ts, :open, :high, :low, :close, :volume, 'other')"
        ),
        {k: rows[0][k] for k in ("ts", "open", "high", "low", "close", "volume")},
    )
    # The import sees no stored bar in its range (the other writer has not committed), so it
    # COPYs straight into the table, waits on the other writer's key, fails on it once that
    # commits, and merges through the staging table instead.
    path = bar_files.csv(rows)
    loader = threading.Thread(target=lambda: results.append(db.bars.import_files([path], "1m")))
    loader.start()
    loader.join(timeout=1.0)
    assert loader.is_alive()  # waiting for the other writer
    transaction.commit()
    writer.close()
    loader.join()

    (result,) = results
    assert (result.inserted, result.skipped) == (9, 1)  # type: ignore[attr-defined]
    assert [r[10] for r in stored(db, "1m")] == ["other"] + [""] * 9
    assert len(stored(db, "5m")) == 2
