"""Drawdowns: how far wealth stands below its running peak, date by date and episode by episode.

Wealth starts at 1.0 before the first return, so a loss in the first period is already a
drawdown (empyrical's anchor). A NaN return leaves wealth unchanged; a series with no observation
at all has NaN drawdowns. Drawdowns are fractions <= 0: -0.25 means 25 % below the peak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # pandas loads only when a pandas object comes in (it costs 0.3 s)
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

PERIOD_COLUMNS = ("peak", "trough", "recovery", "depth", "length")


def drawdowns(returns: npt.ArrayLike) -> FloatArray:
    """Drawdown at every date of a 1-D or 2-D (dates x series) float array of simple returns."""
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim not in (1, 2):
        raise ValueError(f"returns must be 1-D or 2-D (dates x series), got {values.ndim}-D")
    missing = np.isnan(values)
    # In place where possible: these arrays are the size of the whole input.
    growth = np.where(missing, 1.0, 1.0 + values) if missing.any() else values + 1.0
    wealth = np.cumprod(growth, axis=0, out=growth)
    # The running peak includes the starting wealth of 1.0 before the first return.
    peak = np.maximum.accumulate(wealth, axis=0)
    np.maximum(peak, 1.0, out=peak)
    result: FloatArray = np.divide(wealth, peak, out=wealth)
    result -= 1.0
    return np.where(np.all(missing, axis=0), np.nan, result)


@overload
def drawdown_series(returns: pd.DataFrame) -> pd.DataFrame: ...
@overload
def drawdown_series(returns: pd.Series) -> pd.Series: ...
@overload
def drawdown_series(returns: npt.ArrayLike) -> FloatArray: ...
def drawdown_series(returns: Any) -> Any:
    """Drawdown at every date, shaped like ``returns`` (ndarray, Series or DataFrame)."""
    values = drawdowns(returns)
    if not _is_pandas(returns):
        return values
    import pandas as pd

    if isinstance(returns, pd.DataFrame):
        return pd.DataFrame(values, index=returns.index, columns=returns.columns)
    return pd.Series(values, index=returns.index, name=returns.name)


def drawdown_periods(returns: Any, top: int | None = 10) -> pd.DataFrame:
    """The ``top`` deepest drawdown episodes of one series, deepest first.

    An episode is a run of dates below the running peak. Columns: ``peak`` (last date at the
    high-water mark; NaT when the peak is the 1.0 start before the first return), ``trough``
    (first date of the lowest wealth), ``recovery`` (first date back at or above the peak; NaT
    if not recovered), ``depth`` (drawdown at the trough, negative) and ``length`` (periods from
    the peak to the recovery, or to the last date if not recovered; the start counts as the
    period before the first date). Ties in depth keep chronological order. ``top=None`` lists
    every episode. Dates are labels of the Series index; an ndarray gets positions 0..T-1.
    """
    import pandas as pd

    if top is not None and top < 0:
        raise ValueError(f"top must be None or >= 0, got {top}")
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"returns must be 1-D (one series), got {values.ndim}-D")
    index = returns.index if isinstance(returns, pd.Series) else pd.RangeIndex(values.shape[0])
    n_dates = values.shape[0]
    curve = drawdowns(values)
    below = curve < 0  # NaN (no observation at all) counts as not below
    edges = np.diff(np.concatenate(([0], below.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1  # last date below the peak, inclusive

    depth = np.minimum.reduceat(curve, starts) if starts.size else np.empty(0)
    trough = _first_minimum(curve, below, starts)
    peak = starts - 1  # -1 is the 1.0 start before the first date
    recovery = ends + 1  # n_dates means "not recovered"
    length = np.where(recovery < n_dates, recovery, n_dates - 1) - peak

    rank = np.argsort(depth, kind="stable")[:top]
    labels = index if isinstance(index, pd.DatetimeIndex) else pd.Index(index, dtype=object)
    return pd.DataFrame(
        {
            "peak": labels.take(peak[rank], allow_fill=True, fill_value=None),
            "trough": labels.take(trough[rank]),
            "recovery": labels.take(
                np.where(recovery < n_dates, recovery, -1)[rank], allow_fill=True, fill_value=None
            ),
            "depth": depth[rank],
            "length": length[rank].astype(np.int64),
        },
        columns=list(PERIOD_COLUMNS),
    )


def _first_minimum(curve: FloatArray, below: npt.NDArray[np.bool_], starts: IntArray) -> IntArray:
    """Position of the first lowest drawdown in each episode (episodes begin at ``starts``)."""
    dates = np.flatnonzero(below)
    episode = np.searchsorted(starts, dates, side="right") - 1
    order = np.lexsort((dates, curve[dates], episode))
    _, first = np.unique(episode[order], return_index=True)
    found: IntArray = dates[order][first]
    return found


def _is_pandas(value: object) -> bool:
    """Whether ``value`` is a Series or DataFrame, without importing pandas for ndarrays."""
    if isinstance(value, np.ndarray):
        return False
    import pandas as pd

    return isinstance(value, pd.Series | pd.DataFrame)
