"""Reading bar files (CSV, Parquet) into arrow tables whose metadata names each field's
column; blank CSV lines keep their place so that every row keeps its line number."""

from __future__ import annotations

import csv
import dataclasses
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from foliodb.errors import InputError, InputProblem
from foliodb.ingest.bars.fields import NUMBERS, map_columns


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


def read_csv(path: Path, column_map: Mapping[str, str], symbol_given: bool) -> SourceFile:
    name = str(path)
    header, delimiter = _header(path)
    if not any(h.strip() for h in header):
        raise InputError(
            InputProblem("is empty", name, 1, None, None, "a header row, then one bar per line")
        )
    fields = map_columns(name, header, column_map, symbol_given)
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


def read_parquet(path: Path, column_map: Mapping[str, str], symbol_given: bool) -> SourceFile:
    name = str(path)
    try:
        table = pq.read_table(str(path))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(InputProblem(f"cannot read Parquet file: {exc}", name)) from exc
    fields = map_columns(name, table.column_names, column_map, symbol_given)
    return SourceFile(name, _renamed(table, fields), 1, np.zeros(table.num_rows, dtype=bool))


def _renamed(table: Any, fields: Mapping[str, str]) -> Any:
    """The table with metadata saying which column is which field (names stay original)."""
    meta = {f"foliodb:{field}".encode(): column.encode() for field, column in fields.items()}
    return table.replace_schema_metadata(meta)


def field_column(source: SourceFile, field: str) -> str | None:
    meta = source.table.schema.metadata or {}
    column = meta.get(f"foliodb:{field}".encode())
    return None if column is None else column.decode()
