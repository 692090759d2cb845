"""Vectorised checks of bar files: numbers, timestamps and symbols parsed column by column
(numpy, pyarrow), every failed check recorded with its row, field, rule and what was expected,
and rows that repeat an earlier bar of the load."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from foliodb.columnar.bars import Array, BarColumns
from foliodb.ingest.bars.fields import INTERVAL_SECONDS, NUMBERS, PRICES, SYMBOL_WIDTH
from foliodb.ingest.bars.files import SourceFile, field_column

#: An epoch number at or above this is milliseconds, below it seconds (1973-03-03 in ms,
#: year 5138 in seconds: every bar of a real vendor file is unambiguous).
EPOCH_MS_FROM = 100_000_000_000
US = 1_000_000
#: Timestamps outside [1900, 2200) are refused: no market data is that old or that far out.
TS_MIN_US = -2_208_988_800 * US
TS_END_US = 7_258_118_400 * US
_NUMBER = r"^[+-]?((\d+\.?\d*)|(\.\d+))([eE][+-]?\d+)?$|^[+-]?(?i:nan|inf|infinity)$"
_EXPECTED_TS = (
    "ISO 8601 with an offset or naive UTC (2024-01-02T14:30:00Z), a date for 1d bars, "
    "or epoch seconds or milliseconds"
)
VIOLATION_COLUMNS = ["file", "row", "field", "rule", "expected", "column"]
#: A bar's `ref` in a load: its file's index << ROW_BITS | its row in that file's table.
ROW_BITS = 40


def bar_refs(file: Any, row: Any) -> Array:
    """The refs of the bars at `row` of the file at index `file` (numbers or arrays)."""
    return np.asarray(file, dtype=np.int64) << ROW_BITS | np.asarray(row, dtype=np.int64)


def file_of(refs: Any) -> Array:
    """The index in the load of each bar's file."""
    return (np.asarray(refs, dtype=np.int64) >> ROW_BITS).astype(np.int32)


def row_of(refs: Any) -> Array:
    """Each bar's row (0-based) within its file's table."""
    return np.asarray(refs, dtype=np.int64) & ((1 << ROW_BITS) - 1)


