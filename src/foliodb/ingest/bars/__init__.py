"""OHLCV bar files (CSV and Parquet): read, map columns, parse timestamps, validate.

A load is read and checked whole before anything is written. Checks are vectorised (numpy,
pyarrow), never a Python loop per row; each failed check names the file, the line (CSV: the
header is line 1, the first bar line 2, as for every foliodb CSV; Parquet: the 1-based row),
the field, the rule and the value (docs/marketdata.md).

One module per concern; the names callers use are re-exported here (`bars.read_bars`).
"""

from foliodb.ingest.bars.checks import (
    EPOCH_MS_FROM,
    TS_END_US,
    TS_MIN_US,
    US,
    VIOLATION_COLUMNS,
)
from foliodb.ingest.bars.fields import (
    FIELDS,
    IGNORE,
    INTERVAL_SECONDS,
    NUMBERS,
    PRICES,
    REQUIRED,
    SYMBOL_WIDTH,
    parse_column_map,
    parse_interval,
)
from foliodb.ingest.bars.files import SourceFile
from foliodb.ingest.bars.load import BarLoad, Progress, read_bars

__all__ = [
    "EPOCH_MS_FROM",
    "FIELDS",
    "IGNORE",
    "INTERVAL_SECONDS",
    "NUMBERS",
    "PRICES",
    "REQUIRED",
    "SYMBOL_WIDTH",
    "TS_END_US",
    "TS_MIN_US",
    "US",
    "VIOLATION_COLUMNS",
    "BarLoad",
    "Progress",
    "SourceFile",
    "parse_column_map",
    "parse_interval",
    "read_bars",
]
