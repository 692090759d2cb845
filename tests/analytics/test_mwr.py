"""Money-weighted returns against hand-worked schedules and pyxirr called directly."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import pyxirr
from hypothesis import given, settings
from hypothesis import strategies as st

from foliodb.analytics import mwr, returns

NAN = float("nan")
D = dt.date


def reference_xirr(schedule: list[tuple[dt.date, float]]) -> float | None:
    """pyxirr itself, ACT/365F, on a schedule written out by hand."""
    dates, amounts = zip(*schedule, strict=True)
    return pyxirr.xirr(dates, amounts, day_count=pyxirr.DayCount.ACT_365F)


# --- xirr ----------------------------------------------------------------------------------


def test_ten_percent_over_a_leap_year_is_a_little_less_under_act_365f() -> None:
    # 366 days are 366/365 years: 1000 * (1 + r) ** (366 / 365) = 1100.
    rate = mwr.xirr([D(2024, 1, 1), D(2025, 1, 1)], [-1000.0, 1100.0])
    assert rate == pytest.approx(1.1 ** (365 / 366) - 1, rel=1e-9)
    assert rate == pytest.approx(0.0997135859, abs=1e-10)


def test_ten_percent_over_a_common_year_is_ten_percent() -> None:
    assert mwr.xirr(["2023-01-01", "2024-01-01"], [-1000, 1100]) == pytest.approx(0.1, rel=1e-9)


def test_two_years_count_their_actual_days() -> None:
    # 2023-01-01 to 2025-01-01 is 731 days: 1000 * (1 + r) ** (731 / 365) = 1210.
    rate = mwr.xirr(["2023-01-01", "2025-01-01"], [-1000, 1210])
    assert rate == pytest.approx(1.21 ** (365 / 731) - 1, rel=1e-9)


def test_amounts_may_share_a_date() -> None:
    rate = mwr.xirr(["2023-01-01", "2023-01-01", "2024-01-01"], [-600, -400, 1100])
    assert rate == pytest.approx(0.1, rel=1e-9)


def test_xirr_accepts_dates_of_any_common_type() -> None:
    amounts = [-1000.0, 1100.0]
    as_text = mwr.xirr(["2024-01-01", "2025-01-01"], amounts)
    assert mwr.xirr(pd.to_datetime(["2024-01-01", "2025-01-01"]), amounts) == as_text
    assert mwr.xirr(np.array(["2024-01-01", "2025-01-01"], "datetime64[D]"), amounts) == as_text
    assert mwr.xirr([pd.Timestamp("2024-01-01"), D(2025, 1, 1)], amounts) == as_text


@st.composite
def schedules(draw: st.DrawFn) -> list[tuple[dt.date, float]]:
    gaps = draw(st.lists(st.integers(0, 400), min_size=1, max_size=8))
    day, dates = D(2020, 1, 1), [D(2020, 1, 1)]
    for gap in gaps:
        day += dt.timedelta(days=gap)
        dates.append(day)
    dates[-1] += dt.timedelta(days=1)  # the schedule spans at least a day
    middle = draw(st.lists(st.floats(-1000, 1000), min_size=len(gaps) - 1, max_size=len(gaps) - 1))
    first, last = -draw(st.floats(100, 10_000)), draw(st.floats(100, 20_000))
    return list(zip(dates, [first, *middle, last], strict=True))


@settings(max_examples=60, deadline=None)
@given(schedules())
def test_xirr_agrees_with_pyxirr_under_act_365f(schedule: list[tuple[dt.date, float]]) -> None:
    expected = reference_xirr(schedule)
    dates, amounts = zip(*schedule, strict=True)
    rate = mwr.xirr(list(dates), list(amounts))
    if expected is None:
        assert np.isnan(rate)
    else:
        assert rate == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("amounts", [[-1000.0, -100.0], [1000.0, 1100.0], [0.0, 0.0]])
def test_xirr_refuses_amounts_that_do_not_change_sign(amounts: list[float]) -> None:
    with pytest.raises(ValueError, match="do not change sign"):
        mwr.xirr(["2024-01-01", "2025-01-01"], amounts)


@pytest.mark.parametrize(
    ("dates", "amounts", "message"),
    [
        (["2024-01-01", "2025-01-01"], [-1000.0], "amounts has 1 values; dates has 2"),
        (["2024-01-01"], [-1000.0], "expected at least 2"),
        (["2025-01-01", "2024-01-01"], [1100.0, -1000.0], "dates are not in order"),
        (["2024-01-01", "2025-01-01"], [-1000.0, NAN], "amounts holds 1 NaN"),
        (["2024-01-01", None], [-1000.0, 1100.0], "dates holds a missing date"),
        ([1, 2], [-1000.0, 1100.0], "dates holds numbers"),
        (["2024-01-01", "2025-01-01"], ["a", "b"], "amounts is not numeric"),
    ],
)
def test_xirr_refuses_bad_input(dates: list[object], amounts: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mwr.xirr(dates, amounts)  # type: ignore[arg-type]


# --- money_weighted_return -----------------------------------------------------------------


def test_without_flows_the_money_weighted_return_is_the_growth_over_act_365f() -> None:
    rate = mwr.money_weighted_return(1000, 1100, [], [], "2024-01-01", "2025-01-01")
    assert rate == pytest.approx(1.1 ** (365 / 366) - 1, rel=1e-9)


def test_not_annualised_it_is_the_growth_over_the_period() -> None:
    growth = mwr.money_weighted_return(
        1000, 1100, [], [], "2024-01-01", "2025-01-01", annualise=False
    )
    assert growth == pytest.approx(0.1, rel=1e-9)


def test_a_deposit_on_the_first_day_counts_like_a_larger_start_value() -> None:
    # The flow counts from the start of 2024-01-02, the close of 2024-01-01.
    rate = mwr.money_weighted_return(1000, 1650, ["2024-01-02"], [500], "2024-01-01", "2025-01-01")
    assert rate == pytest.approx(1.1 ** (365 / 366) - 1, rel=1e-9)


def test_the_inception_deposit_is_a_flow_on_the_first_day() -> None:
    rate = mwr.money_weighted_return(0, 1100, ["2024-01-02"], [1000], "2024-01-01", "2025-01-01")
    assert rate == pytest.approx(1.1 ** (365 / 366) - 1, rel=1e-9)


def test_a_flow_is_placed_at_the_close_of_the_day_before_it() -> None:
    rate = mwr.money_weighted_return(
        1000, 2200, [D(2023, 7, 2)], [1000], D(2023, 1, 1), D(2024, 1, 1)
    )
    by_hand = [(D(2023, 1, 1), -1000.0), (D(2023, 7, 1), -1000.0), (D(2024, 1, 1), 2200.0)]
    assert rate == pytest.approx(reference_xirr(by_hand), rel=1e-9)


def test_an_end_of_day_outflow_stays_on_its_own_day() -> None:
    rate = mwr.money_weighted_return(
        1000, 600, ["2023-07-02"], [-500], "2023-01-01", "2024-01-01", outflows_at="end"
    )
    by_hand = [(D(2023, 1, 1), -1000.0), (D(2023, 7, 2), 500.0), (D(2024, 1, 1), 600.0)]
    assert rate == pytest.approx(reference_xirr(by_hand), rel=1e-9)


def test_a_full_exit_on_the_last_day_depends_on_the_outflow_timing() -> None:
    args = (1000, 0, ["2025-01-01"], [-1100], "2024-01-01", "2025-01-01")
    # At the start of 2025-01-01 the 1100 left at the close of 2024-12-31: 365 days.
    assert mwr.money_weighted_return(*args) == pytest.approx(0.1, rel=1e-9)
    # At the end of the day it is the end value by another name: 366 days.
    at_end = mwr.money_weighted_return(*args, outflows_at="end")
    assert at_end == pytest.approx(1.1 ** (365 / 366) - 1, rel=1e-9)


def test_flows_on_one_day_are_netted() -> None:
    rate = mwr.money_weighted_return(
        1000, 1100, ["2024-06-03", "2024-06-03"], [500, -500], "2024-01-01", "2025-01-01"
    )
    assert rate == pytest.approx(1.1 ** (365 / 366) - 1, rel=1e-9)


def test_a_total_loss_is_minus_one_hundred_percent() -> None:
    assert mwr.money_weighted_return(1000, 0, [], [], "2024-01-01", "2025-01-01") == -1.0


def test_a_period_without_money_in_has_no_money_weighted_return() -> None:
    assert np.isnan(mwr.money_weighted_return(0, 0, [], [], "2024-01-01", "2025-01-01"))
    # A dividend landing after a full exit: 30 out of nothing.
    assert np.isnan(mwr.money_weighted_return(0, 30, [], [], "2024-01-01", "2025-01-01"))


# --- modified_dietz ------------------------------------------------------------------------


def test_modified_dietz_weights_flows_from_the_start_of_their_day() -> None:
    # 30 days from the close of 01-01 to the close of 01-31. The deposit of 300 on 01-11 is
    # invested 01-11..01-31, 21 days; the withdrawal of 100 on 01-21 left before 01-21: it
    # was invested 01-02..01-20 and is missing for 11 days. Gain 1250 - 1000 - 200 = 50.
    result = mwr.modified_dietz(
        1000, 1250, ["2024-01-11", "2024-01-21"], [300, -100], "2024-01-01", "2024-01-31"
    )
    assert result == pytest.approx(50 / (1000 + 300 * 21 / 30 - 100 * 11 / 30))


def test_modified_dietz_weights_end_of_day_outflows_from_their_close() -> None:
    result = mwr.modified_dietz(
        1000,
        1250,
        ["2024-01-11", "2024-01-21"],
        [300, -100],
        "2024-01-01",
        "2024-01-31",
        outflows_at="end",
    )
    assert result == pytest.approx(50 / (1000 + 300 * 21 / 30 - 100 * 10 / 30))


def test_modified_dietz_without_flows_is_the_simple_return() -> None:
    assert mwr.modified_dietz(1000, 1100, [], [], "2024-01-01", "2025-01-01") == pytest.approx(0.1)


def test_a_flow_on_the_first_day_has_full_weight_and_one_on_the_last_day_one_day() -> None:
    first = mwr.modified_dietz(1000, 1650, ["2024-01-02"], [500], "2024-01-01", "2024-01-31")
    last = mwr.modified_dietz(1000, 1650, ["2024-01-31"], [500], "2024-01-01", "2024-01-31")
    assert first == pytest.approx(150 / 1500)
    assert last == pytest.approx(150 / (1000 + 500 / 30))


@pytest.mark.parametrize(
    ("prev", "flow", "end", "timing", "expected"),
    [
        (1000.0, 500.0, 1650.0, "start", 1650 / 1500 - 1),
        (1000.0, -200.0, 880.0, "start", 880 / 800 - 1),
        (1000.0, -200.0, 880.0, "end", (880 + 200) / 1000 - 1),
    ],
)
def test_modified_dietz_over_one_day_is_the_daily_twr_formula(
    prev: float, flow: float, end: float, timing: returns.OutflowTiming, expected: float
) -> None:
    one_day = mwr.modified_dietz(
        prev, end, ["2024-03-05"], [flow], "2024-03-04", "2024-03-05", outflows_at=timing
    )
    assert one_day == pytest.approx(expected)
    twr = returns.daily_twr([end], [prev], [flow], outflows_at=timing)[0]
    assert one_day == pytest.approx(twr)


def test_modified_dietz_without_capital_is_nan() -> None:
    assert np.isnan(mwr.modified_dietz(0, 30, [], [], "2024-01-01", "2024-01-31"))


def test_money_weighted_figures_do_not_modify_their_inputs() -> None:
    dates = np.array(["2024-01-11", "2024-01-21"], dtype="datetime64[D]")
    amounts = np.array([300.0, -100.0])
    mwr.modified_dietz(1000, 1250, dates, amounts, "2024-01-01", "2024-01-31")
    mwr.money_weighted_return(1000, 1250, dates, amounts, "2024-01-01", "2024-01-31")
    assert list(amounts) == [300.0, -100.0]
    assert list(dates.astype(str)) == ["2024-01-11", "2024-01-21"]


@pytest.mark.parametrize("figure", [mwr.modified_dietz, mwr.money_weighted_return])
@pytest.mark.parametrize(
    ("start_value", "flow_dates", "flow_amounts", "start", "end", "message"),
    [
        (1000, ["2024-01-01"], [1.0], "2024-01-01", "2024-01-31", "outside the period"),
        (1000, ["2024-02-01"], [1.0], "2024-01-01", "2024-01-31", "outside the period"),
        (1000, [], [], "2024-01-31", "2024-01-31", "is not before end"),
        (1000, ["2024-01-05"], [1.0, 2.0], "2024-01-01", "2024-01-31", "flow_amounts has 2"),
        (1000, ["2024-01-09", "2024-01-05"], [1, 2], "2024-01-01", "2024-01-31", "not in order"),
        (1000, ["2024-01-05"], [NAN], "2024-01-01", "2024-01-31", "flow_amounts holds 1 NaN"),
        (NAN, [], [], "2024-01-01", "2024-01-31", "start_value is nan"),
        (1000, [], [], "someday", "2024-01-31", "start are not dates"),
    ],
)
def test_period_figures_refuse_bad_input(
    figure: object,
    start_value: float,
    flow_dates: list[str],
    flow_amounts: list[float],
    start: str,
    end: str,
    message: str,
) -> None:
    assert callable(figure)
    with pytest.raises(ValueError, match=message):
        figure(start_value, 1100.0, flow_dates, flow_amounts, start, end)


def test_period_figures_refuse_an_unknown_outflow_timing() -> None:
    with pytest.raises(ValueError, match="outflows_at is 'noon'"):
        mwr.modified_dietz(
            1000,
            1100,
            ["2024-01-05"],
            [1.0],
            "2024-01-01",
            "2024-01-31",
            outflows_at="noon",  # type: ignore[arg-type]
        )
