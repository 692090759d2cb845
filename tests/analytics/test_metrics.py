"""Risk and performance metrics agree with empyrical-reloaded, column by column.

Expected answers come from empyrical-reloaded, scipy or hand-worked examples, never from
foliodb itself. Where foliodb deliberately differs from empyrical (docs/conventions.md,
"Differences from empyrical-reloaded"), ``expected`` applies the documented rule and a test
of its own shows the difference.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import empyrical as ep
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from foliodb.analytics import metrics

# Our code must be silent on NaN, empty and constant input; empyrical calls are wrapped.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

FloatArray = npt.NDArray[np.float64]
LENGTHS = [1, 2, 10, 252, 2520]
RISK_FREE = 0.0001
REQUIRED = 0.0002


def close(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-14, equal_nan=True)


def empyrical(function: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """One empyrical value as a float, its warnings (divide by zero, empty slice) silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(function(*args, **kwargs))


def random_returns(length: int, seed: int, *, nan_share: float = 0.0) -> FloatArray:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0004, 0.012, length)
    returns[rng.random(length) < nan_share] = np.nan
    return returns


def observed(returns: FloatArray) -> int:
    return int(np.count_nonzero(~np.isnan(returns)))


# name -> (foliodb keywords, empyrical reference taking one 1-D array)
UNARY: dict[str, tuple[dict[str, Any], Callable[[FloatArray], float]]] = {
    "cumulative_return": ({}, lambda r: empyrical(ep.cum_returns_final, r)),
    "annual_return": (
        {"periods_per_year": 52},
        lambda r: empyrical(ep.annual_return, r, annualization=52),
    ),
    "annual_volatility": (
        {"periods_per_year": 12},
        lambda r: empyrical(ep.annual_volatility, r, annualization=12),
    ),
    "sharpe_ratio": (
        {"risk_free": RISK_FREE, "periods_per_year": 252},
        lambda r: empyrical(ep.sharpe_ratio, r, risk_free=RISK_FREE, annualization=252),
    ),
    "sortino_ratio": (
        {"required_return": REQUIRED, "periods_per_year": 52},
        lambda r: empyrical(ep.sortino_ratio, r, required_return=REQUIRED, annualization=52),
    ),
    "downside_risk": (
        {"required_return": REQUIRED, "periods_per_year": 252},
        lambda r: empyrical(ep.downside_risk, r, required_return=REQUIRED, annualization=252),
    ),
    "max_drawdown": ({}, lambda r: empyrical(ep.max_drawdown, r)),
    "calmar_ratio": (
        {"periods_per_year": 252},
        lambda r: empyrical(ep.calmar_ratio, r, annualization=252),
    ),
    # Our required_return is per period: empyrical's annualization=1 leaves it as given.
    "omega_ratio": (
        {"risk_free": RISK_FREE, "required_return": REQUIRED},
        lambda r: empyrical(
            ep.omega_ratio, r, risk_free=RISK_FREE, required_return=REQUIRED, annualization=1
        ),
    ),
    # empyrical's percentile turns any NaN into NaN; ours skips NaN like its CVaR does.
    "value_at_risk": (
        {"level": 0.99},
        lambda r: empyrical(ep.value_at_risk, r[~np.isnan(r)], 0.01),
    ),
    "conditional_value_at_risk": (
        {"level": 0.95},
        lambda r: empyrical(ep.conditional_value_at_risk, r, 0.05),
    ),
}

