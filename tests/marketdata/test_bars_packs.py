"""Packs priced from bars: each security's 1d close (loaded or rolled up), exact as the vendor
wrote it, values a portfolio; carried forward only when asked, like imported prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import foliodb
from foliodb.domain.types import PackStatus
from tests.builders import CsvFiles, buy, deposit

from .conftest import BarFiles, add_security, minute_bars

FRIDAY = dt.date(2024, 3, 8)
SATURDAY = dt.date(2024, 3, 9)


def portfolio(db: foliodb.Database, tmp_path: Path) -> None:
    """USD portfolio: 100 AAPL (an XNYS security) bought at 170.00, 5,000 USD cash left."""
    add_security(db, "AAPL", "XNYS")
    db.create_portfolio("Main", base_currency="USD")
    files = CsvFiles(tmp_path)
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("T0", "2024-03-01", "22000", "USD"),
                buy("T1", "2024-03-04", "AAPL", "100", "170.00", "USD"),
            ]
        ),
    )


def friday_minutes() -> list[dict[str, object]]:
    """The session of 8 March 2024; the last minute closes at 170.73."""
    rows = minute_bars("AAPL", "2024-03-08 14:30", "2024-03-08 21:00")
    rows[-1].update(open=170.70, high=170.80, low=170.60, close=170.73)
    return rows


def test_a_pack_from_rolled_up_bars_values_the_portfolio_at_the_exact_close(
    db: foliodb.Database, bar_files: BarFiles, tmp_path: Path
) -> None:
    portfolio(db, tmp_path)
    db.bars.import_files([bar_files.csv(friday_minutes())], "1m", source="vendor")

    result = db.create_pack(FRIDAY, from_bars=True)

    assert result.pack.status is PackStatus.COMPLETE
    (price,) = result.pack.prices
    assert (price.symbol, price.price, price.currency, price.price_date) == (
        "AAPL", Decimal("170.73"), "USD", FRIDAY,
    )  # fmt: skip
    valued = db.valuation("Main", date=FRIDAY)
    (position,) = valued.positions
    assert position.market_value_base == Decimal("17073.00")
    assert valued.totals()["total_value"] == Decimal("22073.00")


def test_a_loaded_daily_bar_prices_the_pack_exactly_as_written(
    db: foliodb.Database, bar_files: BarFiles, tmp_path: Path
) -> None:
    portfolio(db, tmp_path)
    daily = {"symbol": "AAPL", "ts": "2024-03-08", "open": "169.1", "high": "187.35",
             "low": "168.2", "close": "187.35", "volume": "1"}  # fmt: skip
    db.bars.import_files([bar_files.csv([daily])], "1d")

    (price,) = db.create_pack(FRIDAY, from_bars=True).pack.prices

    assert str(price.price) == "187.35"


def test_a_weekend_pack_carries_friday_s_close_only_when_asked(
    db: foliodb.Database, bar_files: BarFiles, tmp_path: Path
) -> None:
    portfolio(db, tmp_path)
    db.bars.import_files([bar_files.csv(friday_minutes())], "1m")

    strict = db.create_pack(SATURDAY, from_bars=True)
    carried = db.create_pack(SATURDAY, carry_forward=True, from_bars=True)

    assert strict.pack.status is PackStatus.FAILED
    assert "no price on 2024-03-09 for held securities: AAPL" in (strict.pack.reason or "")
    assert carried.pack.status is PackStatus.COMPLETE
    assert carried.carried == ("AAPL",)
    assert [(p.price, p.price_date) for p in carried.pack.prices] == [(Decimal("170.73"), FRIDAY)]


def test_without_from_bars_a_pack_ignores_bars(
    db: foliodb.Database, bar_files: BarFiles, tmp_path: Path
) -> None:
    portfolio(db, tmp_path)
    db.bars.import_files([bar_files.csv(friday_minutes())], "1m")

    result = db.create_pack(FRIDAY)

    assert result.pack.status is PackStatus.FAILED
    assert result.pack.prices == ()
