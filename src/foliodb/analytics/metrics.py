"""Risk and performance metrics of periodic simple returns, vectorised across series.

Every metric takes ``returns`` as one series (1-D) or as dates x series (2-D, one series per
column), numpy or pandas, and never modifies it: 1-D gives a Python float, 2-D a float64 array
with one value per column, computed with NaN-aware reductions along axis 0 (no loop over columns).
Numbers match empyrical-reloaded; conventions and every difference are in docs/conventions.md:
rates are per period unless annualised with ``periods_per_year``, deviations use ddof=1,
VaR/CVaR and drawdowns are negative for losses, a NaN return is a missing observation.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import NormalDist
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from foliodb.analytics import drawdown, periods

if TYPE_CHECKING:  # pandas loads only when a pandas object comes in (it costs 0.3 s)
    import pandas as pd

FloatArray: TypeAlias = npt.NDArray[np.float64]
Metric: TypeAlias = float | FloatArray
VarMethod: TypeAlias = Literal["historical", "parametric"]

TRADING_DAYS = periods.TRADING_DAYS_PER_YEAR
# empyrical treats a benchmark variance below this as zero (beta undefined).
MIN_BENCHMARK_VARIANCE = 1.0e-30
# From this many series on, path-dependent metrics loop over dates, vectorised across series.
ROW_LOOP_MIN_SERIES = 64
# A CVaR tail position this close below a whole number counts as that number.
WHOLE_TOLERANCE = 1.0e-9

# Path metrics live in drawdown.py; they are part of this module's surface too.
drawdown_series = drawdown.drawdown_series
drawdown_periods = drawdown.drawdown_periods


def cumulative_return(returns: npt.ArrayLike) -> Metric:
    """Total compounded return, prod(1 + r) - 1; NaN returns are flat periods."""
    x, one_d = _columns(returns)
    growth = _growth(x)
    return _result(np.where(_observed(x) >= 1, growth - 1.0, np.nan), one_d)


def annual_return(returns: npt.ArrayLike, periods_per_year: float = TRADING_DAYS) -> Metric:
    """Compound annual growth rate: prod(1 + r) ** (periods_per_year / T) - 1.

    T counts every row, NaN rows included (a NaN is a flat period), as in empyrical.
    """
    x, one_d = _columns(returns)
    if x.shape[0] == 0:
        return _result(_nans(x), one_d)
    ending = _growth(x)
    years = x.shape[0] / periods_per_year
    with np.errstate(invalid="ignore", divide="ignore"):  # a negative ending value has no root
        rate = ending ** (1.0 / years) - 1.0
    return _result(np.where(_observed(x) >= 1, rate, np.nan), one_d)


def annual_volatility(returns: npt.ArrayLike, periods_per_year: float = TRADING_DAYS) -> Metric:
    """Sample standard deviation (ddof=1) scaled by sqrt(periods_per_year)."""
    x, one_d = _columns(returns)
    return _result(_std(x) * periods_per_year**0.5, one_d)


def sharpe_ratio(
    returns: npt.ArrayLike,
    risk_free: float | npt.ArrayLike = 0.0,
    periods_per_year: float = TRADING_DAYS,
) -> Metric:
    """mean(r - risk_free) / std(r - risk_free, ddof=1) * sqrt(periods_per_year).

    ``risk_free`` is per period (a number, or one value per date). Identical excess returns
    have zero deviation: the ratio is then +-inf, or NaN when they are all zero.
    """
    x, one_d = _columns(returns)
    excess = _excess(x, _per_period(risk_free, x, "risk_free"))
    std = _zero_dispersion(excess, _std(excess))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _mean(excess) / std * np.sqrt(periods_per_year)
    return _result(np.where(_observed(excess) >= 2, ratio, np.nan), one_d)


def downside_risk(
    returns: npt.ArrayLike,
    required_return: float | npt.ArrayLike = 0.0,
    periods_per_year: float = TRADING_DAYS,
) -> Metric:
    """Annualised downside deviation: sqrt(mean(min(r - required_return, 0) ** 2) * ppy).

    The mean runs over every observation (ddof=0, returns above the target count as zero);
    ``required_return`` is per period.
    """
    x, one_d = _columns(returns)
    shortfall = np.minimum(_excess(x, _per_period(required_return, x, "required_return")), 0.0)
    if _complete(shortfall) and x.shape[0] > 0:
        squares = np.einsum("ij,ij->j", shortfall, shortfall) / x.shape[0]
    else:
        squares = _mean(shortfall * shortfall)
    return _result(np.sqrt(squares) * np.sqrt(periods_per_year), one_d)


def sortino_ratio(
    returns: npt.ArrayLike,
    required_return: float | npt.ArrayLike = 0.0,
    periods_per_year: float = TRADING_DAYS,
) -> Metric:
    """mean(r - required_return) * periods_per_year / downside_risk (both annualised).

    +inf when there is no return below ``required_return`` (per period) and the mean is positive.
    """
    x, one_d = _columns(returns)
    excess = _excess(x, _per_period(required_return, x, "required_return"))
    risk = _each(downside_risk, x, required_return, periods_per_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _mean(excess) * periods_per_year / risk
    return _result(np.where(_observed(excess) >= 2, ratio, np.nan), one_d)


def max_drawdown(returns: npt.ArrayLike) -> Metric:
    """Deepest fall from a running peak (<= 0), wealth anchored at 1.0 before the first return."""
    x, one_d = _columns(returns)
    if x.shape[0] == 0:
        return _result(_nans(x), one_d)
    if not _complete(x):
        return _result(np.min(drawdown.drawdowns(x), axis=0), one_d)
    return _result(_max_drawdown_complete(x), one_d)


def _max_drawdown_complete(x: FloatArray) -> FloatArray:
    """max_drawdown of NaN-free columns.

    numpy accumulates along axis 0 one column at a time (strided, about 8 ns a cell), so for
    many series a loop over dates that updates every column's wealth and peak in one vector
    operation is 3-4x faster; a few long series take the whole-array path instead.
    """
    if x.shape[1] < ROW_LOOP_MIN_SERIES:
        worst_: FloatArray = np.min(drawdown.drawdowns(x), axis=0)
        return worst_
    wealth, peak = np.ones(x.shape[1]), np.ones(x.shape[1])
    ratio, worst = np.empty(x.shape[1]), np.ones(x.shape[1])
    for growth in x + 1.0:
        np.multiply(wealth, growth, out=wealth)
        np.maximum(peak, wealth, out=peak)
        np.divide(wealth, peak, out=ratio)
        np.minimum(worst, ratio, out=worst)
    worst -= 1.0
    return worst


def calmar_ratio(returns: npt.ArrayLike, periods_per_year: float = TRADING_DAYS) -> Metric:
    """annual_return / |max_drawdown|; NaN without a drawdown or when the ratio is infinite."""
    x, one_d = _columns(returns)
    return _result(
        _calmar(_each(annual_return, x, periods_per_year), _each(max_drawdown, x)), one_d
    )


def _calmar(annual: FloatArray, worst: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = annual / np.abs(worst)
    calmar: FloatArray = np.where((worst < 0) & np.isfinite(ratio), ratio, np.nan)
    return calmar


def omega_ratio(
    returns: npt.ArrayLike,
    risk_free: float | npt.ArrayLike = 0.0,
    required_return: float | npt.ArrayLike = 0.0,
) -> Metric:
    """Sum of gains over sum of losses of r - risk_free - required_return (both per period).

    NaN when nothing falls below the threshold. empyrical takes an *annual* required return;
    here it is per period like everywhere else (docs/conventions.md).
    """
    x, one_d = _columns(returns)
    threshold = _per_period(required_return, x, "required_return")
    rate = _per_period(risk_free, x, "risk_free")
    excess = x - rate - threshold if np.any(rate) or np.any(threshold) else x
    gains = np.sum(np.fmax(excess, 0.0), axis=0)  # fmax: a NaN counts as neither
    losses = -np.sum(np.fmin(excess, 0.0), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = gains / losses
    return _result(np.where((losses > 0.0) & (_observed(excess) >= 2), ratio, np.nan), one_d)


def value_at_risk(
    returns: npt.ArrayLike, level: float = 0.95, method: VarMethod = "historical"
) -> Metric:
    """Per-period return not undercut with probability ``level``; negative means a loss.

    ``historical``: the (1 - level) quantile of the observed returns, linearly interpolated
    (numpy's default, empyrical's ``cutoff = 1 - level``). ``parametric``: normal quantile
    mean + z * std (ddof=1), z = Phi^-1(1 - level). Not annualised.
    """
    tail = _tail(level, method)
    x, one_d = _columns(returns)
    if method == "parametric":
        z = NormalDist().inv_cdf(tail)
        return _result(_mean(x) + z * _std(x), one_d)
    if x.shape[0] == 0:
        return _result(_nans(x), one_d)
    observed = _observed(x)
    position = np.maximum(observed - 1, 0) * tail
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, np.maximum(observed - 1, 0))
    if _complete(x):  # the same two ranks in every column: a partial sort finds them
        ordered = np.partition(x, sorted({int(below[0]), int(above[0])}), axis=0)
    else:
        ordered = np.sort(x, axis=0)  # NaN sorts last
    low = np.take_along_axis(ordered, below[np.newaxis, :], axis=0)[0]
    high = np.take_along_axis(ordered, above[np.newaxis, :], axis=0)[0]
    weight, step = position - below, high - low
    # numpy's interpolation, which measures from the nearer neighbour
    quantile = np.where(weight >= 0.5, high - step * (1.0 - weight), low + step * weight)
    quantile = np.where(step == 0.0, low, quantile)
    return _result(np.where(observed >= 1, quantile, np.nan), one_d)


def conditional_value_at_risk(
    returns: npt.ArrayLike, level: float = 0.95, method: VarMethod = "historical"
) -> Metric:
    """Mean return in the worst (1 - level) tail (expected shortfall); negative means a loss.

    ``historical``: mean of the k + 1 lowest observations, k = floor((n - 1) * (1 - level)), as
    empyrical (a product within 1e-9 below a whole number counts as that number).
    ``parametric``: normal expected shortfall mean - std * phi(z) / (1 - level), ddof=1.
    """
    tail = _tail(level, method)
    x, one_d = _columns(returns)
    if method == "parametric":
        normal = NormalDist()
        depth = normal.pdf(normal.inv_cdf(tail)) / tail  # tail mean of a standard normal, negated
        return _result(_mean(x) - depth * _std(x), one_d)
    if x.shape[0] == 0:
        return _result(_nans(x), one_d)
    observed = _observed(x)
    # 1 - 0.9 is 0.09999999999999998 in binary: nudge so a 10 % tail of 11 values keeps 2.
    worst = np.floor(np.maximum(observed - 1, 0) * tail + WHOLE_TOLERANCE).astype(np.intp)
    if _complete(x):  # the same tail in every column: partition, then sum it
        k = int(worst[0])
        total = np.sum(np.partition(x, k, axis=0)[: k + 1], axis=0)
    else:
        running = np.cumsum(np.sort(x, axis=0), axis=0)  # NaN sorts last, after every tail
        total = np.take_along_axis(running, worst[np.newaxis, :], axis=0)[0]
    return _result(np.where(observed >= 1, total / (worst + 1), np.nan), one_d)


def beta(returns: npt.ArrayLike, benchmark: npt.ArrayLike) -> Metric:
    """cov(r, b) / var(b) over dates where both are observed; NaN if var(b) is ~0.

    ``benchmark`` is one series (shared by every column) or one per column; pandas inputs are
    aligned on their index first.
    """
    x, b, one_d = _pair(returns, benchmark)
    return _result(_beta(x, b), one_d)


def alpha(
    returns: npt.ArrayLike,
    benchmark: npt.ArrayLike,
    risk_free: float | npt.ArrayLike = 0.0,
    periods_per_year: float = TRADING_DAYS,
) -> Metric:
    """Jensen's alpha compounded to a year: (1 + mean(r - rf - beta (b - rf))) ** ppy - 1."""
    x, b, one_d = _pair(returns, benchmark)
    rate = _per_period(risk_free, x, "risk_free")
    slope = _beta(x, b)
    if np.ndim(rate) == 0 and _complete(x) and _complete(b):
        # The mean is linear: mean(r - rf - beta (b - rf)) without the array of residuals.
        rf = float(rate)
        mean_residual = (np.mean(x, axis=0) - rf) - slope * (np.mean(b, axis=0) - rf)
    else:
        mean_residual = _mean((x - rate) - slope * (b - rate))
    with np.errstate(invalid="ignore", over="ignore"):
        return _result((mean_residual + 1.0) ** periods_per_year - 1.0, one_d)


