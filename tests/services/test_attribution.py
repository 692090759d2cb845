"""Currency attribution against a hand-worked two-currency portfolio."""

from __future__ import annotations

import pytest

import foliodb
from tests.builders import CsvFiles, buy, deposit, fx, price


def cad_portfolio_holding_a_usd_stock(db: foliodb.Database, files: CsvFiles) -> None:
    """Base CAD: 1,000 CAD cash and 10 shares of a USD stock bought at 100 (USD/CAD 1.30).
    A year later the stock is at 110 and USD/CAD at 1.40."""
    db.create_portfolio("Main", base_currency="CAD")
    db.import_fx(
        files.fx([fx("2024-01-02", "USD", "CAD", "1.30"), fx("2024-12-31", "USD", "CAD", "1.40")])
    )
    db.import_prices(
        files.prices(
            [price("US1", "2024-01-02", "100", "USD"), price("US1", "2024-12-31", "110", "USD")]
        )
    )
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("D1", "2024-01-02", "1000", "CAD"),
                deposit("D2", "2024-01-02", "1000", "USD", fx_rate="1.30"),
                buy("B1", "2024-01-02", "US1", "10", "100", "USD"),
            ]
        ),
    )
    db.create_pack("2024-01-02")
    db.create_pack("2024-12-31")


def test_local_fx_and_interaction_add_up_to_the_base_return(
    db: foliodb.Database, files: CsvFiles
) -> None:
    cad_portfolio_holding_a_usd_stock(db, files)

    result = db.attribution("Main", "2024-01-02", "2024-12-31")

    # Start: USD bucket 1,000 USD = 1,300 CAD; CAD bucket 1,000; NAV 2,300 CAD.
    w = 1300 / 2300
    fx_move = 1.40 / 1.30 - 1
    usd = next(c for c in result.currencies if c.currency == "USD")
    assert (usd.weight, usd.local_return, usd.fx_return) == pytest.approx((w, 0.10, fx_move))
    assert result.local == pytest.approx(w * 0.10)
    assert result.fx == pytest.approx(w * fx_move)
    assert result.interaction == pytest.approx(w * 0.10 * fx_move)
    # End: 10 x 110 x 1.40 = 1,540 + 1,000 = 2,540 CAD; 2,540 / 2,300 - 1.
    assert result.total == pytest.approx(2540 / 2300 - 1)
    assert result.actual == pytest.approx(2540 / 2300 - 1)  # no trading in between
    assert abs(result.residual_bp) < 1e-6


def test_an_empty_or_reversed_period_is_refused(db: foliodb.Database, files: CsvFiles) -> None:
    cad_portfolio_holding_a_usd_stock(db, files)

    with pytest.raises(foliodb.InputError):
        db.attribution("Main", "2024-12-31", "2024-01-02")


def test_the_base_return_differs_from_the_local_return_by_exactly_the_fx_move(
    db: foliodb.Database, files: CsvFiles
) -> None:
    # Base CAD, everything in USD: 1,000 USD buys 10 US1 at 100. US1 100 -> 110 (+10% local),
    # USD/CAD 1.30 -> 1.40 (+7.69%): in CAD 1 + r = 1.10 x 1.40 / 1.30.
    db.create_portfolio("Main", base_currency="CAD")
    db.import_fx(
        files.fx([fx("2024-01-02", "USD", "CAD", "1.30"), fx("2024-12-31", "USD", "CAD", "1.40")])
    )
    db.import_prices(
        files.prices(
            [price("US1", "2024-01-02", "100", "USD"), price("US1", "2024-12-31", "110", "USD")]
        )
    )
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("D1", "2024-01-02", "1000", "USD"),
                buy("B1", "2024-01-02", "US1", "10", "100", "USD"),
            ]
        ),
    )
    db.create_pack("2024-01-02")
    db.create_pack("2024-12-31")

    last = db.daily_values("Main").days[-1]

    assert last.local_return == pytest.approx(0.10)
    assert last.daily_return == pytest.approx(1.10 * 1.40 / 1.30 - 1)
    assert (1 + last.daily_return) / (1 + last.local_return) - 1 == pytest.approx(1.40 / 1.30 - 1)


# --- the currency_attribution cache -------------------------------------------------------------


def cached_rows(db: foliodb.Database) -> list[tuple[str, str, str]]:
    from sqlalchemy import text

    with db.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text(
                    "SELECT start_pack_id, end_pack_id, currency FROM currency_attribution"
                    " ORDER BY 1, 2, 3"
                )
            )
        ]


def attribution_counts(db: foliodb.Database) -> tuple[int, int]:
    return db.cache_counters().get("attribution", (0, 0))


def test_attribution_is_stored_per_currency_and_served_from_the_cache(
    db: foliodb.Database, files: CsvFiles
) -> None:
    cad_portfolio_holding_a_usd_stock(db, files)

    first = db.attribution("Main", "2024-01-02", "2024-12-31")
    assert attribution_counts(db) == (0, 1)
    assert cached_rows(db) == [
        ("PP_2024-01-02", "PP_2024-12-31", "*"),
        ("PP_2024-01-02", "PP_2024-12-31", "CAD"),
        ("PP_2024-01-02", "PP_2024-12-31", "USD"),
    ]
    again = db.attribution("Main", "2024-01-02", "2024-12-31")
    assert attribution_counts(db) == (1, 1)
    assert again == first  # every figure, per currency and overall, as computed


def test_a_new_transaction_or_an_earlier_pack_invalidates_but_a_later_pack_does_not(
    db: foliodb.Database, files: CsvFiles
) -> None:
    cad_portfolio_holding_a_usd_stock(db, files)
    db.attribution("Main", "2024-01-02", "2024-12-31")

    # A pack dated after the period cannot change it: still a hit.
    db.import_prices(files.prices([price("US1", "2025-01-31", "120", "USD")]))
    db.import_fx(files.fx([fx("2025-01-31", "USD", "CAD", "1.35")]))
    db.create_pack("2025-01-31")
    db.attribution("Main", "2024-01-02", "2024-12-31")
    assert attribution_counts(db) == (1, 1)

    # A pack inside the period changes the actual (time-weighted) return: a miss.
    db.import_prices(files.prices([price("US1", "2024-06-28", "90", "USD")]))
    db.import_fx(files.fx([fx("2024-06-28", "USD", "CAD", "1.32")]))
    db.create_pack("2024-06-28")
    db.attribution("Main", "2024-01-02", "2024-12-31")
    assert attribution_counts(db) == (1, 2)

    # A new transaction: a miss, and the figures change (a withdrawal mid-period).
    before = db.attribution("Main", "2024-01-02", "2024-12-31")
    assert attribution_counts(db) == (2, 2)
    db.import_transactions(
        "Main", files.transactions([deposit("W1", "2024-06-28", "500", "CAD", type="WITHDRAWAL")])
    )
    after = db.attribution("Main", "2024-01-02", "2024-12-31")
    assert attribution_counts(db) == (2, 3)
    assert after.total == pytest.approx(before.total)  # start holdings unchanged
    # Less cash after the withdrawal weighs the stock's recovery more: a different TWR.
    assert after.actual != pytest.approx(before.actual, abs=1e-9)
    # Only the latest fingerprint's rows are kept.
    assert len(cached_rows(db)) == 3
