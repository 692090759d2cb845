"""OHLCV bars: bulk import (CSV, Parquet), validation, roll-ups, retention and queries.

Conventions (docs/marketdata.md): `ts` is the bar's start in UTC; a 1d bar's ts is 00:00 UTC
of the exchange-local session date; prices are float64. Roll-up bars carry source 'rollup'
and never replace a bar loaded from a vendor.

`Bars` is the API; each use case lives in its own module (importing, rollups, retention,
queries) as functions of the engine, and the names callers use are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from foliodb.services.bars import importing, queries, retention, rollups
from foliodb.services.bars.importing import (
    ON_CONFLICT,
    SOURCE_WIDTH,
    BarImportResult,
    Progress,
)
from foliodb.services.bars.queries import Bar
from foliodb.services.bars.retention import RetentionResult
from foliodb.services.bars.rollups import (
    ROLLUP_TARGETS,
    STEP_US,
    RollupResult,
    rollup_frame,
)

if TYPE_CHECKING:  # pandas loads when bars are returned, not at start-up
    import pandas as pd

__all__ = [
    "ON_CONFLICT",
    "ROLLUP_TARGETS",
    "SOURCE_WIDTH",
    "STEP_US",
    "Bar",
    "BarImportResult",
    "Bars",
    "Progress",
    "RetentionResult",
    "RollupResult",
    "rollup_frame",
]


class Bars:
    """`Database.bars`: the market-data store's Python API."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def import_files(
        self,
        paths: Sequence[str | Path] | str | Path,
        interval: str,
        source: str | None = None,
        on_conflict: str = "skip",
        column_map: Mapping[str, str] | Iterable[str] | None = None,
        reject_file: str | Path | None = None,
        progress: Progress | None = None,
        symbol: str | None = None,
        rollup: bool = True,
    ) -> BarImportResult:
        """Load bar files (CSV, or Parquet by suffix) in one transaction.

        Any invalid row refuses the whole load, naming every problem; with `reject_file` the
        invalid rows are written there instead (original columns plus file, row, rule) and
        the rest loads. A stored bar with the same symbol, interval and ts is kept (skip),
        replaced when different (update) or refuses the load when different (error); an
        identical one is skipped in every mode, and a roll-up bar is always replaced. With
        `rollup` the coarser intervals are brought up to date in the same transaction.
        """
        return importing.import_files(
            self.engine, paths, interval, source, on_conflict, column_map, reject_file,
            progress, symbol, rollup,
        )  # fmt: skip

    def rollup(
        self, symbols: Sequence[str] | None = None, intervals: Sequence[str] | None = None
    ) -> list[RollupResult]:
        """(Re)build roll-up bars of `symbols` (default: every symbol with loaded bars) into
        `intervals` (default 5m, 15m, 1h, 1d) from every loaded finer bar. Buckets without
        a source bar any more (after retention) keep their roll-up."""
        return rollups.rollup(self.engine, symbols, intervals)

    def query(
        self,
        symbol: str,
        interval: str,
        start: dt.date | dt.datetime | str | None = None,
        end: dt.date | dt.datetime | str | None = None,
    ) -> pd.DataFrame:
        """Bars of one symbol and interval, indexed by ts (UTC): open, high, low, close,
        volume, vwap, trades, source. A date as `start` means its 00:00 UTC; as `end`, the
        whole day (end is inclusive either way)."""
        return queries.query(self.engine, symbol, interval, start, end)

    def latest(self, symbol: str, interval: str) -> Bar | None:
        """The newest bar of a symbol and interval, or None."""
        return queries.latest(self.engine, symbol, interval)

    def apply_retention(
        self,
        interval: str,
        older_than: str | None = None,
        before: dt.date | str | None = None,
    ) -> RetentionResult:
        """Remove the bars of `interval` that start before a cutoff: `older_than` an age
        (90d, 12w, 6m, 2y: counted back from today 00:00 UTC) or `before` a date (00:00 UTC).
        PostgreSQL drops whole partitions that are entirely older and deletes the other old
        rows; roll-ups already made from the removed bars stay."""
        return retention.apply_retention(self.engine, interval, older_than, before)