def tracking_error(
    returns: npt.ArrayLike, benchmark: npt.ArrayLike, periods_per_year: float = TRADING_DAYS
) -> Metric:
    """Annualised standard deviation (ddof=1) of active returns r - b."""
    x, b, one_d = _pair(returns, benchmark)
    return _result(_std(x - b) * periods_per_year**0.5, one_d)


def information_ratio(
    returns: npt.ArrayLike, benchmark: npt.ArrayLike, periods_per_year: float = TRADING_DAYS
) -> Metric:
    """mean(r - b) / std(r - b, ddof=1) * sqrt(periods_per_year): annualised, arithmetic.

    empyrical's ``excess_sharpe`` times sqrt(periods_per_year).
    """
    x, b, one_d = _pair(returns, benchmark)
    active = x - b
    spread = _zero_dispersion(active, _std(active))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _mean(active) / spread * np.sqrt(periods_per_year)
    return _result(np.where(_observed(active) >= 2, ratio, np.nan), one_d)


def up_capture(
    returns: npt.ArrayLike, benchmark: npt.ArrayLike, periods_per_year: float = TRADING_DAYS
) -> Metric:
    """annual_return(r) / annual_return(b) over the dates where b > 0 (both observed)."""
    x, b, one_d = _pair(returns, benchmark)
    return _result(_capture(x, b, np.greater(b, 0.0), periods_per_year), one_d)


