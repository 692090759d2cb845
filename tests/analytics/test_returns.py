"""Time-weighted returns and the period table, against hand-worked answers.

Every expected figure is worked out by hand in the test (products of 1 + r, calendar days):
never by the functions under test.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foliodb.analytics import returns

NAN = float("nan")


def daily(returns_by_day: dict[str, float]) -> pd.Series:
    """A daily return series from ISO dates to returns, as a service would build it."""
    return pd.Series(list(returns_by_day.values()), index=pd.to_datetime(list(returns_by_day)))


def quiet_days(first: str, last: str, moves: dict[str, float]) -> pd.Series:
    """Business days from first to last with a zero return, but for the days in `moves`."""
    index = pd.bdate_range(first, last)
    strays = set(moves) - {f"{day:%Y-%m-%d}" for day in index}
    assert not strays, f"{strays} are not business days of the fixture"
    return pd.Series([moves.get(f"{day:%Y-%m-%d}", 0.0) for day in index], index=index)


def row(table: pd.DataFrame, period: str) -> pd.Series:
    found = table.loc[period]
    assert isinstance(found, pd.Series)
    return found


# --- daily_twr -----------------------------------------------------------------------------


def test_a_flow_counts_at_the_start_of_its_day() -> None:
    # 100 held, 50 deposited in the morning, 165 at the close: 165 / 150 - 1.
    assert returns.daily_twr([165.0], [100.0], [50.0])[0] == pytest.approx(0.1)


def test_daily_returns_chain_geometrically_across_deposits() -> None:
    values_end = [1010.0, 1030.2, 1514.898]
    flows = [1000.0, 0.0, 500.0]
    daily_returns = returns.daily_twr(values_end, returns.previous_values(values_end), flows)
    # 1000 -> 1010; 1010 -> 1030.2; (1030.2 + 500) -> 1514.898 = 1530.2 * 0.99
    np.testing.assert_allclose(daily_returns, [0.01, 0.02, -0.01])
    assert returns.chain(daily_returns) == pytest.approx(1.01 * 1.02 * 0.99 - 1)


def test_an_outflow_counts_at_the_start_unless_asked_to_count_it_at_the_end() -> None:
    # 1000 held, 200 withdrawn, 880 at the close.
    at_start = returns.daily_twr([880.0], [1000.0], [-200.0])
    at_end = returns.daily_twr([880.0], [1000.0], [-200.0], outflows_at="end")
    assert at_start[0] == pytest.approx(880 / 800 - 1)
    assert at_end[0] == pytest.approx((880 + 200) / 1000 - 1)


def test_an_inflow_counts_at_the_start_under_both_outflow_timings() -> None:
    at_start = returns.daily_twr([165.0], [100.0], [50.0])
    at_end = returns.daily_twr([165.0], [100.0], [50.0], outflows_at="end")
    assert at_start[0] == at_end[0] == pytest.approx(0.1)


def test_an_outflow_at_the_end_of_a_day_chains_like_one_at_the_start_of_the_next() -> None:
    # Day 2 gains 10% (1100 -> 1210), then 605 leaves. Booked at the close of day 2 the close
    # excludes it; booked at the start of day 3 the close of day 2 still holds it.
    end_of_day = returns.daily_twr(
        [1100.0, 605.0, 605.0], [0.0, 1100.0, 605.0], [1000.0, -605.0, 0.0], outflows_at="end"
    )
    next_morning = returns.daily_twr(
        [1100.0, 1210.0, 605.0], [0.0, 1100.0, 1210.0], [1000.0, 0.0, -605.0]
    )
    np.testing.assert_allclose(end_of_day, [0.1, 0.1, 0.0])
    np.testing.assert_allclose(next_morning, [0.1, 0.1, 0.0])
    assert returns.chain(end_of_day) == pytest.approx(returns.chain(next_morning))


def test_a_first_day_without_capital_is_only_the_base_of_the_chain() -> None:
    values_end = [1000.0, 1010.0]
    daily_returns = returns.daily_twr(values_end, returns.previous_values(values_end), [0, 0])
    assert np.isnan(daily_returns[0])
    assert daily_returns[1] == pytest.approx(0.01)


def test_the_inception_day_earns_a_return_on_its_opening_deposit() -> None:
    values_end = [1010.0, 1030.2]
    daily_returns = returns.daily_twr(values_end, returns.previous_values(values_end), [1000, 0])
    np.testing.assert_allclose(daily_returns, [0.01, 0.02])


def test_a_known_prior_close_can_stand_before_the_first_day() -> None:
    values_end = [1010.0]
    prev = returns.previous_values(values_end, initial_value=1000.0)
    assert returns.daily_twr(values_end, prev, [0.0])[0] == pytest.approx(0.01)


def test_previous_values_shift_each_portfolio_down_one_day() -> None:
    values_end = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    np.testing.assert_array_equal(
        returns.previous_values(values_end, initial_value=[0.5, 5.0]),
        [[0.5, 5.0], [1.0, 10.0], [2.0, 20.0]],
    )


def test_a_full_exit_and_re_entry_skip_the_days_without_capital() -> None:
    # Deposit 1000; +10%; sold (cash stays); 1100 withdrawn next morning; a day empty;
    # 2000 deposited: -5%; +10%.
    values_end = [1000.0, 1100.0, 1100.0, 0.0, 0.0, 1900.0, 2090.0]
    flows = [1000.0, 0.0, 0.0, -1100.0, 0.0, 2000.0, 0.0]
    daily_returns = returns.daily_twr(values_end, returns.previous_values(values_end), flows)
    np.testing.assert_allclose(daily_returns, [0.0, 0.1, 0.0, NAN, NAN, -0.05, 0.1])
    assert returns.chain(daily_returns) == pytest.approx(1.1 * 0.95 * 1.1 - 1)


def test_a_same_day_full_exit_needs_end_of_day_outflows() -> None:
    # 1000 held; everything sold and withdrawn the same day at 1050 (or at 950).
    rose_start = returns.daily_twr([0.0], [1000.0], [-1050.0])
    rose_end = returns.daily_twr([0.0], [1000.0], [-1050.0], outflows_at="end")
    fell_start = returns.daily_twr([0.0], [1000.0], [-950.0])
    fell_end = returns.daily_twr([0.0], [1000.0], [-950.0], outflows_at="end")
    # At the start of the day the withdrawal leaves no (or a meaningless) capital: the day is
    # lost, or reads as -100%. This is documented; end-of-day outflows get it right.
    assert np.isnan(rose_start[0])
    assert fell_start[0] == pytest.approx(-1.0)
    assert rose_end[0] == pytest.approx(0.05)
    assert fell_end[0] == pytest.approx(-0.05)


def test_a_dividend_after_a_full_exit_is_a_day_without_capital() -> None:
    # Deposit 1000 (flat); proceeds of a sale withdrawn next morning; a dividend of 30 lands
    # on the empty portfolio (income, not a flow); it is withdrawn the next morning.
    values_end = [1000.0, 0.0, 30.0, 0.0]
    flows = [1000.0, -1000.0, 0.0, -30.0]
    daily_returns = returns.daily_twr(values_end, returns.previous_values(values_end), flows)
    np.testing.assert_allclose(daily_returns, [0.0, NAN, NAN, NAN])
    assert returns.chain(daily_returns) == 0.0


def test_a_dividend_after_a_sale_counts_while_the_proceeds_stay_invested() -> None:
    values_end = [1000.0, 1000.0, 1030.0]  # sold on day 2, the cash stays; dividend of 30
    daily_returns = returns.daily_twr(values_end, returns.previous_values(values_end), [1000, 0, 0])
    np.testing.assert_allclose(daily_returns, [0.0, 0.0, 0.03])


def test_the_two_dimensional_path_equals_the_one_dimensional_one_per_column() -> None:
    rng = np.random.default_rng(7)
    values_end = rng.uniform(50, 150, size=(40, 3))
    values_end[10:15, 1] = 0.0  # a full exit and re-entry in one portfolio
    values_end[:, 2] = 0.0  # one that never had money
    flows = rng.choice([0.0, 0.0, 0.0, 25.0, -25.0], size=(40, 3))
    flows[:, 2] = 0.0
    prev = returns.previous_values(values_end, initial_value=[100.0, 100.0, 0.0])
    for timing in ("start", "end"):
        together = returns.daily_twr(values_end, prev, flows, outflows_at=timing)
        chained = returns.chain(together)
        for column in range(3):
            alone = returns.daily_twr(
                values_end[:, column], prev[:, column], flows[:, column], outflows_at=timing
            )
            np.testing.assert_array_equal(together[:, column], alone)
            assert np.asarray(chained)[column] == pytest.approx(returns.chain(alone), nan_ok=True)
    assert np.isnan(np.asarray(chained)[2])


def market_path() -> st.SearchStrategy[list[tuple[float, float]]]:
    move = st.floats(-0.5, 0.5)
    share = st.floats(0.0, 0.95)  # a flow as a share of the day's capital
    return st.lists(st.tuples(move, share), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(market_path(), st.floats(1.0, 1e6))
def test_the_daily_return_is_the_market_move_whatever_the_deposits(
    path: list[tuple[float, float]], opening: float
) -> None:
    value, values_end, values_prev, flows = opening, [], [], []
    for move, share in path:
        deposit = share * value
        values_prev.append(value)
        flows.append(deposit)
        value = (value + deposit) * (1 + move)
        values_end.append(value)
    daily_returns = returns.daily_twr(values_end, values_prev, flows)
    np.testing.assert_allclose(daily_returns, [move for move, _ in path], atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(market_path(), st.floats(1.0, 1e6))
def test_the_daily_return_is_the_market_move_whatever_the_end_of_day_withdrawals(
    path: list[tuple[float, float]], opening: float
) -> None:
    value, values_end, values_prev, flows = opening, [], [], []
    for move, share in path:
        values_prev.append(value)
        grown = value * (1 + move)
        flows.append(-share * grown)
        value = grown - share * grown
        values_end.append(value)
    daily_returns = returns.daily_twr(values_end, values_prev, flows, outflows_at="end")
    np.testing.assert_allclose(daily_returns, [move for move, _ in path], atol=1e-9)


def test_daily_twr_does_not_modify_its_inputs() -> None:
    values_end, values_prev, flows = np.array([165.0]), np.array([100.0]), np.array([50.0])
    returns.daily_twr(values_end, values_prev, flows, outflows_at="end")
    returns.previous_values(values_end)
    assert (values_end[0], values_prev[0], flows[0]) == (165.0, 100.0, 50.0)


def test_daily_twr_refuses_arrays_of_different_shapes() -> None:
    with pytest.raises(ValueError, match="flows has shape"):
        returns.daily_twr([1.0, 2.0], [1.0, 2.0], [0.0])


@pytest.mark.parametrize("bad", [NAN, float("inf")])
def test_daily_twr_refuses_missing_values(bad: float) -> None:
    with pytest.raises(ValueError, match=r"values_prev holds 1 NaN or infinite values \(first at"):
        returns.daily_twr([1.0, 2.0], [1.0, bad], [0.0, 0.0])


def test_daily_twr_refuses_three_dimensional_arrays() -> None:
    cube = np.ones((2, 2, 2))
    with pytest.raises(ValueError, match="values_end has 3 dimensions"):
        returns.daily_twr(cube, cube, cube)


def test_daily_twr_refuses_an_unknown_outflow_timing() -> None:
    with pytest.raises(ValueError, match="outflows_at is 'noon'"):
        returns.daily_twr([1.0], [1.0], [0.0], outflows_at="noon")  # type: ignore[arg-type]


# --- chain ---------------------------------------------------------------------------------


def test_chain_skips_days_without_capital() -> None:
    assert returns.chain([0.1, NAN, -0.1]) == pytest.approx(1.1 * 0.9 - 1)


def test_chain_of_no_day_with_capital_is_nan() -> None:
    assert np.isnan(returns.chain([NAN, NAN]))
    assert np.isnan(returns.chain([]))


def test_chain_links_each_column_of_a_frame() -> None:
    linked = returns.chain(pd.DataFrame({"a": [0.1, 0.1], "b": [NAN, NAN], "c": [0.5, -0.5]}))
    np.testing.assert_allclose(linked, [0.21, NAN, -0.25])


def test_chain_refuses_an_infinite_return() -> None:
    with pytest.raises(ValueError, match="infinite"):
        returns.chain([0.1, float("inf")])


# --- assign_flows --------------------------------------------------------------------------


def test_flows_on_days_without_a_valuation_go_to_the_start_of_the_next_valuation_day() -> None:
    valuations = ["2024-03-01", "2024-03-04", "2024-03-05"]  # Fri, Mon, Tue
    flow_dates = ["2024-02-29", "2024-03-02", "2024-03-03", "2024-03-04", "2024-03-05"]
    amounts = [1000.0, 100.0, 50.0, -20.0, 10.0]  # before the first, Sat, Sun, Mon, Tue
    assigned = returns.assign_flows(flow_dates, amounts, valuations)
    np.testing.assert_allclose(assigned, [1000.0, 130.0, 10.0])


def test_no_flows_assign_nothing() -> None:
    np.testing.assert_array_equal(returns.assign_flows([], [], ["2024-03-01"]), [0.0])


def test_a_flow_after_the_last_valuation_is_refused() -> None:
    with pytest.raises(ValueError, match="after the last valuation day 2024-03-05"):
        returns.assign_flows(["2024-03-06"], [1.0], ["2024-03-01", "2024-03-05"])


def test_assign_flows_accepts_dates_of_any_common_type() -> None:
    valuations = pd.bdate_range("2024-03-01", "2024-03-05")
    as_dates = [dt.date(2024, 3, 2), pd.Timestamp("2024-03-05"), np.datetime64("2024-03-05")]
    np.testing.assert_allclose(returns.assign_flows(as_dates, [1, 2, 3], valuations), [0, 1, 5])


@pytest.mark.parametrize(
    ("flow_dates", "amounts", "valuations", "message"),
    [
        (["2024-03-01"], [1.0, 2.0], ["2024-03-01"], "flow_amounts has shape"),
        (["2024-03-01"], [NAN], ["2024-03-01"], "flow_amounts holds 1 NaN"),
        (["2024-03-04", "2024-03-01"], [1, 2], ["2024-03-04"], "flow_dates are not in order"),
        ([], [], ["2024-03-04", "2024-03-01"], "valuation_dates are not strictly increasing"),
        ([], [], ["2024-03-04", "2024-03-04"], "valuation_dates are not strictly increasing"),
        (["2024-03-01 12:00"], [1], ["2024-03-01"], "flow_dates holds a time of day"),
        ([None], [1], ["2024-03-01"], "flow_dates holds a missing date"),
        ([20240301], [1], ["2024-03-01"], "flow_dates holds numbers"),
        (["someday"], [1], ["2024-03-01"], "flow_dates are not dates"),
        ([], [], [], "valuation_dates is empty"),
    ],
)
def test_assign_flows_refuses_bad_input(
    flow_dates: list[object], amounts: list[float], valuations: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        returns.assign_flows(flow_dates, amounts, valuations)


def test_dates_with_a_time_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        returns.assign_flows([pd.Timestamp("2024-03-01", tz="UTC")], [1], ["2024-03-01"])


# --- the period table ----------------------------------------------------------------------

WEEK = daily(
    {
        "2024-02-22": 0.0,  # Thu, the first row: the history starts at the close of 02-21
        "2024-02-23": 0.004,  # Fri
        "2024-02-26": 0.001,  # Mon
        "2024-02-27": 0.0,
        "2024-02-28": 0.0,
        "2024-02-29": 0.01,  # Thu
        "2024-03-01": 0.02,  # Fri
        "2024-03-04": 0.03,  # Mon
    }
)


def test_wtd_on_a_monday_is_that_monday_from_the_friday_close() -> None:
    table = returns.period_returns(WEEK, "2024-03-04")
    for period in ("WTD", "1D"):
        assert row(table, period)["total_return"] == pytest.approx(0.03)
        assert row(table, period)["start"] == pd.Timestamp("2024-03-01")
        assert row(table, period)["end"] == pd.Timestamp("2024-03-04")


def test_wtd_on_a_sunday_runs_from_the_close_of_the_previous_week() -> None:
    table = returns.period_returns(WEEK, dt.date(2024, 3, 3))
    wtd = row(table, "WTD")
    assert wtd["start"] == pd.Timestamp("2024-02-23")  # last valuation on or before Sun 02-25
    assert wtd["end"] == pd.Timestamp("2024-03-01")  # last valuation on or before as_of
    assert wtd["total_return"] == pytest.approx(1.001 * 1.01 * 1.02 - 1)
    assert row(table, "1D")["total_return"] == pytest.approx(0.02)


def test_mtd_on_the_first_is_the_first_alone() -> None:
    table = returns.period_returns(WEEK, "2024-03-01")
    assert row(table, "MTD")["start"] == pd.Timestamp("2024-02-29")
    assert row(table, "MTD")["total_return"] == pytest.approx(0.02)


def test_mtd_chains_every_valuation_day_of_the_month() -> None:
    table = returns.period_returns(WEEK, "2024-03-04")
    assert row(table, "MTD")["total_return"] == pytest.approx(1.02 * 1.03 - 1)


def test_itd_under_a_year_is_not_annualised() -> None:
    itd = row(returns.period_returns(WEEK, "2024-03-04"), "ITD")
    assert itd["start"] == pd.Timestamp("2024-02-21")
    expected = 1.004 * 1.001 * 1.01 * 1.02 * 1.03 - 1
    assert itd["total_return"] == pytest.approx(expected)
    # 12 days from 2024-02-21 to 2024-03-04, over the 366 days of the year ending 2024-03-04
    assert itd["years"] == pytest.approx(12 / 366)
    assert np.isnan(itd["annualised"])


def test_periods_that_start_before_the_history_are_nan() -> None:
    table = returns.period_returns(WEEK, "2024-03-04")
    for period in ("QTD", "YTD", "1Y", "3Y", "5Y"):
        assert np.isnan(row(table, period)["total_return"]), period
        assert pd.isna(row(table, period)["start"]), period


YEAR_END = daily(
    {
        "2023-12-27": 0.0,
        "2023-12-28": 0.01,
        "2023-12-29": 0.02,  # Fri, the last valuation of 2023
        "2024-01-02": 0.03,  # Tue, the first of 2024
        "2024-01-03": -0.01,
    }
)


def test_ytd_across_a_year_end_starts_at_the_last_valuation_of_the_old_year() -> None:
    table = returns.period_returns(YEAR_END, "2024-01-03")
    for period in ("YTD", "QTD", "MTD"):
        assert row(table, period)["start"] == pd.Timestamp("2023-12-29"), period
        assert row(table, period)["total_return"] == pytest.approx(1.03 * 0.99 - 1), period
    assert row(table, "1D")["total_return"] == pytest.approx(-0.01)


def test_the_first_day_of_a_year_reaches_back_over_the_holiday() -> None:
    one_day = row(returns.period_returns(YEAR_END, "2024-01-02"), "1D")
    assert one_day["start"] == pd.Timestamp("2023-12-29")
    assert one_day["total_return"] == pytest.approx(0.03)


def test_ytd_before_the_first_valuation_of_the_year_has_no_return() -> None:
    ytd = row(returns.period_returns(YEAR_END, "2024-01-01"), "YTD")
    assert ytd["start"] == ytd["end"] == pd.Timestamp("2023-12-29")
    assert np.isnan(ytd["total_return"])


def test_days_without_capital_inside_a_period_are_skipped() -> None:
    gappy = YEAR_END.copy()
    gappy["2024-01-02"] = NAN  # a full exit and re-entry around the year end
    ytd = row(returns.period_returns(gappy, "2024-01-03"), "YTD")
    assert ytd["total_return"] == pytest.approx(-0.01)


def test_qtd_starts_at_the_last_valuation_before_a_quarter_end_holiday() -> None:
    easter = quiet_days("2024-03-25", "2024-04-03", {"2024-03-28": 0.5, "2024-04-02": 0.1})
    easter = easter.drop(pd.Timestamp("2024-03-29"))  # Good Friday: no valuation
    qtd = row(returns.period_returns(easter, "2024-04-03"), "QTD")
    assert qtd["start"] == pd.Timestamp("2024-03-28")
    assert qtd["total_return"] == pytest.approx(0.1)


THREE_YEARS = quiet_days(
    "2020-12-31",
    "2024-03-15",
    {
        "2021-03-15": 0.40,  # Mon: the 3Y base day, outside 3Y
        "2021-03-16": 0.10,
        "2023-03-15": 0.50,  # Wed: the 1Y base day, outside 1Y, inside 3Y
        "2023-03-16": 0.02,
        "2024-03-15": 0.05,
    },
)


def test_one_year_is_exactly_a_year_and_annualises_to_itself() -> None:
    one_year = row(returns.period_returns(THREE_YEARS, "2024-03-15"), "1Y")
    assert one_year["start"] == pd.Timestamp("2023-03-15")
    assert one_year["total_return"] == pytest.approx(1.02 * 1.05 - 1)
    assert one_year["years"] == 1.0
    assert one_year["annualised"] == pytest.approx(1.02 * 1.05 - 1)


def test_three_years_annualise_over_exactly_three_years() -> None:
    three = row(returns.period_returns(THREE_YEARS, "2024-03-15"), "3Y")
    cumulative = 1.10 * 1.50 * 1.02 * 1.05 - 1
    assert three["start"] == pd.Timestamp("2021-03-15")
    assert three["total_return"] == pytest.approx(cumulative)
    assert three["years"] == 3.0
    assert three["annualised"] == pytest.approx((1 + cumulative) ** (1 / 3) - 1)


def test_itd_past_a_year_is_annualised_over_calendar_years() -> None:
    itd = row(returns.period_returns(THREE_YEARS, "2024-03-15"), "ITD")
    cumulative = 1.40 * 1.10 * 1.50 * 1.02 * 1.05 - 1
    # From the close of 2020-12-30 (the first row carries a return): three whole years back
    # to 2021-03-15, then 75 days (1 + 31 + 28 + 15) of the 365-day year before it.
    years = 3 + 75 / 365
    assert itd["start"] == pd.Timestamp("2020-12-30")
    assert itd["total_return"] == pytest.approx(cumulative)
    assert itd["years"] == pytest.approx(years)
    assert itd["annualised"] == pytest.approx((1 + cumulative) ** (1 / years) - 1)


def test_five_years_on_a_three_year_history_is_nan() -> None:
    five = row(returns.period_returns(THREE_YEARS, "2024-03-15"), "5Y")
    assert np.isnan(five["total_return"])
    assert np.isnan(five["annualised"])


def test_one_year_back_from_a_leap_day_starts_on_the_28th_of_february() -> None:
    leap = quiet_days("2023-02-27", "2024-02-29", {"2023-02-28": 0.5, "2023-03-01": 0.1})
    one_year = row(returns.period_returns(leap, "2024-02-29"), "1Y")
    assert one_year["start"] == pd.Timestamp("2023-02-28")
    assert one_year["total_return"] == pytest.approx(0.1)
    assert one_year["years"] == 1.0


def test_annualise_false_leaves_the_annualised_column_empty() -> None:
    table = returns.period_returns(THREE_YEARS, "2024-03-15", annualise=False)
    assert table["annualised"].isna().all()
    assert row(table, "3Y")["total_return"] == pytest.approx(1.10 * 1.50 * 1.02 * 1.05 - 1)


def test_the_table_lists_the_periods_asked_for_in_order() -> None:
    table = returns.period_returns(WEEK, "2024-03-04", periods=("ITD", "1D"))
    assert list(table.index) == ["ITD", "1D"]
    assert list(table.columns) == ["start", "end", "total_return", "years", "annualised"]
    assert list(returns.period_returns(WEEK, "2024-03-04").index) == list(returns.PERIODS)


def test_a_history_without_capital_has_no_returns() -> None:
    table = returns.period_returns(daily({"2024-03-01": NAN, "2024-03-04": NAN}), "2024-03-04")
    assert table["total_return"].isna().all()


def test_the_period_table_does_not_modify_the_series() -> None:
    before = THREE_YEARS.copy()
    returns.period_returns(THREE_YEARS, "2024-03-15")
    returns.custom_period(THREE_YEARS, "2023-12-31", "2024-03-15")
    pd.testing.assert_series_equal(THREE_YEARS, before)


def test_a_custom_period_from_the_last_year_end_is_ytd() -> None:
    custom = returns.custom_period(THREE_YEARS, dt.date(2023, 12, 31), "2024-03-15")
    ytd = row(returns.period_returns(THREE_YEARS, "2024-03-15"), "YTD")
    assert custom.period == "2023-12-31..2024-03-15"
    assert custom.start == dt.date(2023, 12, 29)
    assert custom.end == dt.date(2024, 3, 15)
    assert custom.total_return == pytest.approx(0.05)
    assert custom.total_return == pytest.approx(ytd["total_return"])


def test_a_custom_period_longer_than_a_year_is_annualised() -> None:
    custom = returns.custom_period(THREE_YEARS, "2021-03-15", "2023-03-15")
    assert custom.total_return == pytest.approx(1.10 * 1.50 - 1)
    assert custom.years == 2.0
    assert custom.annualised == pytest.approx(1.65**0.5 - 1)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-03-15", "2024-03-15", "is not before end"),
        ("2024-03-15", "2024-01-01", "is not before end"),
        ("2020-06-30", "2024-03-15", "before the history, which starts at the close of 2020-12-30"),
    ],
)
def test_a_custom_period_outside_the_history_is_refused(start: str, end: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        returns.custom_period(THREE_YEARS, start, end)


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (
            pd.Series([0.1, 0.2], index=pd.to_datetime(["2024-03-04", "2024-03-01"])),
            "daily.index are not strictly increasing",
        ),
        (
            pd.Series([0.1, 0.2], index=pd.to_datetime(["2024-03-01", "2024-03-01"])),
            "daily.index are not strictly increasing",
        ),
        (pd.Series([0.1, float("inf")], index=pd.to_datetime(["2024-03-01", "2024-03-04"])), "inf"),
        (pd.Series([0.1], index=[3]), "daily.index holds numbers"),
        ([0.1, 0.2], "expected a pandas Series"),
    ],
)
def test_the_period_table_refuses_a_bad_series(series: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        returns.period_returns(series, "2024-03-04")  # type: ignore[arg-type]


def test_the_period_table_refuses_an_unknown_period() -> None:
    with pytest.raises(ValueError, match=r"periods: unknown \['2W'\]"):
        returns.period_returns(WEEK, "2024-03-04", periods=("MTD", "2W"))