# name -> (foliodb keywords, empyrical reference taking returns and benchmark)
RELATIVE: dict[str, tuple[dict[str, Any], Callable[[FloatArray, FloatArray], float]]] = {
    "beta": ({}, lambda r, b: empyrical(ep.beta, r, b)),
    "alpha": (
        {"risk_free": RISK_FREE, "periods_per_year": 52},
        lambda r, b: empyrical(ep.alpha, r, b, risk_free=RISK_FREE, annualization=52),
    ),
    "tracking_error": ({}, lambda r, b: empyrical(ep.annual_volatility, r - b)),
    "information_ratio": (
        {"periods_per_year": 12},
        lambda r, b: empyrical(ep.excess_sharpe, r, b) * math.sqrt(12),
    ),
    "up_capture": ({}, lambda r, b: empyrical(ep.up_capture, r, b)),
    "down_capture": (
        {"periods_per_year": 52},
        lambda r, b: empyrical(ep.down_capture, r, b, period="weekly"),
    ),
}


def expected(name: str, returns: FloatArray) -> float:
    """empyrical's answer, with foliodb's documented differences applied."""
    if observed(returns) == 0:
        return math.nan  # no observation, no metric (empyrical: 0 for compounding metrics)
    if name in {"sortino_ratio", "omega_ratio"} and observed(returns) < 2:
        return math.nan  # the two-observation minimum counts values, not rows
    return UNARY[name][1](returns)


def ours(name: str, returns: Any, **extra: Any) -> Any:
    function = getattr(metrics, name)
    keywords = UNARY[name][0] if name in UNARY else RELATIVE[name][0]
    return function(returns, **extra, **keywords)


# --- every metric against empyrical, one series at a time -------------------------------------


@pytest.mark.parametrize("nan_share", [0.0, 0.1], ids=["complete", "with_nans"])
@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("name", list(UNARY))
def test_each_metric_matches_empyrical_on_random_series(
    name: str, length: int, nan_share: float
) -> None:
    returns = random_returns(length, seed=length, nan_share=nan_share)
    value = ours(name, returns)
    assert isinstance(value, float)
    close(value, expected(name, returns))


DEGENERATE = {
    "empty": np.array([]),
    "all_zero": np.zeros(30),
    "single_value": np.array([0.013]),
    "single_loss": np.array([-0.013]),
    "negative_only": -np.abs(random_returns(40, seed=7)) - 0.001,
    "constant_gain": np.full(20, 0.01),
    "all_nan": np.full(10, np.nan),
    "one_value_among_nans": np.array([np.nan, -0.02, np.nan]),
    "total_loss": np.array([0.05, -1.0, 0.0]),
}


@pytest.mark.parametrize("case", list(DEGENERATE))
@pytest.mark.parametrize("name", list(UNARY))
def test_each_metric_matches_empyrical_on_degenerate_series(name: str, case: str) -> None:
    returns = DEGENERATE[case]
    close(ours(name, returns), expected(name, returns))


@pytest.mark.parametrize("nan_share", [0.0, 0.1], ids=["complete", "with_nans"])
@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("name", list(RELATIVE))
def test_each_benchmark_metric_matches_empyrical(name: str, length: int, nan_share: float) -> None:
    returns = random_returns(length, seed=length, nan_share=nan_share)
    benchmark = 0.6 * returns + random_returns(length, seed=length + 1, nan_share=nan_share)
    value = ours(name, returns, benchmark=benchmark)
    assert isinstance(value, float)
    close(value, RELATIVE[name][1](returns, benchmark))


@pytest.mark.parametrize("name", list(RELATIVE))
def test_benchmark_metrics_of_degenerate_series_match_empyrical(name: str) -> None:
    benchmark = random_returns(30, seed=3)
    for returns in (np.zeros(30), np.full(30, np.nan), -np.abs(benchmark), np.full(30, 0.01)):
        close(ours(name, returns, benchmark=benchmark), RELATIVE[name][1](returns, benchmark))


# --- 2-D: one value per column, each equal to the 1-D answer ----------------------------------