class _Checks:
    """Failed checks of one file, as (rows, field, rule, expected) batches."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.batches: list[pd.DataFrame] = []

    def fail(self, mask: Array, field: str, rule: str, expected: str = "") -> None:
        rows = np.flatnonzero(mask & ~self.source.blank)
        if len(rows):
            column = field_column(self.source, field) or ""
            self.batches.append(
                pd.DataFrame(
                    {"row": rows, "field": field, "rule": rule, "expected": expected,
                     "column": column}
                )
            )  # fmt: skip


def _numpy(values: Any, dtype: Any = np.float64) -> Array:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype)


def _is_text(column: Any) -> bool:
    return bool(pa.types.is_string(column.type) or pa.types.is_large_string(column.type))


def _trimmed(column: Any) -> Any:
    text = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(text, ""), None, text)


def _given(column: Any, parsed: Array) -> Array:
    """Cells with a value (not empty, not only spaces). Only cells that did not parse
    (`parsed` False) can be blank: the text of the others is not looked at."""
    given = ~_numpy(column.is_null(), bool)
    if _is_text(column) and (unsure := given & ~parsed).any():
        rows = np.flatnonzero(unsure)
        blankish = pc.match_substring_regex(column.take(pa.array(rows)), r"^\s*$")
        given[rows[_numpy(pc.fill_null(blankish, False), bool)]] = False
    return given


def _numbers(column: Any, field: str, checks: _Checks) -> Array:
    """float64 values, NaN where the cell is empty or not a number (which is recorded)."""
    if not _is_text(column):
        try:
            return _numpy(pc.cast(column, pa.float64()))
        except pa.ArrowInvalid:
            column = column.cast(pa.string())
    try:
        return _numpy(pc.cast(column, pa.float64()))
    except pa.ArrowInvalid:
        pass
    text = _trimmed(column)
    good = pc.fill_null(pc.match_substring_regex(text, _NUMBER), True)
    checks.fail(~_numpy(good, bool), field, "is not a number", "a number")
    return _numpy(pc.cast(pc.if_else(good, text, None), pa.float64()))


def _epoch_us(seconds_or_ms: Array) -> Array:
    values = np.asarray(seconds_or_ms, dtype=np.float64)
    scale = np.where(np.abs(values) >= EPOCH_MS_FROM, 1_000.0, 1_000_000.0)
    return values * scale  # float microseconds; the caller checks range and whole numbers


def _timestamps(column: Any, checks: _Checks) -> tuple[Array, Array]:
    """(microseconds since the epoch, UTC, as float64 with NaN where missing or bad; mask of
    values finer than a microsecond). Unreadable values are recorded."""
    kind = column.type
    sub_us = np.zeros(len(column), dtype=bool)
    if pa.types.is_timestamp(kind):
        ints = _numpy(pc.cast(column, pa.timestamp(kind.unit)).cast(pa.int64()), np.float64)
        if kind.unit == "ns":
            exact = pc.fill_null(column.cast(pa.timestamp("ns")).cast(pa.int64()), 0)
            sub_us = _numpy(exact, np.int64) % 1000 != 0
        return ints * {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}[kind.unit], sub_us
    if pa.types.is_date(kind):
        days = _numpy(column.cast(pa.date32()).cast(pa.int32()), np.float64)
        return days * 86_400 * US, sub_us
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _epoch_us(_numpy(pc.cast(column, pa.float64()))), sub_us
    text = column if _is_text(column) else column.cast(pa.string())
    for trim in (False, True):  # trimming costs a pass: only when the text needs it
        attempt = _trimmed(text) if trim else text
        for target in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
            try:
                return _numpy(pc.cast(attempt, target).cast(pa.int64()), np.float64), sub_us
            except pa.ArrowInvalid:
                pass
    try:
        return _epoch_us(_numpy(pc.cast(_trimmed(text), pa.float64()))), sub_us
    except pa.ArrowInvalid:
        pass
    # Mixed forms, or something arrow does not read: pandas, still vectorised.
    series = pd.Series(_trimmed(text).to_pylist(), dtype=object)
    numeric = pd.to_numeric(series, errors="coerce")
    dates = pd.to_datetime(
        series.where(numeric.isna()), utc=True, format="ISO8601", errors="coerce"
    ).astype("datetime64[ns, UTC]")
    has_date = dates.notna().to_numpy()
    nanos = np.where(has_date, dates.to_numpy(dtype="datetime64[ns]").astype(np.int64), 0)
    sub_us = has_date & (nanos % 1000 != 0)
    out = np.where(has_date, nanos / 1000.0, _epoch_us(numeric.to_numpy(dtype=np.float64)))
    checks.fail(series.notna().to_numpy() & np.isnan(out), "ts", "is not a timestamp", _EXPECTED_TS)
    return out, sub_us


def _symbols(column: Any) -> tuple[list[str], Array]:
    """(distinct symbols, trimmed and upper-cased; code of each row, -1 where none). The
    clean-up runs on the distinct values only."""
    if not _is_text(column):
        column = column.cast(pa.string())
    encoded = (
        column.combine_chunks() if hasattr(column, "combine_chunks") else column
    ).dictionary_encode()
    raw = encoded.dictionary.to_pylist()
    cleaned = [str(s).strip().upper() for s in raw]
    symbols = list(dict.fromkeys(s for s in cleaned if s))
    position = {s: i for i, s in enumerate(symbols)}
    lookup = np.array([position.get(s, -1) for s in cleaned] + [-1], dtype=np.int32)
    indices = _numpy(pc.fill_null(encoded.indices, len(raw)), np.int64)
    return symbols, lookup[indices]


def parse_file(
    source: SourceFile, interval: str, symbol: str | None, file: int
) -> tuple[BarColumns, list[pd.DataFrame]]:
    """The file's rows as typed columns (bad values as NaN or code -1), and its failed checks;
    `file` is the file's index in the load (for the bars' refs)."""
    table, checks, n = source.table, _Checks(source), len(source.blank)
    number_columns = {}
    for field in NUMBERS:
        name = field_column(source, field)
        number_columns[field] = (
            np.full(n, np.nan) if name is None else _numbers(table.column(name), field, checks)
        )

    name = field_column(source, "symbol")
    if name is None:
        symbols, codes = [symbol or ""], np.zeros(n, dtype=np.int32)
    else:
        symbols, codes = _symbols(table.column(name))
        checks.fail(codes < 0, "symbol", "is required", "a symbol such as AAPL")
        wide = np.array([len(s) > SYMBOL_WIDTH for s in symbols] + [False])
        checks.fail(
            wide[codes], "symbol", f"is longer than {SYMBOL_WIDTH} characters",
            f"at most {SYMBOL_WIDTH} characters",
        )  # fmt: skip

    ts_column = table.column(field_column(source, "ts"))
    ts, sub_us = _timestamps(ts_column, checks)
    parsed = ~np.isnan(ts)
    checks.fail(~_given(ts_column, parsed), "ts", "is required", _EXPECTED_TS)
    out_of_range = parsed & ((ts < TS_MIN_US) | (ts >= TS_END_US))
    checks.fail(out_of_range, "ts", "is out of range", "a time between 1900 and 2200")
    step = INTERVAL_SECONDS[interval] * US
    usable = parsed & ~out_of_range
    whole = np.where(usable, ts, 0.0)
    misaligned = usable & (sub_us | (np.mod(whole, step) != 0) | (np.floor(whole) != whole))
    expected = (
        "00:00 UTC of the session date (give the date alone, e.g. 2024-01-02)"
        if interval == "1d"
        else f"the start of a {interval} bar: a whole multiple of {INTERVAL_SECONDS[interval]} "
        "s since midnight UTC"
    )
    checks.fail(misaligned, "ts", f"is not aligned to {interval} bars", expected)

    for field in (*PRICES, "volume"):
        values = number_columns[field]
        column = table.column(field_column(source, field))
        given = _given(column, ~np.isnan(values))
        finite = np.isfinite(values)
        checks.fail(~given, field, "is required", "a number")
        said_nan = np.isnan(values) & _says_nan(column)
        checks.fail(
            given & (np.isinf(values) | said_nan), field, "is not a finite number", "a number"
        )
        if field == "volume":
            checks.fail(finite & (values < 0), field, "must not be negative", "zero or more")
        else:
            checks.fail(finite & (values <= 0), field, "must be greater than zero", "a price > 0")
    o, h, lo, c = (number_columns[f] for f in PRICES)
    with np.errstate(invalid="ignore"):
        valid = (o > 0) & (h > 0) & (lo > 0) & (c > 0) & np.isfinite(o + h + lo + c)
        checks.fail(
            valid & (h < np.maximum(np.maximum(o, c), lo)),
            "high", "is below open, close or low", "high >= max(open, close, low)",
        )  # fmt: skip
        checks.fail(
            valid & (lo > np.minimum(o, c)),
            "low", "is above open or close", "low <= min(open, close)",
        )  # fmt: skip
        vwap = number_columns["vwap"]
        vwap_column = field_column(source, "vwap")
        vwap_nan = (
            np.isnan(vwap) & _says_nan(table.column(vwap_column))
            if vwap_column
            else np.zeros(n, dtype=bool)
        )
        checks.fail(np.isinf(vwap) | vwap_nan, "vwap", "is not a finite number", "a number > 0")
        checks.fail(np.isfinite(vwap) & (vwap <= 0), "vwap", "must be greater than zero", "> 0")
        trades = number_columns["trades"]
        bad_trades = ~np.isnan(trades) & (
            ~np.isfinite(trades) | (trades < 0) | (np.floor(trades) != trades) | (trades >= 2**53)
        )
    checks.fail(bad_trades, "trades", "must be a whole number, zero or more", "0, 1, 2, ...")

    bars = BarColumns(
        symbols=symbols,
        codes=codes.astype(np.int32),
        ts=np.where(usable & ~misaligned, ts, 0.0).astype(np.int64),
        ref=bar_refs(file, np.arange(n, dtype=np.int64)),
        **number_columns,
    )
    return bars, checks.batches


def _says_nan(column: Any) -> Array:
    """Cells that say NaN (they read as a number; refused as not finite, not as missing)."""
    if not _is_text(column):
        return ~_numpy(column.is_null(), bool)
    said = pc.match_substring_regex(column, r"^\s*[+-]?(?i:nan)\s*$")
    return _numpy(pc.fill_null(said, False), bool)


def bad_rows(violations: pd.DataFrame, bars: BarColumns) -> Array:
    if violations.empty:
        return np.zeros(len(bars), dtype=bool)
    failed = bar_refs(violations["file"].to_numpy(np.int64), violations["row"].to_numpy(np.int64))
    return np.isin(bars.ref, failed)


def repeats(bars: BarColumns, bad: Array, sources: list[SourceFile]) -> pd.DataFrame:
    """Valid rows repeating the (symbol, ts) of an earlier valid row of the load."""
    codes, ts = bars.codes, bars.ts
    good = ~bad
    if good.all() and len(ts) > 1 and _strictly_ordered(codes, ts):
        return pd.DataFrame({c: [] for c in VIOLATION_COLUMNS})
    index = np.flatnonzero(good)
    keys = pd.DataFrame({"code": codes[index], "ts": ts[index]})
    later = keys.duplicated(keep="first").to_numpy()
    if not later.any():
        return pd.DataFrame({c: [] for c in VIOLATION_COLUMNS})
    first = keys.groupby(["code", "ts"], sort=False).cumcount().to_numpy() == 0
    firsts = pd.Series(index[first], index=pd.MultiIndex.from_frame(keys[first]))
    repeat_at = index[later]
    origin = firsts.reindex(pd.MultiIndex.from_frame(keys[later])).to_numpy()
    files, repeat_files = file_of(bars.ref[origin]), file_of(bars.ref[repeat_at])
    names = [sources[f].name for f in files]
    lines = row_of(bars.ref[origin]) + np.array([sources[f].first_line for f in files])
    return pd.DataFrame(
        {
            "file": repeat_files,
            "row": row_of(bars.ref[repeat_at]),
            "field": "ts",
            "rule": [
                f"repeats the symbol and ts of {n}:{line}"
                for n, line in zip(names, lines, strict=True)
            ],
            "expected": "one bar per symbol and ts in a load",
            "column": [field_column(sources[f], "ts") or "" for f in repeat_files],
        }
    )


def _strictly_ordered(codes: Array, ts: Array) -> bool:
    """Sorted by symbol then ts, or by ts then symbol (symbols in first-seen order), with no
    key twice: then no row repeats another. Vendor files come one of these two ways."""
    same_code = codes[1:] == codes[:-1]
    by_symbol = (codes[1:] > codes[:-1]) | (same_code & (ts[1:] > ts[:-1]))
    if by_symbol.all():
        return True
    same_ts = ts[1:] == ts[:-1]
    by_time = (ts[1:] > ts[:-1]) | (same_ts & (codes[1:] > codes[:-1]))
    return bool(by_time.all())