def down_capture(
    returns: npt.ArrayLike, benchmark: npt.ArrayLike, periods_per_year: float = TRADING_DAYS
) -> Metric:
    """annual_return(r) / annual_return(b) over the dates where b < 0 (both observed)."""
    x, b, one_d = _pair(returns, benchmark)
    return _result(_capture(x, b, np.less(b, 0.0), periods_per_year), one_d)


def rolling(
    metric: Callable[..., Metric],
    returns: Any,
    window: int,
    *,
    benchmark: Any = None,
    **kwargs: Any,
) -> FloatArray | pd.Series | pd.DataFrame:
    """``metric`` over every complete trailing window of ``window`` dates.

    Gives T - window + 1 values, one per window end (empty if window > T), shaped like
    ``returns`` (Series/DataFrame indexed by the window's last date). All windows of all series
    are stacked as the columns of one 2-D array and ``metric`` runs once on it, so any metric of
    this module (or any function vectorised the same way) works. ``benchmark`` is passed
    window by window as the second argument; ``kwargs`` go to ``metric`` unchanged.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if benchmark is not None:
        returns, benchmark = _align(returns, benchmark)
    x, one_d = _columns(returns)
    n_windows, n_series = max(x.shape[0] - window + 1, 0), x.shape[1]
    values = np.empty((n_windows, n_series))
    if n_windows:
        stacks = [_windows(x, window)]
        if benchmark is not None:
            _, b, _ = _pair(x, benchmark)
            stacks.append(_windows(np.broadcast_to(b, x.shape), window))
        result = np.asarray(metric(*stacks, **kwargs), dtype=np.float64)
        values = result.reshape(n_windows, n_series)
    if not _is_pandas(returns):
        return values[:, 0] if one_d else values
    import pandas as pd

    index = returns.index[window - 1 :]
    if one_d:
        return pd.Series(values[:, 0], index=index, name=returns.name)
    return pd.DataFrame(values, index=index, columns=returns.columns)


def summary(
    returns: Any,
    benchmark: Any = None,
    periods_per_year: float = TRADING_DAYS,
    risk_free: float = 0.0,
    *,
    required_return: float = 0.0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Every metric for every series: metrics as rows, series as columns.

    ``risk_free`` (per period) goes to the excess-return metrics, Sharpe and alpha;
    ``required_return`` (per period) to the threshold metrics, Sortino, downside risk and omega.
    Benchmark rows appear only with a ``benchmark``; pandas inputs are aligned on their index.
    """
    import pandas as pd

    if benchmark is not None:
        returns, benchmark = _align(returns, benchmark)
    x, _ = _columns(returns)
    ppy = periods_per_year
    annual = _each(annual_return, x, ppy)
    worst = _each(max_drawdown, x)
    rows: dict[str, Metric] = {
        "cumulative_return": cumulative_return(x),
        "annual_return": annual,
        "annual_volatility": annual_volatility(x, ppy),
        "sharpe_ratio": sharpe_ratio(x, risk_free, ppy),
        "sortino_ratio": sortino_ratio(x, required_return, ppy),
        "downside_risk": downside_risk(x, required_return, ppy),
        "max_drawdown": worst,
        "calmar_ratio": _calmar(annual, worst),  # shares the two rows above
        "omega_ratio": omega_ratio(x, required_return=required_return),
        "value_at_risk": value_at_risk(x, level),
        "conditional_value_at_risk": conditional_value_at_risk(x, level),
        "parametric_value_at_risk": value_at_risk(x, level, "parametric"),
        "parametric_conditional_value_at_risk": conditional_value_at_risk(x, level, "parametric"),
    }
    if benchmark is not None:
        rows |= {
            "beta": beta(x, benchmark),
            "alpha": alpha(x, benchmark, risk_free, ppy),
            "tracking_error": tracking_error(x, benchmark, ppy),
            "information_ratio": information_ratio(x, benchmark, ppy),
            "up_capture": up_capture(x, benchmark, ppy),
            "down_capture": down_capture(x, benchmark, ppy),
        }
    if isinstance(returns, pd.DataFrame):
        columns: Any = returns.columns
    elif x.shape[1] == 1 and np.ndim(returns) == 1:
        name = getattr(returns, "name", None)
        columns = ["returns" if name is None else name]
    else:
        columns = pd.RangeIndex(x.shape[1])
    return pd.DataFrame(np.vstack(list(rows.values())), index=list(rows), columns=columns)


