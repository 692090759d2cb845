"""Money-weighted returns: XIRR (ACT/365F) and Modified Dietz, timing flows like daily_twr.

Conventions (docs: "Returns and money-weighted returns"):

- `xirr` takes amounts from the investor's view (negative = paid in, positive = received),
  as pyxirr and spreadsheets do. The period functions take flows from the portfolio's view
  (positive = money in), like `returns.daily_twr`, and turn them round themselves.
- A period runs from the close of `start` (where `start_value` is measured, so flows dated
  `start` are already in it) to the close of `end`; its flows are dated in ``(start, end]``.
- A flow dated d counts from the start of day d, which is the close of day d - 1; with
  ``outflows_at="end"`` a day's net outflow counts at the close of d. Flows on one day are
  netted first, as daily_twr sees them.
- Day count ACT/365F: ``t = days / 365``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyxirr

from foliodb.analytics import returns
from foliodb.analytics.returns import DayArray, FloatArray

_DAYS_PER_YEAR = 365.0  # ACT/365F, the day count of every money-weighted figure here


def xirr(dates: Sequence[object] | npt.ArrayLike, amounts: npt.ArrayLike) -> float:
    """Annual internal rate of return of dated amounts, ACT/365F (``pyxirr.xirr``).

    Amounts are from the investor's view: negative = paid in, positive = received. Dates are
    plain dates in order (several amounts may share one). Raises ValueError for bad input or
    amounts that do not change sign; returns NaN when pyxirr finds no rate.
    """
    days = returns.parse_days(dates, "dates")
    cash = _as_amounts(amounts, "amounts")
    if len(cash) != len(days):
        raise ValueError(f"amounts has {len(cash)} values; dates has {len(days)}")
    if len(cash) < 2:
        raise ValueError(f"amounts has {len(cash)} values; expected at least 2")
    if not ((cash < 0).any() and (cash > 0).any()):
        raise ValueError(
            "amounts do not change sign; XIRR needs money paid in (negative) "
            "and money received (positive)"
        )
    try:
        rate = pyxirr.xirr(days, cash, day_count=pyxirr.DayCount.ACT_365F)
    except pyxirr.InvalidPaymentsError as exc:
        raise ValueError(f"pyxirr refused the schedule: {exc}") from None
    return math.nan if rate is None else float(rate)


def money_weighted_return(
    start_value: float,
    end_value: float,
    flow_dates: Sequence[object] | npt.ArrayLike,
    flow_amounts: npt.ArrayLike,
    start: object,
    end: object,
    *,
    outflows_at: returns.OutflowTiming = "start",
    annualise: bool = True,
) -> float:
    """XIRR of a period: `start_value` paid in at the close of `start`, the external flows
    (positive = money in) at their timing, `end_value` received at the close of `end`.

    Annual rate, ACT/365F; with ``annualise=False`` the rate over the period,
    ``(1 + irr) ** (days / 365) - 1``. A total loss (money in, nothing ever out) gives -1;
    a period with no money in gives NaN.
    """
    v0, v1, first, last, days, amounts = _period(
        start_value, end_value, flow_dates, flow_amounts, start, end
    )
    elapsed = _elapsed_days(days, amounts, first, outflows_at)
    schedule_days = np.concatenate(([first], first + elapsed.astype("timedelta64[D]"), [last]))
    schedule = np.concatenate(([-v0], -amounts, [v1]))
    if not (schedule < 0).any():
        return math.nan
    if not (schedule > 0).any():
        return -1.0
    rate = xirr(schedule_days, schedule)
    if annualise or math.isnan(rate):
        return rate
    span = int((last - first) / np.timedelta64(1, "D"))
    return float((1.0 + rate) ** (span / _DAYS_PER_YEAR) - 1.0)


def modified_dietz(
    start_value: float,
    end_value: float,
    flow_dates: Sequence[object] | npt.ArrayLike,
    flow_amounts: npt.ArrayLike,
    start: object,
    end: object,
    *,
    outflows_at: returns.OutflowTiming = "start",
) -> float:
    """Modified Dietz return from the close of `start` to the close of `end`.

    ``(V1 - V0 - sum CF) / (V0 + sum W_i CF_i)`` with ``W_i = (CD - D_i) / CD``: CD calendar
    days in the period, D_i days from its start to the flow. A flow dated d counts from the
    start of d (``D_i = d - start - 1``, so a flow on the period's first day weighs 1); a net
    outflow with ``outflows_at="end"`` from its close (``D_i = d - start``). Over one day this
    is daily_twr's formula. Flows positive = money in. NaN when there was no capital.
    """
    v0, v1, first, last, days, amounts = _period(
        start_value, end_value, flow_dates, flow_amounts, start, end
    )
    span = float((last - first) / np.timedelta64(1, "D"))
    weights = (span - _elapsed_days(days, amounts, first, outflows_at)) / span
    capital = v0 + float(np.sum(weights * amounts))
    if capital <= 0.0:
        return math.nan
    return (v1 - v0 - float(np.sum(amounts))) / capital


def _period(
    start_value: float,
    end_value: float,
    flow_dates: Sequence[object] | npt.ArrayLike,
    flow_amounts: npt.ArrayLike,
    start: object,
    end: object,
) -> tuple[float, float, np.datetime64, np.datetime64, DayArray, FloatArray]:
    """Validated period inputs; flows netted per day (days strictly increasing)."""
    v0 = _as_value(start_value, "start_value")
    v1 = _as_value(end_value, "end_value")
    first, last = returns.parse_day(start, "start"), returns.parse_day(end, "end")
    if first >= last:
        raise ValueError(f"start {first} is not before end {last}")
    days = returns.parse_days(flow_dates, "flow_dates")
    amounts = _as_amounts(flow_amounts, "flow_amounts")
    if len(amounts) != len(days):
        raise ValueError(f"flow_amounts has {len(amounts)} values; flow_dates has {len(days)}")
    outside = (days <= first) | (days > last)
    if outside.any():
        raise ValueError(
            f"flow_dates: {days[outside][0]} is outside the period ({first}, {last}]; "
            "flows dated on start are already in start_value"
        )
    unique_days, which = np.unique(days, return_inverse=True)
    netted = np.zeros(len(unique_days))
    np.add.at(netted, which, amounts)
    return v0, v1, first, last, unique_days, netted


def _elapsed_days(
    days: DayArray, amounts: FloatArray, start: np.datetime64, outflows_at: str
) -> npt.NDArray[np.int64]:
    """Whole days from the close of `start` to the moment each (netted) flow counts."""
    if outflows_at not in ("start", "end"):
        raise ValueError(f"outflows_at is {outflows_at!r}; expected 'start' or 'end'")
    elapsed = (days - start).astype(np.int64)
    # A flow counts from the start of its day, the close of the day before; a net outflow
    # with outflows_at="end" from the close of its own day.
    at_start = amounts >= 0.0 if outflows_at == "end" else np.ones(len(amounts), dtype=bool)
    return np.where(at_start, elapsed - 1, elapsed)


def _as_amounts(values: npt.ArrayLike, name: str) -> FloatArray:
    """A 1-D finite float64 array (possibly empty), or a ValueError naming it."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not numeric: {exc}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} has {array.ndim} dimensions; expected 1")
    bad = ~np.isfinite(array)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} holds {int(bad.sum())} NaN or infinite values (first at {at})")
    return array


def _as_value(value: float, name: str) -> float:
    """A finite float (Decimal and numpy scalars convert), or a ValueError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is {value!r}; expected a finite number") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} is {value!r}; expected a finite number")
    return number