def awkward_columns(length: int) -> FloatArray:
    """Columns: random, random with NaNs, zeros, losses only, NaN only, one observation."""
    single = np.full(length, np.nan)
    single[length // 2 : length // 2 + 1] = 0.02  # one observation mid-series
    return np.column_stack(
        [
            random_returns(length, seed=1),
            random_returns(length, seed=2, nan_share=0.2),
            np.zeros(length),
            -np.abs(random_returns(length, seed=3)) - 0.001,
            np.full(length, np.nan),
            single,
        ]
    )


@pytest.mark.parametrize("length", [0, 1, 2, 10, 252])
@pytest.mark.parametrize("name", list(UNARY))
def test_a_2d_input_gives_each_column_its_empyrical_value(name: str, length: int) -> None:
    table = awkward_columns(length)
    values = ours(name, table)
    assert isinstance(values, np.ndarray)
    assert values.shape == (table.shape[1],)
    close(values, [expected(name, table[:, j]) for j in range(table.shape[1])])


@pytest.mark.parametrize("shared", [True, False], ids=["one_benchmark", "benchmark_per_column"])
@pytest.mark.parametrize("name", list(RELATIVE))
def test_a_2d_input_gives_each_column_its_empyrical_benchmark_value(
    name: str, shared: bool
) -> None:
    table = awkward_columns(252)
    benchmark = (
        random_returns(252, seed=9, nan_share=0.05)
        if shared
        else np.column_stack([random_returns(252, seed=10 + j) for j in range(table.shape[1])])
    )
    values = ours(name, table, benchmark=benchmark)
    column = (lambda j: benchmark) if shared else (lambda j: benchmark[:, j])
    close(values, [RELATIVE[name][1](table[:, j], column(j)) for j in range(table.shape[1])])


def wide_complete_columns(length: int, width: int = 80) -> FloatArray:
    """Many NaN-free columns: the batch fast paths (row loop, einsum, mask products) run on
    these. Among random columns: zeros, a constant gain, losses only and a total loss."""
    table = np.column_stack([random_returns(length, seed=100 + j) for j in range(width)])
    table[:, 1] = 0.0
    table[:, 2] = 0.01
    table[:, 3] = -np.abs(table[:, 3]) - 0.001
    table[length // 2, 4] = -1.0
    return table


@pytest.mark.parametrize("name", list(UNARY))
def test_many_complete_columns_give_each_column_its_empyrical_value(name: str) -> None:
    table = wide_complete_columns(252)
    assert table.shape[1] >= metrics.ROW_LOOP_MIN_SERIES
    close(ours(name, table), [expected(name, table[:, j]) for j in range(table.shape[1])])


@pytest.mark.parametrize("shared", [True, False], ids=["one_benchmark", "benchmark_per_column"])
@pytest.mark.parametrize("name", list(RELATIVE))
def test_many_complete_columns_give_each_column_its_empyrical_benchmark_value(
    name: str, shared: bool
) -> None:
    table = wide_complete_columns(252)
    benchmark = random_returns(252, seed=9) if shared else wide_complete_columns(252)[:, ::-1]
    values = ours(name, table, benchmark=benchmark)
    column = (lambda j: benchmark) if shared else (lambda j: benchmark[:, j])
    close(values, [RELATIVE[name][1](table[:, j], column(j)) for j in range(table.shape[1])])


def test_an_infinite_return_takes_the_careful_path_and_stays_infinite() -> None:
    returns = np.column_stack([random_returns(50, seed=1), random_returns(50, seed=2)])
    benchmark = random_returns(50, seed=3)
    returns[10, 0] = np.inf
    # up capture ignores dates where the benchmark falls: a mask product would turn inf * 0 on
    # such a date into NaN
    falling = np.flatnonzero(benchmark < 0)[0]
    returns[falling, 1] = np.inf
    up = metrics.up_capture(returns, benchmark)
    close(up[1], empyrical(ep.up_capture, returns[:, 1], benchmark))
    assert np.isinf(metrics.cumulative_return(returns)[0])


def test_a_benchmark_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match="benchmark"):
        metrics.beta(np.zeros(10), np.zeros(9))


def test_three_dimensional_returns_are_refused() -> None:
    with pytest.raises(ValueError, match="1-D or 2-D"):
        metrics.sharpe_ratio(np.zeros((2, 2, 2)))


# --- inputs: never modified, pandas accepted -------------------------------------------------


@pytest.mark.parametrize("name", list(UNARY) + list(RELATIVE))
def test_metrics_never_modify_their_inputs(name: str) -> None:
    table = awkward_columns(50)
    benchmark = random_returns(50, seed=4, nan_share=0.1)
    table_copy, benchmark_copy = table.copy(), benchmark.copy()
    table.flags.writeable = benchmark.flags.writeable = False  # a write would raise
    frame = pd.DataFrame(table)
    extra = {"benchmark": benchmark} if name in RELATIVE else {}
    ours(name, table, **extra)
    ours(name, table[:, 1], **extra)
    ours(name, frame, **extra)
    np.testing.assert_array_equal(table, table_copy)
    np.testing.assert_array_equal(benchmark, benchmark_copy)
    np.testing.assert_array_equal(frame.to_numpy(), table_copy)


@pytest.mark.parametrize("name", list(UNARY))
def test_pandas_inputs_give_the_same_numbers_as_arrays(name: str) -> None:
    table = awkward_columns(60)
    dates = pd.bdate_range("2024-01-01", periods=60)
    frame = pd.DataFrame(table, index=dates, columns=list("abcdef"))
    series_value = ours(name, frame["b"])
    assert isinstance(series_value, float)
    close(series_value, ours(name, table[:, 1]))
    frame_values = ours(name, frame)
    assert isinstance(frame_values, np.ndarray)
    close(frame_values, ours(name, table))


@pytest.mark.parametrize("name", list(RELATIVE))
def test_pandas_returns_and_benchmark_are_paired_by_date(name: str) -> None:
    dates = pd.bdate_range("2024-01-01", periods=80)
    returns = pd.Series(random_returns(80, seed=5), index=dates)
    benchmark = pd.Series(random_returns(80, seed=6), index=dates)[::-1].iloc[5:]  # shuffled, short
    aligned = benchmark.reindex(dates).to_numpy()
    close(ours(name, returns, benchmark=benchmark), RELATIVE[name][1](returns.to_numpy(), aligned))


def test_a_risk_free_rate_may_vary_by_date() -> None:
    returns = random_returns(252, seed=8, nan_share=0.05)
    risk_free = np.linspace(0.0, 0.0003, 252)
    close(
        metrics.sharpe_ratio(returns, risk_free=risk_free),
        empyrical(ep.sharpe_ratio, returns, risk_free=risk_free),
    )
    table = np.column_stack([returns, returns[::-1]])
    close(
        metrics.sharpe_ratio(table, risk_free=risk_free),
        [empyrical(ep.sharpe_ratio, table[:, j], risk_free=risk_free) for j in range(2)],
    )


# --- documented differences from empyrical --------------------------------------------------


def test_a_series_without_observations_has_nan_metrics_where_empyrical_says_zero() -> None:
    returns = np.full(5, np.nan)
    for function in (ep.cum_returns_final, ep.annual_return, ep.max_drawdown):
        assert empyrical(function, returns) == 0.0
    assert math.isnan(metrics.cumulative_return(returns))
    assert math.isnan(metrics.annual_return(returns))
    assert math.isnan(metrics.max_drawdown(returns))
    assert np.isnan(metrics.drawdown_series(returns)).all()


def test_value_at_risk_skips_nans_where_empyrical_returns_nan() -> None:
    returns = np.array([0.01, np.nan, -0.02, 0.03, -0.01])
    assert math.isnan(empyrical(ep.value_at_risk, returns, 0.05))
    close(metrics.value_at_risk(returns), np.percentile([0.01, -0.02, 0.03, -0.01], 5))


def test_sortino_and_omega_need_two_observed_values_not_two_rows() -> None:
    returns = np.array([np.nan, 0.01, np.nan])
    assert empyrical(ep.sortino_ratio, returns) == math.inf
    assert math.isnan(metrics.sortino_ratio(returns))
    assert empyrical(ep.omega_ratio, np.array([-0.01, np.nan])) == 0.0
    assert math.isnan(metrics.omega_ratio(np.array([-0.01, np.nan])))


def test_omega_takes_a_per_period_required_return_where_empyrical_takes_an_annual_one() -> None:
    returns = random_returns(252, seed=11)
    per_period = 1.08 ** (1 / 252) - 1
    close(
        metrics.omega_ratio(returns, required_return=per_period),
        empyrical(ep.omega_ratio, returns, required_return=0.08),
    )


def test_a_90_percent_level_keeps_a_10_percent_tail_despite_binary_rounding() -> None:
    returns = np.array([-0.05, -0.04, -0.03, 0.0, 0.0, 0.0, 0.01, 0.01, 0.02, 0.02, 0.03])
    # 11 values: k = floor(10 * 0.1) = 1, so the two worst are averaged.
    close(metrics.conditional_value_at_risk(returns, level=0.9), -0.045)
    close(empyrical(ep.conditional_value_at_risk, returns, 0.1), -0.045)


# --- conventions of our own, checked against hand-worked answers and scipy ----------------------


def test_parametric_var_and_cvar_of_a_hand_worked_series() -> None:
    returns = np.array([-0.02, 0.0, 0.02, 0.04])
    # mean 0.01; std (ddof=1) sqrt(0.002 / 3) = 0.0258198889747161; z(5 %) = -1.6448536269514722
    close(metrics.value_at_risk(returns, method="parametric"), -0.0324699380275461)
    # phi(z) / 5 % = 0.1031356403753713 / 0.05 = 2.062712807507426
    close(metrics.conditional_value_at_risk(returns, method="parametric"), -0.0432590156765667)


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_parametric_var_and_cvar_agree_with_scipys_normal(level: float) -> None:
    table = awkward_columns(252)[:, [0, 1, 3]]  # the columns that vary
    mean, std = np.nanmean(table, axis=0), np.nanstd(table, axis=0, ddof=1)
    var = stats.norm.ppf(1 - level, loc=mean, scale=std)
    close(metrics.value_at_risk(table, level=level, method="parametric"), var)
    shortfall = [
        stats.norm.expect(lambda x: x, loc=m, scale=s, ub=v) / (1 - level)
        for m, s, v in zip(mean, std, var, strict=True)
    ]
    np.testing.assert_allclose(
        metrics.conditional_value_at_risk(table, level=level, method="parametric"),
        shortfall,
        rtol=1e-7,
    )


def test_parametric_var_needs_two_observations() -> None:
    assert math.isnan(metrics.value_at_risk(np.array([0.01, np.nan]), method="parametric"))


@pytest.mark.parametrize("level", [0.0, 1.0, 95.0])
def test_a_level_outside_zero_and_one_is_refused(level: float) -> None:
    with pytest.raises(ValueError, match="level"):
        metrics.value_at_risk(np.zeros(5), level=level)


def test_an_unknown_var_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        metrics.conditional_value_at_risk(np.zeros(5), method="cornish-fisher")


def test_tracking_error_and_information_ratio_of_a_hand_worked_pair() -> None:
    returns = np.array([0.02, -0.01, 0.03, -0.03])
    benchmark = np.array([0.01, -0.02, 0.02, -0.01])
    # active 0.01, 0.01, 0.01, -0.02: mean 0.0025, std (ddof=1) sqrt(6.75e-4 / 3) = 0.015
    close(metrics.tracking_error(returns, benchmark, periods_per_year=4), 0.015 * 2)
    close(metrics.information_ratio(returns, benchmark, periods_per_year=4), 0.0025 / 0.015 * 2)


def test_capture_ratios_of_a_hand_worked_pair() -> None:
    returns = np.array([0.02, -0.01, 0.03, -0.03, np.nan])
    benchmark = np.array([0.01, -0.02, 0.02, -0.01, 0.05])
    # Two up dates and two down dates; periods_per_year=2 makes each annual rate the total.
    close(metrics.up_capture(returns, benchmark, periods_per_year=2), 0.0506 / 0.0302)
    close(metrics.down_capture(returns, benchmark, periods_per_year=2), 0.0397 / 0.0298)


# --- drawdowns --------------------------------------------------------------------------------


def test_drawdown_series_matches_empyrical_and_keeps_the_shape_of_its_input() -> None:
    table = awkward_columns(252)[:, :4]
    dates = pd.bdate_range("2024-01-01", periods=252)
    close(metrics.drawdown_series(table), empyrical_drawdowns(table))
    series = metrics.drawdown_series(pd.Series(table[:, 1], index=dates, name="fund"))
    assert isinstance(series, pd.Series)
    assert series.name == "fund"
    assert series.index.equals(dates)
    close(series.to_numpy(), empyrical_drawdowns(table[:, 1]))
    frame = metrics.drawdown_series(pd.DataFrame(table, index=dates, columns=list("abcd")))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list("abcd")


def empyrical_drawdowns(returns: FloatArray) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(ep.stats.drawdown_series(returns), dtype=np.float64)


def test_a_loss_on_the_first_date_is_a_drawdown_from_the_starting_value() -> None:
    close(metrics.drawdown_series(np.array([-0.1, 0.05])), [-0.1, -0.055])
    close(metrics.max_drawdown(np.array([-0.1, 0.5])), -0.1)


HAND_WORKED = pd.Series(
    [-0.10, 0.10, 0.20, -0.20, -0.10, 0.50, -0.05],
    index=pd.date_range("2024-01-01", periods=7, name="day"),
)
# wealth 0.9, 0.99, 1.188, 0.9504, 0.85536, 1.28304, 1.218888 from 1.0 before the first date:
#   A: below the 1.0 start on the 1st and 2nd, back above on the 3rd   depth -0.10, length 3
#   B: peak 1.188 on the 3rd, trough 0.85536 on the 5th (0.85536 / 1.188 - 1 = -0.28),
#      new high on the 6th                                              depth -0.28, length 3
#   C: peak on the 6th, down 5 % on the 7th, not recovered             depth -0.05, length 1


def test_drawdown_periods_of_a_hand_worked_series_deepest_first() -> None:
    table = metrics.drawdown_periods(HAND_WORKED, top=None)
    day = pd.Timestamp
    assert list(table.columns) == ["peak", "trough", "recovery", "depth", "length"]
    assert list(table["peak"]) == [day("2024-01-03"), pd.NaT, day("2024-01-06")]
    assert list(table["trough"]) == [day("2024-01-05"), day("2024-01-01"), day("2024-01-07")]
    assert list(table["recovery"]) == [day("2024-01-06"), day("2024-01-03"), pd.NaT]
    close(table["depth"].to_numpy(), [-0.28, -0.10, -0.05])
    assert list(table["length"]) == [3, 3, 1]


def test_drawdown_periods_keeps_only_the_top_episodes() -> None:
    table = metrics.drawdown_periods(HAND_WORKED, top=2)
    close(table["depth"].to_numpy(), [-0.28, -0.10])


def test_drawdown_periods_agree_with_max_drawdown() -> None:
    returns = pd.Series(random_returns(2520, seed=12, nan_share=0.05))
    table = metrics.drawdown_periods(returns, top=3)
    close(table["depth"].iloc[0], empyrical(ep.max_drawdown, returns.to_numpy()))
    assert (table["depth"].diff().dropna() >= 0).all()
    curve = metrics.drawdown_series(returns)
    close(curve.loc[list(table["trough"])].to_numpy(), table["depth"].to_numpy())


def test_drawdown_periods_of_an_array_are_labelled_by_position() -> None:
    table = metrics.drawdown_periods(HAND_WORKED.to_numpy(), top=None)
    assert list(table["peak"].fillna(-1)) == [2, -1, 5]
    assert list(table["trough"]) == [4, 0, 6]
    assert list(table["recovery"].fillna(-1)) == [5, 2, -1]
    with pytest.raises(ValueError, match="1-D"):
        metrics.drawdown_periods(np.zeros((3, 2)))


def test_a_series_that_never_falls_has_no_drawdown_periods() -> None:
    for returns in (pd.Series([0.01, 0.0, 0.02]), pd.Series([], dtype=float), np.full(3, np.nan)):
        table = metrics.drawdown_periods(returns)
        assert table.empty
        assert list(table.columns) == ["peak", "trough", "recovery", "depth", "length"]


# --- rolling windows ---------------------------------------------------------------------------


ROLLING_REFERENCES: dict[str, Callable[[FloatArray, int], FloatArray]] = {
    "sharpe_ratio": lambda r, w: ep.roll_sharpe_ratio(r, w),
    "annual_volatility": lambda r, w: ep.roll_annual_volatility(r, w),
    "max_drawdown": lambda r, w: ep.roll_max_drawdown(r, w),
    "sortino_ratio": lambda r, w: ep.roll_sortino_ratio(r, w),
    "conditional_value_at_risk": lambda r, w: np.array(
        [ep.conditional_value_at_risk(r[i : i + w]) for i in range(len(r) - w + 1)]
    ),
}


@pytest.mark.parametrize("name", list(ROLLING_REFERENCES))
def test_rolling_metrics_match_empyrical_window_by_window(name: str) -> None:
    returns = random_returns(300, seed=13, nan_share=0.05)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        reference = ROLLING_REFERENCES[name](returns, 21)
    close(metrics.rolling(getattr(metrics, name), returns, 21), reference)


def test_rolling_benchmark_metrics_match_empyrical_window_by_window() -> None:
    returns = random_returns(200, seed=14, nan_share=0.05)
    benchmark = random_returns(200, seed=15)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        betas = ep.roll_beta(returns, benchmark, 30)
        alphas = ep.roll_alpha(returns, benchmark, 30)
        ups = ep.roll_up_capture(returns, benchmark, window=30)
    close(metrics.rolling(metrics.beta, returns, 30, benchmark=benchmark), betas)
    close(metrics.rolling(metrics.alpha, returns, 30, benchmark=benchmark), alphas)
    close(metrics.rolling(metrics.up_capture, returns, 30, benchmark=benchmark), ups)


def test_rolling_over_columns_equals_rolling_each_column() -> None:
    table = awkward_columns(100)
    benchmark = random_returns(100, seed=16)
    for metric in (metrics.sharpe_ratio, metrics.max_drawdown, metrics.value_at_risk):
        values = metrics.rolling(metric, table, 10)
        assert values.shape == (91, table.shape[1])
        for j in range(table.shape[1]):
            close(values[:, j], metrics.rolling(metric, table[:, j], 10))
    relative = metrics.rolling(metrics.alpha, table, 10, benchmark=benchmark, risk_free=RISK_FREE)
    for j in range(table.shape[1]):
        close(
            relative[:, j],
            metrics.rolling(
                metrics.alpha, table[:, j], 10, benchmark=benchmark, risk_free=RISK_FREE
            ),
        )


def test_rolling_runs_the_metric_once_for_all_windows() -> None:
    calls: list[tuple[int, ...]] = []

    def counted(returns: FloatArray) -> float | FloatArray:
        calls.append(np.shape(returns))
        return metrics.annual_volatility(returns)

    metrics.rolling(counted, awkward_columns(100), 10)
    assert calls == [(10, 91 * 6)]


def test_rolling_keeps_pandas_labels_of_each_window_end() -> None:
    dates = pd.bdate_range("2024-01-01", periods=40)
    series = pd.Series(random_returns(40, seed=17), index=dates, name="fund")
    values = metrics.rolling(metrics.sharpe_ratio, series, 10, periods_per_year=12)
    assert isinstance(values, pd.Series)
    assert values.index.equals(dates[9:])
    assert values.name == "fund"
    close(values.iloc[0], empyrical(ep.sharpe_ratio, series.to_numpy()[:10], annualization=12))
    frame = metrics.rolling(metrics.max_drawdown, pd.DataFrame({"a": series, "b": -series}), 10)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["a", "b"]


def test_a_window_longer_than_the_data_gives_no_values() -> None:
    assert metrics.rolling(metrics.sharpe_ratio, np.zeros(5), 6).shape == (0,)
    with pytest.raises(ValueError, match="window"):
        metrics.rolling(metrics.sharpe_ratio, np.zeros(5), 0)


# --- summary -----------------------------------------------------------------------------------


def test_summary_lists_every_metric_for_every_column() -> None:
    dates = pd.bdate_range("2020-01-01", periods=504)
    frame = pd.DataFrame(awkward_columns(504)[:, :4], index=dates, columns=list("abcd"))
    benchmark = pd.Series(random_returns(504, seed=18), index=dates)
    table = metrics.summary(frame, benchmark, risk_free=RISK_FREE)
    assert list(table.columns) == list("abcd")
    assert set(UNARY) | set(RELATIVE) <= set(table.index)
    a = frame["a"].to_numpy()
    close(table.loc["sharpe_ratio", "a"], empyrical(ep.sharpe_ratio, a, risk_free=RISK_FREE))
    close(table.loc["max_drawdown"].to_numpy(), metrics.max_drawdown(frame))
    b = frame["b"].to_numpy()
    close(
        table.loc["alpha", "b"], empyrical(ep.alpha, b, benchmark.to_numpy(), risk_free=RISK_FREE)
    )
    close(table.loc["value_at_risk", "a"], empyrical(ep.value_at_risk, a, 0.05))


def test_summary_of_a_series_without_benchmark_names_its_column() -> None:
    table = metrics.summary(pd.Series(random_returns(100, seed=19), name="fund"))
    assert list(table.columns) == ["fund"]
    assert "beta" not in table.index
    assert metrics.summary(random_returns(10, seed=20)).columns.tolist() == ["returns"]


# --- properties --------------------------------------------------------------------------------

RETURNS = hnp.arrays(
    np.float64,
    st.integers(1, 60),
    elements=st.one_of(st.floats(-0.99, 2.0), st.just(np.nan)),
)


@settings(max_examples=60, deadline=None)
@given(RETURNS)
def test_drawdowns_lie_between_minus_one_and_zero(returns: FloatArray) -> None:
    curve = metrics.drawdown_series(returns)
    present = curve[~np.isnan(curve)]
    assert ((present <= 0.0) & (present >= -1.0)).all()
    worst = metrics.max_drawdown(returns)
    assert math.isnan(worst) or -1.0 <= worst <= 0.0


@settings(max_examples=60, deadline=None)
@given(RETURNS, st.floats(0.5, 0.999))
def test_cvar_never_exceeds_var(returns: FloatArray, level: float) -> None:
    var = metrics.value_at_risk(returns, level=level)
    cvar = metrics.conditional_value_at_risk(returns, level=level)
    assert (math.isnan(var) and math.isnan(cvar)) or cvar <= var + 1e-12


@settings(max_examples=40, deadline=None)
@given(RETURNS)
def test_nan_rows_do_not_change_the_dispersion_metrics(returns: FloatArray) -> None:
    gap = [np.nan, np.nan]
    padded = np.concatenate([returns, gap])
    close(metrics.annual_volatility(padded), metrics.annual_volatility(returns))
    close(metrics.value_at_risk(padded), metrics.value_at_risk(returns))
    benchmark = returns[::-1]
    close(metrics.beta(padded, np.concatenate([benchmark, gap])), metrics.beta(returns, benchmark))
