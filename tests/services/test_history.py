"""Daily history: values at every sealed pack, external flows, time-weighted returns, and
recomputation from the first changed date only. Figures worked by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pandas as pd
import pytest
from sqlalchemy import select

import foliodb
from foliodb.services import history
from foliodb.store.tables import PortfolioCashFlowRow
from tests.builders import CsvFiles, buy, deposit, price

DAYS = ("2024-01-02", "2024-01-03", "2024-01-04")


def three_days(db: foliodb.Database, files: CsvFiles) -> None:
    """Deposit 1000 and buy 10 X at 50 on day one; X closes at 50, 55, 60; 100 is withdrawn
    on day three."""
    db.create_portfolio("Main")
    db.import_prices(
        files.prices(
            [price("X", day, p, "USD") for day, p in zip(DAYS, ("50", "55", "60"), strict=True)]
        )
    )
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("D1", DAYS[0], "1000", "USD"),
                buy("B1", DAYS[0], "X", "10", "50", "USD"),
                {"external_id": "W1", "trade_date": DAYS[2], "type": "WITHDRAWAL",
                 "amount": "100", "currency": "USD"},
            ]
        ),
    )  # fmt: skip
    for day in DAYS:
        db.create_pack(day)


def test_each_sealed_pack_date_gets_its_value_flows_pnl_and_return(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)

    days = db.daily_values("Main").days

    # NAV: 500 cash + 500 X; 500 + 550; 400 + 600. Flows +1000 on day one, -100 on day three.
    assert [(d.nav, d.external_flows, d.daily_pnl) for d in days] == [
        (D(1000), D(1000), D(0)),
        (D(1050), D(0), D(50)),
        (D(1000), D(-100), D(50)),
    ]
    # r = V / (V_prev + inflow) - 1; an outflow counts at the end of its day:
    # day 1: 1000 / 1000 - 1 = 0; day 2: 1050 / 1000 - 1; day 3: (1000 + 100) / 1050 - 1.
    assert [d.daily_return for d in days] == pytest.approx([0.0, 0.05, 1100 / 1050 - 1])
    assert days[-1].nav == db.valuation("Main").valuation.total_value


def test_external_flows_are_stored_at_their_value_date(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    db.daily_values("Main")

    with db.engine.connect() as conn:
        stored = conn.execute(
            select(PortfolioCashFlowRow.tx_id, PortfolioCashFlowRow.value_date,
                   PortfolioCashFlowRow.amount_base).order_by(PortfolioCashFlowRow.tx_id)
        ).all()  # fmt: skip
    assert [(t, v, D(a)) for t, v, a in stored] == [
        ("D1", dt.date(2024, 1, 2), D(1000)),
        ("W1", dt.date(2024, 1, 4), D(-100)),
    ]


def test_a_new_transaction_recomputes_from_its_date_and_nothing_earlier(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    assert history.refresh_history(db.engine, "Main") == 3
    assert history.refresh_history(db.engine, "Main") == 0  # nothing changed

    db.import_transactions(
        "Main",
        files.transactions(
            [{"external_id": "V1", "trade_date": DAYS[2], "type": "DIVIDEND", "symbol": "X",
              "amount": "10", "currency": "USD"}]
        ),
    )  # fmt: skip

    assert history.refresh_history(db.engine, "Main") == 1
    last = db.daily_values("Main").days[-1]
    assert (last.nav, last.income, last.daily_pnl) == (D(1010), D(10), D(60))


def test_a_restated_pack_recomputes_every_portfolio_from_its_date(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    db.daily_values("Main")
    db.import_prices(files.prices([price("X", DAYS[1], "56", "USD")]))

    restated = db.create_pack(DAYS[1])

    assert restated.pack_id == "PP_2024-01-03.2"
    assert history.refresh_history(db.engine, "Main") == 2
    days = db.daily_values("Main").days
    assert (days[1].pack_id, days[1].nav) == ("PP_2024-01-03.2", D(1060))


def test_performance_chains_the_daily_returns_and_adds_the_money_weighted_return(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)

    result = db.performance("Main")

    # ITD: 1.05 x (1100 / 1050) - 1 = 0.1 exactly.
    assert result.periods.loc["ITD", "total_return"] == pytest.approx(0.1)
    assert result.metrics["cumulative_return"] == pytest.approx(0.1)
    assert result.money_weighted_return > 0


def test_a_security_as_benchmark_gives_its_returns_and_the_relative_metrics(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)

    result = db.performance("Main", benchmark="X")

    # X: 50 -> 55 -> 60, so the benchmark returns 20% since the first valuation.
    assert result.benchmark_periods is not None
    assert result.benchmark_periods.loc["ITD", "total_return"] == pytest.approx(0.2)
    assert {"beta", "alpha", "tracking_error", "information_ratio"} <= set(result.metrics.index)


def test_an_unknown_benchmark_is_refused_by_name(db: foliodb.Database, files: CsvFiles) -> None:
    three_days(db, files)

    with pytest.raises(foliodb.NotFoundError, match="'NOPE'"):
        db.performance("Main", benchmark="NOPE")


def test_a_full_exit_and_re_entry_chains_across_the_empty_days(
    db: foliodb.Database, files: CsvFiles
) -> None:
    # Day 1: deposit 1000, buy 10 X at 100. Day 2 (X 110): sell all, withdraw 1100.
    # Day 3: nothing held (no capital, no return). Day 4: deposit 500, buy 5 at 100 (X 100).
    # Day 5 (X 120): 600. TWR: day 2 = 1100 / 1000 - 1 = 10%; day 5 = 600 / 500 - 1 = 20%.
    days = ("2024-02-01", "2024-02-02", "2024-02-05", "2024-02-06", "2024-02-07")
    db.create_portfolio("Main")
    db.import_prices(
        files.prices(
            [price("X", d, p, "USD") for d, p in zip(days, ("100", "110", "105", "100", "120"),
                                                       strict=True)]
        )
    )  # fmt: skip
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("D1", days[0], "1000", "USD"),
                buy("B1", days[0], "X", "10", "100", "USD"),
                {"external_id": "S1", "trade_date": days[1], "type": "SELL", "symbol": "X",
                 "quantity": "10", "price": "110", "currency": "USD"},
                {"external_id": "W1", "trade_date": days[1], "type": "WITHDRAWAL",
                 "amount": "1100", "currency": "USD"},
                deposit("D2", days[3], "500", "USD"),
                buy("B2", days[3], "X", "5", "100", "USD"),
            ]
        ),
    )  # fmt: skip
    for day in days:
        db.create_pack(day, carry_forward=True)

    history_days = db.daily_values("Main").days
    result = db.performance("Main")

    assert [d.nav for d in history_days] == [D(1000), D(0), D(0), D(500), D(600)]
    returns = [d.daily_return for d in history_days]
    assert returns[1] == pytest.approx(0.10)  # the sale day keeps its return
    assert returns[2] != returns[2]  # NaN: no capital
    assert returns[4] == pytest.approx(0.20)
    assert result.periods.loc["ITD", "total_return"] == pytest.approx(1.1 * 1.2 - 1)


def test_a_dividend_after_a_sale_is_income_not_a_flow(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    db.import_transactions(
        "Main",
        files.transactions(
            [{"external_id": "V1", "trade_date": DAYS[2], "type": "DIVIDEND", "symbol": "Y",
              "amount": "5", "currency": "USD"}]
        ),
    )  # fmt: skip

    last = db.daily_values("Main").days[-1]

    # Day 3: 405 cash + 600 X = 1005; the dividend is income and P&L, not an external flow.
    assert (last.nav, last.external_flows, last.income, last.daily_pnl) == (
        D(1005), D(-100), D(5), D(55),
    )  # fmt: skip
    assert last.daily_return == pytest.approx(1105 / 1050 - 1)


def test_performance_is_served_from_the_cache_until_an_input_changes(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)

    first = db.performance("Main", benchmark="X")
    again = db.performance("Main", benchmark="X")
    assert db.cache_counters()["performance"] == (1, 1)  # (hits, misses)
    assert again.metrics.to_dict() == pytest.approx(first.metrics.to_dict(), nan_ok=True)
    assert again.periods["total_return"].tolist() == pytest.approx(
        first.periods["total_return"].tolist(), nan_ok=True
    )
    assert again.periods["start"].tolist() == first.periods["start"].tolist()
    assert again.money_weighted_return == pytest.approx(first.money_weighted_return)
    assert again.benchmark_periods is not None

    db.import_transactions(  # a new transaction: a new ledger version
        "Main", files.transactions([deposit("D9", DAYS[2], "1", "USD")])
    )
    db.performance("Main", benchmark="X")
    db.import_prices(files.prices([price("X", DAYS[1], "56", "USD")]))
    db.create_pack(DAYS[1])  # a restated pack: a new seal
    restated = db.performance("Main", benchmark="X")

    assert db.cache_counters()["performance"] == (1, 3)
    assert restated.metrics["annual_volatility"] != first.metrics["annual_volatility"]


def test_a_custom_period_and_the_modified_dietz_return(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)

    result = db.performance("Main", start=DAYS[1])

    # From the close of day 2 (1050) to day 3: (1000 + 100 withdrawn at the close) / 1050 - 1.
    assert result.periods.loc["CUSTOM", "total_return"] == pytest.approx(1100 / 1050 - 1)
    # Modified Dietz since inception: (1000 - 0 - (1000 - 100)) / (0 + 1000 x 1 - 100 x 0),
    # the deposit weighing the whole period, the end-of-day withdrawal nothing.
    assert result.modified_dietz == pytest.approx(0.10)
    cached = db.performance("Main", start=DAYS[1])
    assert cached.periods.loc["CUSTOM", "total_return"] == pytest.approx(1100 / 1050 - 1)
    assert cached.modified_dietz == pytest.approx(0.10)


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (DAYS[2], "is not before end"),
        ("2025-01-01", "is not before end"),
        ("2023-06-30", "is before the history"),
    ],
)
def test_a_custom_period_the_history_cannot_measure_is_an_input_error(
    db: foliodb.Database, files: CsvFiles, start: str, message: str
) -> None:
    three_days(db, files)
    with pytest.raises(foliodb.InputError) as refused:
        db.performance("Main", start=start)
    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("start", start)
    assert message in problem.message


def test_a_custom_period_the_benchmark_cannot_measure_leaves_only_its_row_empty(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    # The portfolio's history starts at the close before its first day; the benchmark's
    # (price returns) only at its first close.
    result = db.performance("Main", benchmark="X", start="2024-01-01")
    assert result.periods.loc["CUSTOM", "total_return"] == pytest.approx(1100 / 1000 - 1)
    assert result.benchmark_periods is not None
    assert pd.isna(result.benchmark_periods.loc["CUSTOM", "total_return"])
    measured = db.performance("Main", benchmark="X", start=DAYS[0])
    assert measured.benchmark_periods is not None
    assert measured.benchmark_periods.loc["CUSTOM", "total_return"] == pytest.approx(60 / 50 - 1)


def test_a_metrics_table_computes_many_portfolios_at_once_like_one_at_a_time(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    db.create_portfolio("Other")
    db.import_transactions("Other", files.transactions([deposit("O1", DAYS[0], "500", "USD")]))

    table = db.metrics_table()

    assert list(table.columns) == ["Main", "Other"]
    alone = db.performance("Main").metrics
    assert table["Main"]["sharpe_ratio"] == pytest.approx(alone["sharpe_ratio"])
    assert table["Other"]["cumulative_return"] == pytest.approx(0.0)
    with pytest.raises(foliodb.NotFoundError, match="'Nope'"):
        db.metrics_table(["Nope"])


def test_the_metrics_table_is_cached_per_portfolio_and_a_change_misses_only_its_own(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    db.create_portfolio("Other")
    db.import_transactions("Other", files.transactions([deposit("O1", DAYS[0], "500", "USD")]))
    first = db.metrics_table()
    assert db.cache_counters()["metrics_table"] == (0, 2)

    again = db.metrics_table()
    assert db.cache_counters()["metrics_table"] == (2, 2)
    pd.testing.assert_frame_equal(again, first)

    # A new transaction in Other: Other misses, Main still hits.
    db.import_transactions("Other", files.transactions([deposit("O2", DAYS[1], "100", "USD")]))
    db.metrics_table()
    assert db.cache_counters()["metrics_table"] == (3, 3)


def test_the_batch_and_the_single_portfolio_caches_do_not_evict_each_other(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    db.performance("Main")
    db.metrics_table()
    db.performance("Main")
    db.metrics_table()
    counters = db.cache_counters()
    assert counters["performance"] == (1, 1)
    assert counters["metrics_table"] == (1, 1)


def test_a_portfolio_in_the_table_has_the_same_metrics_as_alone_whoever_else_is_there(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    # Later is valued from the second day only: its dates differ from Main's.
    db.create_portfolio("Later")
    db.import_transactions("Later", files.transactions([deposit("L1", DAYS[1], "700", "USD")]))

    together = db.metrics_table()

    for name in ("Main", "Later"):
        alone = db.performance(name).metrics
        for metric in ("annual_return", "annual_volatility", "sharpe_ratio", "max_drawdown"):
            assert together[name][metric] == pytest.approx(alone[metric], nan_ok=True)
    assert together["Main"].equals(db.metrics_table(["Main"])["Main"])
