"""A load of bar files, read and checked whole before anything is written: the valid bars,
every failed check, the problems to report and the reject file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]

from foliodb.columnar.bars import BarColumns
from foliodb.errors import InputError, InputProblem
from foliodb.ingest.bars.checks import (
    VIOLATION_COLUMNS,
    bad_rows,
    file_of,
    parse_file,
    repeats,
    row_of,
)
from foliodb.ingest.bars.fields import FIELDS, SYMBOL_WIDTH, parse_interval
from foliodb.ingest.bars.files import SourceFile, read_csv, read_parquet

Progress = Callable[[str, int, int], None]


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

    def where(self, ref: int) -> tuple[str, int]:
        """(file name, line or row number as reported) of the bar with this `ref`."""
        source = self.files[int(file_of(ref))]
        return source.name, source.first_line + int(row_of(ref))

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
        reader = read_parquet if path.suffix.lower() in (".parquet", ".pq") else read_csv
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
        bars, failed = parse_file(source, interval, symbol, number)
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
    bad = bad_rows(violations, bars)
    repeated = repeats(bars, bad, sources)
    if not repeated.empty:
        violations = pd.concat([violations, repeated], ignore_index=True)
        bad = bad_rows(violations, bars)
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
        empty, empty, np.zeros(0, np.int64),
    )  # fmt: skip