# --- shared machinery: every helper works on (dates x series) float64 arrays -----------------


def _columns(returns: npt.ArrayLike) -> tuple[FloatArray, bool]:
    """``returns`` as a float64 (dates x series) array, and whether it came in 1-D."""
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim == 1:
        return values[:, np.newaxis], True
    if values.ndim == 2:
        return values, False
    raise ValueError(f"returns must be 1-D or 2-D (dates x series), got {values.ndim}-D")


def _result(values: FloatArray, one_d: bool) -> Metric:
    """A float for a 1-D input, the per-column array for a 2-D one."""
    return float(values[0]) if one_d else values


def _each(metric: Callable[..., Metric], x: FloatArray, *args: Any) -> FloatArray:
    """``metric`` of each column of a 2-D array, as an array."""
    return np.asarray(metric(x, *args), dtype=np.float64)


def _nans(x: FloatArray) -> FloatArray:
    return np.full(x.shape[1], np.nan)


def _complete(x: FloatArray) -> bool:
    """True when every value of `x` is finite (no NaN, no infinity): the plain numpy reductions
    and multiplications by masks then apply, several times faster than their NaN-aware forms.
    One cheap pass decides; a sum that merely overflows only sends `x` down the slower path."""
    return bool(np.isfinite(np.sum(x)))


