"""OHLCV bar files (CSV and Parquet): read, map columns, parse timestamps, validate.

A load is read and checked whole before anything is written. Checks are vectorised (numpy,
pyarrow), never a Python loop per row; each failed check names the file, the line (CSV: the
header is line 1, the first bar line 2, as for every foliodb CSV; Parquet: the 1-based row),
the field, the rule and the value (docs/marketdata.md).
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from foliodb.errors import InputError, InputProblem

FIELDS = ("symbol", "ts", "open", "high", "low", "close", "volume", "vwap", "trades")
REQUIRED = ("ts", "open", "high", "low", "close", "volume")  # and symbol, or --symbol
PRICES = ("open", "high", "low", "close")
NUMBERS = ("open", "high", "low", "close", "volume", "vwap", "trades")
INTERVAL_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
SYMBOL_WIDTH = 64
IGNORE = "-"  # `--map extra=-` drops a vendor column
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

Progress = Callable[[str, int, int], None]


def parse_interval(value: str) -> str:
    """A bar interval as stored: 1m, 5m, 15m, 1h or 1d."""
    interval = value.strip().lower()
    if interval not in INTERVAL_SECONDS:
        raise InputError(
            InputProblem(
                "is not a bar interval",
                field="interval",
                value=value,
                expected=f"one of {', '.join(INTERVAL_SECONDS)}",
            )
        )
    return interval


def parse_column_map(items: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """`vendor=ours` pairs (or a mapping) as {vendor column: our field or '-' to drop it}."""
    if items is None:
        return {}
    pairs: list[tuple[str, str]] = []
    problems: list[InputProblem] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), str(v)) for k, v in items.items()]
    else:
        for item in items:
            vendor, sep, ours = item.partition("=")
            if not sep or not vendor.strip():
                problems.append(
                    InputProblem(
                        "is not a column mapping", field="--map", value=item,
                        expected="VENDOR_COLUMN=OUR_COLUMN, e.g. Date=ts",
                    )
                )  # fmt: skip
                continue
            pairs.append((vendor.strip(), ours.strip()))
    mapping: dict[str, str] = {}
    for vendor, ours in pairs:
        ours = ours.lower()
        if ours != IGNORE and ours not in FIELDS:
            close = difflib.get_close_matches(ours, FIELDS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(FIELDS)} or -"
            problems.append(
                InputProblem("is not a bar column", field="--map", value=ours, expected=hint)
            )
        mapping[vendor] = ours
    if problems:
        raise InputError(problems)
    return mapping


# --- the result -----------------------------------------------------------------------------
@dataclasses.dataclass
class SourceFile:
    """One file as read: its original columns (for the reject file) and where its rows start."""

    name: str
    table: Any  # pyarrow.Table, original column names and values, blank lines included
    first_line: int  # the line (CSV) or row (Parquet) number of table row 0
    blank: np.ndarray[Any, Any]  # rows without a value (blank lines): not bars, not counted
    #: Reads the file again with every cell as text, when `table` holds parsed numbers.
    as_text: Callable[[], Any] | None = None

    @property
    def rows(self) -> int:
        return int(len(self.blank) - self.blank.sum())

    @functools.cached_property
    def original(self) -> Any:
        """The table as the file wrote it (for error messages and the reject file): a CSV
        read with parsed numbers is read again as text, only when a row is bad."""
        return self.table if self.as_text is None else self.as_text()


Array = np.ndarray[Any, Any]


@dataclasses.dataclass
class BarColumns:
    """Bars as columns: `codes` index `symbols`; ts in microseconds since the epoch (UTC);
    prices, volume, vwap and trades as float64 with NaN for none; `file` and `row` say where
    each bar was read (row 0-based within its file's table)."""

    symbols: list[str]
    codes: Array
    ts: Array
    open: Array
    high: Array
    low: Array
    close: Array
    volume: Array
    vwap: Array
    trades: Array
    file: Array
    row: Array

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: Array) -> BarColumns:
        """The bars at `index` (positions or a boolean mask); symbols unchanged."""
        values = {
            f.name: getattr(self, f.name)[index]
            for f in dataclasses.fields(self)
            if f.name != "symbols"
        }
        return BarColumns(symbols=self.symbols, **values)

    @classmethod
    def concat(cls, parts: Sequence[BarColumns]) -> BarColumns:
        if len(parts) == 1:
            return parts[0]
        symbols: dict[str, int] = {}
        remapped = []
        for part in parts:
            lookup = np.array([symbols.setdefault(s, len(symbols)) for s in part.symbols] + [-1])
            remapped.append(lookup[part.codes])  # code -1 (no symbol) stays -1
        values = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in dataclasses.fields(cls)
            if f.name not in ("symbols", "codes")
        }
        return cls(symbols=list(symbols), codes=np.concatenate(remapped), **values)


