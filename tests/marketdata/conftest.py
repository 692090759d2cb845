"""Bar files as a user would write them, and bars to check roll-ups against.

`minute_bars` makes deterministic, valid one-minute bars (open and close inside [low, high]);
the expected answers of the tests are computed from the same rows by pandas, never by foliodb.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import foliodb
from foliodb.store.tables_bars import OhlcvBarRow
from tests.builders import write_csv

Row = dict[str, Any]
BAR_COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume", "vwap", "trades")


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def minute_bars(
    symbol: str,
    start: str,
    end: str,
    seed: int = 1,
    missing: Iterable[str] = (),
    with_vwap: bool = True,
) -> list[Row]:
    """One-minute bars from `start` to `end` (UTC, end excluded), without the `missing`
    minutes; prices have two decimals, as a vendor writes them."""
    rng = random.Random(f"{symbol}{start}{seed}")
    skip = {utc(m) for m in missing}
    rows: list[Row] = []
    when, stop = utc(start), utc(end)
    price = rng.uniform(50, 300)
    while when < stop:
        price *= 1 + rng.gauss(0, 0.001)
        open_, close = round(price, 2), round(price * (1 + rng.gauss(0, 0.0005)), 2)
        high = round(max(open_, close) + rng.randint(0, 9) / 100, 2)
        low = round(min(open_, close) - rng.randint(0, 9) / 100, 2)
        if when not in skip:
            rows.append(
                {
                    "symbol": symbol,
                    "ts": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": rng.randint(0, 5000),
                    "vwap": round((high + low + close) / 3, 4) if with_vwap else None,
                    "trades": rng.randint(0, 60),
                }
            )
        when += dt.timedelta(minutes=1)
    return rows


class BarFiles:
    """Numbered bar files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    def csv(self, rows: Sequence[Row], columns: Sequence[str] | None = None) -> Path:
        self.count += 1
        return write_csv(self.directory / f"bars-{self.count}.csv", rows, columns or BAR_COLUMNS)


@pytest.fixture
def bar_files(tmp_path: Path) -> BarFiles:
    return BarFiles(tmp_path)


def stored(db: foliodb.Database, interval: str | None = None) -> list[tuple[Any, ...]]:
    """Every stored bar as (symbol, interval, ts, open, high, low, close, volume, vwap,
    trades, source), ts an aware UTC datetime on both engines."""
    bar = OhlcvBarRow
    stmt = sa.select(
        bar.symbol, bar.interval, bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume,
        bar.vwap, bar.trades, bar.source,
    ).order_by(bar.symbol, bar.interval, bar.ts)  # fmt: skip
    if interval is not None:
        stmt = stmt.where(bar.interval == interval)
    with db.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(stmt).all()]


def add_security(
    db: foliodb.Database, symbol: str, exchange: str | None, currency: str = "USD"
) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO securities (symbol, name, type, currency, exchange) "
                "VALUES (:symbol, :symbol, 'EQUITY', :currency, :exchange)"
            ),
            {"symbol": symbol, "currency": currency, "exchange": exchange},
        )
