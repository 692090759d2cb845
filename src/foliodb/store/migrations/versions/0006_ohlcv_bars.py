"""OHLCV bars: partitioned by interval then by time on PostgreSQL (a TimescaleDB hypertable
where that extension is loaded), one table on SQLite; roll-up watermarks.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import foliodb.store.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INTERVALS = ("1m", "5m", "15m", "1h", "1d")

COLUMNS = """
    symbol varchar(64) NOT NULL,
    interval varchar(4) NOT NULL,
    ts timestamptz NOT NULL,
    open double precision NOT NULL,
    high double precision NOT NULL,
    low double precision NOT NULL,
    close double precision NOT NULL,
    volume double precision NOT NULL,
    vwap double precision,
    trades bigint,
    source varchar(64) NOT NULL DEFAULT '',
    CONSTRAINT pk_ohlcv_bars PRIMARY KEY (symbol, interval, ts),
    CONSTRAINT ck_ohlcv_bars_interval
        CHECK (interval = '1m' OR interval = '5m' OR interval = '15m' OR interval = '1h'
               OR interval = '1d'),
    CONSTRAINT ck_ohlcv_bars_prices_positive
        CHECK (open > 0 AND high > 0 AND low > 0 AND close > 0),
    CONSTRAINT ck_ohlcv_bars_high CHECK (high >= open AND high >= close AND high >= low),
    CONSTRAINT ck_ohlcv_bars_low CHECK (low <= open AND low <= close),
    CONSTRAINT ck_ohlcv_bars_volume CHECK (volume >= 0),
    CONSTRAINT ck_ohlcv_bars_vwap CHECK (vwap IS NULL OR vwap > 0),
    CONSTRAINT ck_ohlcv_bars_trades CHECK (trades IS NULL OR trades >= 0)
"""


def timescaledb_loaded(bind: sa.engine.Connection) -> bool:
    """Whether the server preloads TimescaleDB (needed before CREATE EXTENSION works)."""
    preload = bind.execute(sa.text("SHOW shared_preload_libraries")).scalar() or ""
    return "timescaledb" in preload


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        if timescaledb_loaded(bind):
            op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            op.execute(f"CREATE TABLE ohlcv_bars ({COLUMNS})")
            op.execute(
                "SELECT create_hypertable('ohlcv_bars', 'ts', chunk_time_interval => "
                "INTERVAL '7 days')"
            )
            op.execute(
                "ALTER TABLE ohlcv_bars SET (timescaledb.compress, "
                "timescaledb.compress_segmentby = 'symbol, interval', "
                "timescaledb.compress_orderby = 'ts')"
            )
            op.execute("SELECT add_compression_policy('ohlcv_bars', INTERVAL '30 days')")
        else:
            # List partitions by interval, each range-partitioned by time; the monthly (1d:
            # yearly) partitions are created on demand by the loader. No index on ts: the
            # time partitions already prune every time range, and a BRIN index on ts cost
            # 40% of a bulk load's time (measured by bench/marketdata.py).
            op.execute(f"CREATE TABLE ohlcv_bars ({COLUMNS}) PARTITION BY LIST (interval)")
            for interval in INTERVALS:
                op.execute(
                    f"CREATE TABLE ohlcv_bars_{interval} PARTITION OF ohlcv_bars "
                    f"FOR VALUES IN ('{interval}') PARTITION BY RANGE (ts)"
                )
    else:
        sqlite_columns = COLUMNS.replace("timestamptz", "DATETIME").replace(
            "double precision", "FLOAT"
        )
        # WITHOUT ROWID: the rows live in the primary key's b-tree (symbol, interval, ts),
        # one b-tree to write instead of two, and a symbol's bars are read in order.
        op.execute(f"CREATE TABLE ohlcv_bars ({sqlite_columns}) WITHOUT ROWID")
    op.create_table(
        "bar_rollup_watermarks",
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("interval", sa.String(length=4), nullable=False),
        sa.Column("source_interval", sa.String(length=4), nullable=False),
        sa.Column("watermark", foliodb.store.base.UtcDateTime(), nullable=False),
        sa.Column("updated_at", foliodb.store.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "interval", name=op.f("pk_bar_rollup_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("bar_rollup_watermarks")
    op.execute(
        "DROP TABLE ohlcv_bars CASCADE"
        if op.get_bind().dialect.name == "postgresql"
        else "DROP TABLE ohlcv_bars"
    )