VIOLATION_COLUMNS = ["file", "row", "field", "rule", "expected", "column"]


@dataclasses.dataclass
class BarLoad:
    """Every row of a load, checked: `bars` the valid ones, `violations` one row per failed
    check (file index, row within that file's table, field, rule, expected, column name)."""

    interval: str
    files: list[SourceFile]
    bars: BarColumns
    violations: pd.DataFrame

    @property
    def rows_read(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def rejected(self) -> int:
        if self.violations.empty:
            return 0
        return int(self.violations[["file", "row"]].drop_duplicates().shape[0])

    def where(self, file: int, row: int) -> tuple[str, int]:
        """(file name, line or row number as reported) of a row."""
        source = self.files[file]
        return source.name, source.first_line + row

    def problems(self, limit: int = 100) -> list[InputProblem]:
        """The first `limit` failed checks as InputProblems, and one more saying how many are
        not shown."""
        problems = []
        shown = self.violations.head(limit)
        for file, row, field, rule, expected, column in zip(
            shown["file"].to_numpy(np.int64),
            shown["row"].to_numpy(np.int64),
            shown["field"].astype(str),
            shown["rule"].astype(str),
            shown["expected"].astype(str),
            shown["column"].astype(str),
            strict=True,
        ):
            source = self.files[int(file)]
            problems.append(
                InputProblem(
                    rule,
                    source.name,
                    source.first_line + int(row),
                    field,
                    _cell(source.original, column, int(row)),
                    expected or None,
                )
            )
        if len(self.violations) > limit:
            problems.append(
                InputProblem(
                    f"... and {len(self.violations) - limit:,} more problems "
                    f"({self.rejected:,} bad rows in all; --reject-file PATH writes each one)"
                )
            )
        return problems

    def write_rejects(self, path: Path) -> int:
        """Write the rejected rows with their original columns plus file, row and rule (each
        failed rule of the row as `field: rule`, '; '-separated). Without a rejected row the
        file gets the header alone, so an old reject file is never left to mislead."""
        frames = []
        columns: list[str] = []
        for number, source in enumerate(self.files):
            columns += [c for c in source.table.column_names if c not in columns]
            mine = self.violations[self.violations["file"] == number]
            if mine.empty:
                continue
            labels = mine["field"].astype(str) + ": " + mine["rule"].astype(str)
            rules = labels.groupby(mine["row"].to_numpy(), sort=True).agg("; ".join)
            rows = rules.index.to_numpy(dtype=np.int64)
            original = source.original.take(pa.array(rows))
            frame = pd.DataFrame(
                {c: original.column(c).cast(pa.string()).to_pylist() for c in original.column_names}
            )
            frame["file"] = source.name
            frame["row"] = rows + source.first_line
            frame["rule"] = rules.to_numpy()
            frames.append(frame)
        header = [*columns, "file", "row", "rule"]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=header)
        out.reindex(columns=header).to_csv(path, index=False)
        return len(out)


def _cell(table: Any, column: str, row: int) -> str | None:
    if not column or column not in table.column_names:
        return None
    value = table.column(column)[row].as_py()
    return None if value is None else str(value)


# --- reading --------------------------------------------------------------------------------
def _header(path: Path) -> tuple[list[str], str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            first = handle.readline()
    except OSError as exc:
        raise InputError(InputProblem(f"cannot read file: {exc.strerror}", str(path))) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            InputProblem("is not UTF-8 text; save the file as UTF-8", str(path), 1)
        ) from exc
    # Spreadsheets in many locales save ';'-separated "CSV": accept it when the header says so.
    delimiter = ";" if ";" in first and "," not in first else ","
    names = next(csv.reader([first], delimiter=delimiter), [])
    return list(names), delimiter  # as pyarrow names the columns: spaces kept


