"""OHLCV bars: bulk import (CSV, Parquet), validation, roll-ups, retention and queries."""

from __future__ import annotations

from sqlalchemy import Engine


class Bars:
    """`Database.bars`: the market-data store's Python API."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
