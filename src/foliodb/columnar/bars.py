"""OHLCV bars as columns: what ingest reads into and the bar repository writes from."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


@dataclasses.dataclass(frozen=True)
class BarColumns:
    """Bars as columns: `codes` index `symbols`; `ts` int64 microseconds since the epoch (UTC);
    prices, volume, vwap and trades float64 with NaN for none; `ref` an int64 per bar that
    identifies it to whoever made the columns (ingest: its file and row), by which the store
    reports conflicts and the bars it left unchanged."""

    symbols: Sequence[str]
    codes: Array
    ts: Array
    open: Array
    high: Array
    low: Array
    close: Array
    volume: Array
    vwap: Array
    trades: Array
    ref: Array

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

    def ranges(self) -> tuple[list[str], Array, Array]:
        """(symbol, first ts, last ts) of each symbol that has rows."""
        if not len(self):
            return [], np.zeros(0, np.int64), np.zeros(0, np.int64)
        count = np.bincount(self.codes, minlength=len(self.symbols))
        used = np.flatnonzero(count)
        lo = np.full(len(self.symbols), np.iinfo(np.int64).max)
        hi = np.full(len(self.symbols), np.iinfo(np.int64).min)
        np.minimum.at(lo, self.codes, self.ts)
        np.maximum.at(hi, self.codes, self.ts)
        return [self.symbols[int(i)] for i in used], lo[used], hi[used]