def _columns(
    name: str,
    header: Sequence[str],
    column_map: Mapping[str, str],
    symbol_given: bool,
) -> dict[str, str]:
    """{our field: the file's column} for the columns the load uses; unknown, missing and
    repeated columns are refused, with a suggestion."""
    lowered = {k.lower(): v for k, v in column_map.items()}
    fields: dict[str, str] = {}
    problems: list[InputProblem] = []
    for column in header:
        key = column.strip()
        target = column_map.get(key, lowered.get(key.lower(), key.lower()))
        if target == IGNORE or (not column and target == ""):
            continue
        if target not in FIELDS:
            close = difflib.get_close_matches(column.lower(), FIELDS, n=1)
            expected = (
                f"did you mean {close[0]!r}? (or --map {column}={close[0]})"
                if close
                else f"one of {', '.join(FIELDS)}, or --map {column}=FIELD, or --map {column}=-"
            )
            problems.append(InputProblem("unknown column", name, 1, column, None, expected))
        elif target in fields:
            problems.append(
                InputProblem(
                    f"column appears more than once (also {fields[target]!r})",
                    name, 1, target, None, "each column once",
                )
            )  # fmt: skip
        else:
            fields[target] = column
    for field in REQUIRED:
        if field not in fields:
            problems.append(
                InputProblem(
                    "required column is missing", name, 1, field, None,
                    f"a header with {', '.join(REQUIRED)} and symbol",
                )
            )  # fmt: skip
    if "symbol" not in fields and not symbol_given:
        problems.append(
            InputProblem(
                "required column is missing", name, 1, "symbol", None,
                "a symbol column, or --symbol SYMBOL for a file of one symbol",
            )
        )  # fmt: skip
    if "symbol" in fields and symbol_given:
        problems.append(
            InputProblem(
                "the file has a symbol column, so --symbol does not apply", name, 1, "symbol",
                None, "--symbol only for files without a symbol column",
            )
        )  # fmt: skip
    if problems:
        raise InputError(problems)
    return fields


def _read_csv(path: Path, column_map: Mapping[str, str], symbol_given: bool) -> SourceFile:
    name = str(path)
    header, delimiter = _header(path)
    if not any(h.strip() for h in header):
        raise InputError(
            InputProblem("is empty", name, 1, None, None, "a header row, then one bar per line")
        )
    fields = _columns(name, header, column_map, symbol_given)
    numbers = {fields[f] for f in NUMBERS if f in fields}
    parse = pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False)
    typed = {c: (pa.float64() if c in numbers else pa.string()) for c in header}
    as_text = functools.partial(_arrow_csv, path, parse, dict.fromkeys(header, pa.string()))
    reread: Callable[[], Any] | None = as_text
    try:
        table = _arrow_csv(path, parse, typed)
    except pa.ArrowInvalid as exc:
        if "conversion error" not in str(exc):
            raise InputError(InputProblem(f"is not valid CSV: {exc}", name)) from exc
        # A cell is not a number: read every cell as text to name each bad one.
        table, reread = as_text(), None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(InputProblem(f"cannot read file: {exc}", name)) from exc
    # Lines without a value (blank, or only separators) are not bars; they keep their place
    # so that every other row keeps its line number.
    blank = np.ones(table.num_rows, dtype=bool)
    for column in table.columns:
        blank &= column.is_null().to_numpy(zero_copy_only=False)
    return SourceFile(name, _renamed(table, fields), 2, blank, reread)


def _arrow_csv(path: Path, parse: Any, types: dict[str, Any]) -> Any:
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    read = pacsv.ReadOptions(block_size=1 << 24)  # fewer, larger chunks: faster on big files
    return pacsv.read_csv(str(path), read, parse, convert)


def _read_parquet(path: Path, column_map: Mapping[str, str], symbol_given: bool) -> SourceFile:
    name = str(path)
    try:
        table = pq.read_table(str(path))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(InputProblem(f"cannot read Parquet file: {exc}", name)) from exc
    fields = _columns(name, table.column_names, column_map, symbol_given)
    return SourceFile(name, _renamed(table, fields), 1, np.zeros(table.num_rows, dtype=bool))


def _renamed(table: Any, fields: Mapping[str, str]) -> Any:
    """The table with metadata saying which column is which field (names stay original)."""
    meta = {f"foliodb:{field}".encode(): column.encode() for field, column in fields.items()}
    return table.replace_schema_metadata(meta)


def _field_column(source: SourceFile, field: str) -> str | None:
    meta = source.table.schema.metadata or {}
    column = meta.get(f"foliodb:{field}".encode())
    return None if column is None else column.decode()


# --- parsing --------------------------------------------------------------------------------
class _Checks:
    """Failed checks of one file, as (rows, field, rule, expected) batches."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.batches: list[pd.DataFrame] = []

    def fail(self, mask: Array, field: str, rule: str, expected: str = "") -> None:
        rows = np.flatnonzero(mask & ~self.source.blank)
        if len(rows):
            column = _field_column(self.source, field) or ""
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


def _parse_file(
    source: SourceFile, interval: str, symbol: str | None
) -> tuple[BarColumns, list[pd.DataFrame]]:
    """The file's rows as typed columns (bad values as NaN or code -1), and its failed checks."""
    table, checks, n = source.table, _Checks(source), len(source.blank)
    number_columns = {}
    for field in NUMBERS:
        name = _field_column(source, field)
        number_columns[field] = (
            np.full(n, np.nan) if name is None else _numbers(table.column(name), field, checks)
        )

    name = _field_column(source, "symbol")
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

    ts_column = table.column(_field_column(source, "ts"))
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
        column = table.column(_field_column(source, field))
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
        vwap_column = _field_column(source, "vwap")
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
        file=np.zeros(n, dtype=np.int32),
        row=np.arange(n, dtype=np.int64),
        **number_columns,
    )
    return bars, checks.batches