def _observed(x: FloatArray) -> npt.NDArray[np.intp]:
    """Number of non-NaN values in each column."""
    if _complete(x):
        return np.full(x.shape[1:], x.shape[0], dtype=np.intp)
    counts: npt.NDArray[np.intp] = np.count_nonzero(~np.isnan(x), axis=0)
    return counts


def _growth(x: FloatArray) -> FloatArray:
    """prod(1 + r) per column, a NaN return counting as a flat period."""
    factors = 1.0 + x if _complete(x) else np.where(np.isnan(x), 1.0, 1.0 + x)
    product: FloatArray = np.prod(factors, axis=0)
    return product


def _mean(x: FloatArray) -> FloatArray:
    """NaN-aware column means; NaN for a column without observations."""
    if _complete(x) and x.shape[0] > 0:
        mean_: FloatArray = np.mean(x, axis=0)
        return mean_
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: FloatArray = np.nansum(x, axis=0) / _observed(x)
    return mean


def _std(x: FloatArray, ddof: int = 1) -> FloatArray:
    """NaN-aware column standard deviations (two-pass); NaN with ddof or fewer observations."""
    if _complete(x) and x.shape[0] > ddof:
        deviation = x - np.mean(x, axis=0)
        # einsum sums the squares without another temporary the size of x
        squares = np.einsum("ij,ij->j", deviation, deviation)
        std_: FloatArray = np.sqrt(squares / (x.shape[0] - ddof))
        return std_
    observed = _observed(x)
    deviation = x - _mean(x)
    squares = np.nansum(deviation * deviation, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(squares / np.maximum(observed - ddof, 0))
    return np.where(observed > ddof, std, np.nan)


def _zero_dispersion(x: FloatArray, std: FloatArray) -> FloatArray:
    """``std`` set to exactly 0 where all observed values of a column are equal.

    A mean of identical values can miss them in the last bit, leaving a ~1e-18 deviation that
    would turn an infinite ratio into a huge finite one (empyrical's rule).
    """
    if x.shape[0] == 0:
        return std
    constant = (np.fmax.reduce(x, axis=0) == np.fmin.reduce(x, axis=0)) & np.isfinite(std)
    return np.where(constant, 0.0, std)


def _per_period(value: float | npt.ArrayLike, x: FloatArray, name: str) -> FloatArray:
    """A per-period rate as a scalar, a column (one value per date) or one value per cell."""
    rate = np.asarray(value, dtype=np.float64)
    if rate.ndim == 0 or rate.shape == x.shape:
        return rate
    if rate.ndim == 1 and rate.shape[0] == x.shape[0]:
        return rate[:, np.newaxis]
    raise ValueError(f"{name} must be a number or have one value per date, got {rate.shape}")


def _excess(x: FloatArray, rate: FloatArray) -> FloatArray:
    """x - rate, without copying x when the rate is a scalar zero."""
    if rate.ndim == 0 and float(rate) == 0.0:
        return x
    excess: FloatArray = x - rate
    return excess


def _tail(level: float, method: str) -> float:
    """Tail probability 1 - level, after checking ``level`` and ``method``."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level}")
    if method not in ("historical", "parametric"):
        raise ValueError(f"method must be 'historical' or 'parametric', got {method!r}")
    return 1.0 - level


def _align(returns: Any, benchmark: Any) -> tuple[Any, Any]:
    """Pandas returns and benchmark on the union of their indexes (missing dates are NaN)."""
    if _is_pandas(returns) and _is_pandas(benchmark):
        return returns.align(benchmark, join="outer", axis=0)  # type: ignore[no-any-return]
    return returns, benchmark


def _is_pandas(value: object) -> bool:
    """Whether ``value`` is a Series or DataFrame, without importing pandas for ndarrays."""
    if isinstance(value, np.ndarray):
        return False
    import pandas as pd

    return isinstance(value, pd.Series | pd.DataFrame)


def _pair(returns: Any, benchmark: Any) -> tuple[FloatArray, FloatArray, bool]:
    """Returns as (dates x series) and a benchmark that broadcasts against it."""
    returns, benchmark = _align(returns, benchmark)
    x, one_d = _columns(returns)
    b = np.asarray(benchmark, dtype=np.float64)
    if b.ndim == 1:
        b = b[:, np.newaxis]
    if b.ndim != 2 or b.shape[0] != x.shape[0] or b.shape[1] not in (1, x.shape[1]):
        raise ValueError(
            f"benchmark must be one series or one per column of returns {x.shape}, got {b.shape}"
        )
    return x, b, one_d


def _beta(x: FloatArray, b: FloatArray) -> FloatArray:
    """Slope of r on b per column, over dates where both are observed (empyrical's algebra)."""
    if _complete(x) and _complete(b):
        residual = b - np.mean(b, axis=0)  # b may be one shared column: then this is small
        if residual.shape == x.shape:
            covariance = np.einsum("ij,ij->j", residual, x) / x.shape[0]
            variance = np.einsum("ij,ij->j", residual, residual) / x.shape[0]
        else:
            covariance = (residual[:, 0] @ x) / x.shape[0]
            variance = np.full(x.shape[1], residual[:, 0] @ residual[:, 0] / x.shape[0])
    else:
        independent = np.where(np.isnan(x), np.nan, b)
        residual = independent - _mean(independent)
        covariance = _mean(residual * x)
        variance = _mean(residual * residual)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = covariance / variance
    return np.where(variance >= MIN_BENCHMARK_VARIANCE, slope, np.nan)


def _capture(
    x: FloatArray, b: FloatArray, side: npt.NDArray[np.bool_], periods_per_year: float
) -> FloatArray:
    """Ratio of compound annual growth of r to that of b over the chosen dates of each column."""
    finite = _complete(x) and _complete(b)
    chosen = side if finite else side & ~np.isnan(x) & ~np.isnan(b)
    count = np.count_nonzero(chosen, axis=0)
    factors = np.empty(x.shape)

    def growth(values: FloatArray) -> FloatArray:
        # A date not chosen is a factor of 1. Multiplying by the mask is 3-4x faster than
        # np.where, and exact for finite values.
        if finite:
            np.multiply(values, chosen, out=factors)
        else:
            np.copyto(factors, np.where(chosen, values, 0.0))
        np.add(factors, 1.0, out=factors)
        product: FloatArray = np.prod(factors, axis=0)
        return product

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = 1.0 / (count / periods_per_year)
        ours = growth(x) ** exponent - 1.0
        theirs = growth(np.broadcast_to(b, x.shape)) ** exponent - 1.0
        ratio = ours / theirs
    return np.where(count >= 1, ratio, np.nan)


def _windows(x: FloatArray, window: int) -> FloatArray:
    """Every trailing window of every column, as columns of a (window x windows*series) array."""
    views = sliding_window_view(x, window, axis=0)  # (windows, series, window)
    return np.moveaxis(views, -1, 0).reshape(window, -1)
