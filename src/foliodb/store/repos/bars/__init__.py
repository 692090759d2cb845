"""Repository of OHLCV bars: bulk writes, partitions, roll-up SQL, watermarks, retention and
queries. Like every repository it never commits; the caller's unit of work does.

PostgreSQL gets bars through binary COPY (numpy builds the wire format, so no Python runs per
row) and computes roll-ups in SQL; SQLite gets batched executemany. Timestamps cross this
package as int64 microseconds since the epoch (UTC) in arrays, as aware datetimes one by one.

One module per concern; the names callers use are re-exported here (`bars.write_bars`).
"""

from foliodb.store.repos.bars.instants import DAY_US, US, sqlite_us, to_datetime, to_us
from foliodb.store.repos.bars.partitions import (
    Partition,
    analyze_new_partitions,
    drop_older,
    ensure_partitions,
    layout,
    list_partitions,
    partitions_between,
    partitions_covering,
    partitions_for,
)
from foliodb.store.repos.bars.queries import bars_between, daily_closes, latest_bar
from foliodb.store.repos.bars.rollups import (
    Ranges,
    exchanges,
    lock_symbols,
    rollup_postgresql,
    set_watermarks,
    source_bars,
    source_extent,
    upsert_rollups,
    watermarks,
)
from foliodb.store.repos.bars.writes import ROLLUP, VALUE_COLUMNS, WriteCounts, write_bars

__all__ = [
    "DAY_US",
    "ROLLUP",
    "US",
    "VALUE_COLUMNS",
    "Partition",
    "Ranges",
    "WriteCounts",
    "analyze_new_partitions",
    "bars_between",
    "daily_closes",
    "drop_older",
    "ensure_partitions",
    "exchanges",
    "latest_bar",
    "layout",
    "list_partitions",
    "lock_symbols",
    "partitions_between",
    "partitions_covering",
    "partitions_for",
    "rollup_postgresql",
    "set_watermarks",
    "source_bars",
    "source_extent",
    "sqlite_us",
    "to_datetime",
    "to_us",
    "upsert_rollups",
    "watermarks",
    "write_bars",
]