def _says_nan(column: Any) -> Array:
    """Cells that say NaN (they read as a number; refused as not finite, not as missing)."""
    if not _is_text(column):
        return ~_numpy(column.is_null(), bool)
    said = pc.match_substring_regex(column, r"^\s*[+-]?(?i:nan)\s*$")
    return _numpy(pc.fill_null(said, False), bool)


def read_bars(
    paths: Sequence[Path],
    interval: str,
    column_map: Mapping[str, str] | None = None,
    symbol: str | None = None,
    progress: Progress | None = None,
) -> BarLoad:
    """Read and check every file of a load (Parquet by suffix .parquet/.pq, else CSV).

    Raises InputError for what makes a file unusable (unreadable, missing or unknown columns),
    for every file at once; bad rows are returned in `violations`, for the caller to refuse
    the load or reject them."""
    interval = parse_interval(interval)
    column_map = dict(column_map or {})
    if symbol is not None:
        symbol = symbol.strip().upper()
        if not symbol or len(symbol) > SYMBOL_WIDTH:
            raise InputError(
                InputProblem(
                    "is not a symbol", field="--symbol", value=symbol,
                    expected=f"1 to {SYMBOL_WIDTH} characters",
                )
            )  # fmt: skip
    sources: list[SourceFile] = []
    problems: list[InputProblem] = []
    for number, path in enumerate(paths):
        if progress is not None:
            progress(f"reading {path.name}", number, len(paths))
        reader = _read_parquet if path.suffix.lower() in (".parquet", ".pq") else _read_csv
        try:
            sources.append(reader(path, column_map, symbol is not None))
        except InputError as exc:  # every file's problems, reported together
            problems.extend(exc.problems)
    headers = {c for s in sources for c in s.table.column_names}
    problems += [
        InputProblem("is not a column of any file", field="--map", value=k, expected="a header")
        for k in column_map
        if k not in headers and not problems
    ]
    if problems:
        raise InputError(problems)

    parts: list[BarColumns] = []
    batches: list[pd.DataFrame] = []
    for number, source in enumerate(sources):
        if progress is not None:
            progress("checking", number, len(sources))
        bars, failed = _parse_file(source, interval, symbol)
        bars.file[:] = number
        parts.append(bars.take(~source.blank) if source.blank.any() else bars)
        for batch in failed:
            batch["file"] = np.int32(number)
        batches += failed
    bars = BarColumns.concat(parts) if parts else _no_bars()
    violations = (
        pd.concat(batches, ignore_index=True)
        if batches
        else pd.DataFrame({c: [] for c in VIOLATION_COLUMNS})
    )
    bad = _bad_rows(violations, bars)
    repeats = _repeats(bars, bad, sources)
    if not repeats.empty:
        violations = pd.concat([violations, repeats], ignore_index=True)
        bad = _bad_rows(violations, bars)
    if not violations.empty:
        order = violations["field"].map({f: i for i, f in enumerate(FIELDS)})
        violations = (
            violations.assign(_order=order)
            .sort_values(["file", "row", "_order"], kind="stable")
            .drop(columns="_order")
            .reset_index(drop=True)
        )
    return BarLoad(interval, sources, bars.take(~bad) if bad.any() else bars, violations)


def _no_bars() -> BarColumns:
    empty = np.zeros(0)
    return BarColumns(
        [], np.zeros(0, np.int32), np.zeros(0, np.int64), empty, empty, empty, empty, empty,
        empty, empty, np.zeros(0, np.int32), np.zeros(0, np.int64),
    )  # fmt: skip


def _bad_rows(violations: pd.DataFrame, bars: BarColumns) -> Array:
    if violations.empty:
        return np.zeros(len(bars), dtype=bool)
    # One number per (file, row): rows of a file are < 2**40.
    key = bars.file.astype(np.int64) << 40 | bars.row
    failed = violations["file"].to_numpy(np.int64) << 40 | violations["row"].to_numpy(np.int64)
    return np.isin(key, failed)


def _repeats(bars: BarColumns, bad: Array, sources: list[SourceFile]) -> pd.DataFrame:
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
    names = [sources[f].name for f in bars.file[origin]]
    lines = bars.row[origin] + np.array([sources[f].first_line for f in bars.file[origin]])
    return pd.DataFrame(
        {
            "file": bars.file[repeat_at],
            "row": bars.row[repeat_at],
            "field": "ts",
            "rule": [
                f"repeats the symbol and ts of {n}:{line}"
                for n, line in zip(names, lines, strict=True)
            ],
            "expected": "one bar per symbol and ts in a load",
            "column": [_field_column(sources[f], "ts") or "" for f in bars.file[repeat_at]],
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
