"""Time-weighted returns: daily returns from values and external flows, chained geometrically.

Conventions (docs: "Returns and money-weighted returns"):

- Flows are external flows only (deposits, withdrawals, transfers in and out), signed from the
  portfolio's view: positive = money in. Income, fees, trades and dividends are internal: they
  are part of the values, never a flow.
- A valuation day's flow counts at the start of that day, so its return is
  ``r = V_end / (V_prev + CF) - 1`` (GIPS daily linking). With ``outflows_at="end"`` a day whose
  net flow is negative counts it at the end of the day instead:
  ``r = (V_end - CF) / V_prev - 1`` (inflows stay at the start).
- A day with no capital (``V_prev + CF <= 0``, or ``V_prev <= 0`` for an end-of-day outflow) has
  no return: NaN. Chaining skips NaN days, so a full exit and a later re-entry chain on.
- A flow dated on a day without a valuation belongs to the start of the next valuation day.
- Periods run from the close of their ``start`` valuation to the close of their ``end``
  valuation; the returns of the valuation days in ``(start, end]`` are chained.
- Years are calendar years counted back from the end by anniversary, plus the remaining days
  over the length of the year before that anniversary: 1Y, 3Y and 5Y are exactly 1, 3 and 5.
  A period is annualised, ``(1 + R) ** (1 / years) - 1``, only when it spans a year or more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # pandas loads only for the period table, which takes a Series
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
DayArray = npt.NDArray[np.datetime64]
#: When a valuation day's net outflow counts: at the start of the day (like every inflow),
#: or at its end. Shared by daily_twr, mwr.modified_dietz and mwr.money_weighted_return.
OutflowTiming = Literal["start", "end"]
#: The standard period table, in display order.
PERIODS: Final = ("1D", "WTD", "MTD", "QTD", "YTD", "1Y", "3Y", "5Y", "ITD")
_TRAILING_YEARS: Final = {"1Y": 1, "3Y": 3, "5Y": 5}
_ONE_DAY: Final = np.timedelta64(1, "D")


@dataclass(frozen=True, slots=True)
class PeriodReturn:
    """The time-weighted return of one period, measured from the close of `start` to the close
    of `end` (both valuation days; None when the period is not covered by the history)."""

    period: str
    start: dt.date | None
    end: dt.date | None
    total_return: float
    years: float
    annualised: float


def daily_twr(
    values_end: npt.ArrayLike,
    values_prev: npt.ArrayLike,
    flows: npt.ArrayLike,
    *,
    outflows_at: OutflowTiming = "start",
) -> FloatArray:
    """Simple daily returns from closing values, previous closing values and external flows.

    Arrays are shaped ``(n_days,)`` or ``(n_days, n_portfolios)``, all alike. Flows are net
    external flows of each day, positive = money in, counted at the start of the day
    (``r = V_end / (V_prev + CF) - 1``); with ``outflows_at="end"`` a net outflow counts at the
    end of the day (``r = (V_end - CF) / V_prev - 1``). Days with no capital give NaN.
    """
    v_end = _as_values(values_end, "values_end")
    v_prev = _as_values(values_prev, "values_prev")
    cf = _as_values(flows, "flows")
    for name, array in (("values_prev", v_prev), ("flows", cf)):
        if array.shape != v_end.shape:
            raise ValueError(f"{name} has shape {array.shape}; values_end has {v_end.shape}")
    if outflows_at == "start":
        capital, ending = v_prev + cf, v_end
    elif outflows_at == "end":
        capital, ending = v_prev + np.maximum(cf, 0.0), v_end - np.minimum(cf, 0.0)
    else:
        raise ValueError(f"outflows_at is {outflows_at!r}; expected 'start' or 'end'")
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = ending / capital - 1.0
    return np.where(capital > 0.0, returns, np.nan)


def previous_values(
    values_end: npt.ArrayLike, *, initial_value: float | npt.ArrayLike = 0.0
) -> FloatArray:
    """Each day's previous closing value: `values_end` shifted down one day.

    `initial_value` (one number, or one per portfolio) stands before the first day: 0, the
    default, when the first day is the inception day, whose opening deposit is its flow; the
    known prior close otherwise. A first day with neither capital nor flow has no return
    (NaN): it is only the base of the chain.
    """
    v_end = _as_values(values_end, "values_end")
    initial = np.asarray(initial_value, dtype=np.float64)
    if not np.isfinite(initial).all() or initial.shape not in ((), v_end.shape[1:]):
        raise ValueError(
            f"initial_value is {initial_value!r}; expected a finite number or one per portfolio"
        )
    prev = np.empty_like(v_end)
    prev[0] = initial
    prev[1:] = v_end[:-1]
    return prev


def assign_flows(
    flow_dates: Sequence[object] | npt.ArrayLike,
    flow_amounts: npt.ArrayLike,
    valuation_dates: Sequence[object] | npt.ArrayLike,
) -> FloatArray:
    """Net external flow at the start of each valuation day.

    A flow dated on a valuation day belongs to that day; one dated between valuations (or
    before the first) to the next valuation day. A flow after the last valuation is refused:
    its day's value is not known yet.
    """
    valuations = parse_days(valuation_dates, "valuation_dates", strictly_increasing=True)
    days = parse_days(flow_dates, "flow_dates")
    amounts = _as_values(flow_amounts, "flow_amounts", allow_empty=True)
    if amounts.ndim != 1 or len(amounts) != len(days):
        raise ValueError(
            f"flow_amounts has shape {amounts.shape}; expected ({len(days)},) like flow_dates"
        )
    if len(valuations) == 0:
        raise ValueError("valuation_dates is empty; expected at least one valuation day")
    positions = np.searchsorted(valuations, days, side="left")
    late = positions == len(valuations)
    if late.any():
        raise ValueError(
            f"flow_dates: {int(late.sum())} flows after the last valuation day "
            f"{valuations[-1]} (first on {days[late][0]}); expected flows up to that day"
        )
    assigned = np.zeros(len(valuations))
    np.add.at(assigned, positions, amounts)
    return assigned


def chain(returns: npt.ArrayLike) -> float | FloatArray:
    """Geometric link of simple returns, ``prod(1 + r) - 1``, skipping NaN (no capital) days.

    1-D in, float out; ``(n_days, n_portfolios)`` in, one figure per portfolio out. NaN when
    no day had capital.
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim not in (1, 2):
        raise ValueError(f"returns has {r.ndim} dimensions; expected 1 or 2")
    if np.isinf(r).any():
        raise ValueError("returns holds an infinite value; expected finite returns or NaN")
    has_capital = ~np.isnan(r)
    growth = np.prod(np.where(has_capital, 1.0 + r, 1.0), axis=0) - 1.0
    linked = np.where(has_capital.any(axis=0), growth, np.nan)
    return float(linked) if r.ndim == 1 else linked


def period_returns(
    daily: pd.Series,
    as_of: object,
    periods: Sequence[str] = PERIODS,
    *,
    annualise: bool = True,
) -> pd.DataFrame:
    """The period table of a daily return series as of a date, one row per period.

    Each period starts at the last valuation on or before the end of the previous period
    (WTD: the Sunday before `as_of`'s ISO week; MTD, QTD, YTD: the last day of the previous
    month, quarter, year; nY: `as_of` less n calendar years, Feb 29 -> Feb 28) and ends at the
    last valuation on or before `as_of`. 1D is the last valuation day's return, from the
    valuation before it; ITD runs from the start of the first day with capital. A period
    that starts before the history gives NaN; so does one without a day with capital.
    Columns: the fields of PeriodReturn but `period`, which is the index.
    """
    import pandas as pd  # here, not at the top: only the period table needs pandas

    history = _History.parse(daily)
    as_of_day = parse_day(as_of, "as_of")
    labels = (periods,) if isinstance(periods, str) else tuple(periods)
    unknown = [label for label in labels if label not in PERIODS]
    if unknown:
        raise ValueError(f"periods: unknown {unknown}; expected some of {list(PERIODS)}")
    rows = [history.period(label, as_of_day, annualise=annualise) for label in labels]

    def day_column(days: list[dt.date | None]) -> pd.DatetimeIndex:
        stamps = [pd.NaT if day is None else pd.Timestamp(day) for day in days]
        return pd.DatetimeIndex(stamps).as_unit("s")

    return pd.DataFrame(
        {
            "start": day_column([row.start for row in rows]),
            "end": day_column([row.end for row in rows]),
            "total_return": [row.total_return for row in rows],
            "years": [row.years for row in rows],
            "annualised": [row.annualised for row in rows],
        },
        index=pd.Index([row.period for row in rows], name="period"),
    )


class PeriodError(ValueError):
    """A period the history cannot measure (its start is not before its end, or lies
    before the history's first day with capital)."""


def custom_period(
    daily: pd.Series, start: object, end: object, *, annualise: bool = True
) -> PeriodReturn:
    """The return from the close of `start` to the close of `end`.

    Like a row of the period table whose previous period ended on `start`: it is measured
    from the last valuation on or before `start` to the last on or before `end`, so
    ``custom_period(daily, "2023-12-31", as_of)`` is YTD. A `start` before the history
    (before the start of its first day with capital) is refused.
    """
    history = _History.parse(daily)
    first, last = parse_day(start, "start"), parse_day(end, "end")
    if first >= last:
        raise PeriodError(f"start {first} is not before end {last}")
    if history.start is None:
        raise PeriodError("daily has no day with capital; no period can be measured")
    if first < history.start:
        raise PeriodError(
            f"start {first} is before the history, which starts at the close of {history.start}"
        )
    base = history.base(first)
    return history.window(f"{first}..{last}", base, first, last, annualise=annualise)


def parse_days(
    values: Sequence[object] | npt.ArrayLike, name: str, *, strictly_increasing: bool = False
) -> DayArray:
    """Plain dates (date, Timestamp, datetime64 or ISO text; no time of day, no time zone) in
    order, as ``datetime64[D]``; or a ValueError naming the parameter."""
    probe = np.asarray(values)
    if probe.ndim != 1:
        raise ValueError(f"{name} has {probe.ndim} dimensions; expected a sequence of dates")
    if probe.size == 0:
        return np.empty(0, dtype="datetime64[D]")
    if probe.dtype.kind in "biufc":
        raise ValueError(f"{name} holds numbers; expected dates")
    if probe.dtype.kind == "O" and any(getattr(v, "tzinfo", None) is not None for v in probe):
        raise ValueError(f"{name} holds a date with a time zone; expected plain dates")
    try:
        stamps = probe.astype("datetime64[us]")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} are not dates: {exc}") from None
    if np.isnat(stamps).any():
        raise ValueError(f"{name} holds a missing date (NaT) at {int(np.isnat(stamps).argmax())}")
    days = stamps.astype("datetime64[D]")
    if (days != stamps).any():
        raise ValueError(f"{name} holds a time of day; expected plain dates")
    steps = np.diff(days)
    zero = np.timedelta64(0, "D")
    unsorted = steps <= zero if strictly_increasing else steps < zero
    if unsorted.any():
        at = int(np.flatnonzero(unsorted)[0]) + 1
        order = "strictly increasing" if strictly_increasing else "in order"
        raise ValueError(f"{name} are not {order}: {days[at - 1]} then {days[at]}")
    return days


def parse_day(value: object, name: str) -> np.datetime64:
    """One plain date as ``datetime64[D]``, or a ValueError naming the parameter."""
    day: np.datetime64 = parse_days([value], name)[0]
    return day


@dataclass(frozen=True)
class _History:
    """A validated daily series: its days, returns and the close its first capital day starts
    from (None when no day had capital)."""

    days: DayArray
    returns: FloatArray
    start: np.datetime64 | None

    @classmethod
    def parse(cls, daily: pd.Series) -> _History:
        import pandas as pd  # see period_returns

        if not isinstance(daily, pd.Series):
            raise ValueError(f"daily is a {type(daily).__name__}; expected a pandas Series")
        days = parse_days(daily.index, "daily.index", strictly_increasing=True)
        try:
            returns = np.asarray(daily, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"daily is not numeric: {exc}") from None
        if np.isinf(returns).any():
            raise ValueError("daily holds an infinite return; expected finite returns or NaN")
        with_capital = np.flatnonzero(~np.isnan(returns))
        if len(with_capital) == 0:
            return cls(days, returns, None)
        first = int(with_capital[0])
        # The first capital day starts at the close before it: the previous valuation, or the
        # day before when that first day is the first row (an inception-day deposit).
        start = days[first - 1] if first > 0 else days[0] - _ONE_DAY
        return cls(days, returns, start)

    def period(self, label: str, as_of: np.datetime64, *, annualise: bool) -> PeriodReturn:
        """One row of the period table."""
        if label == "1D":
            end_pos = int(np.searchsorted(self.days, as_of, side="right")) - 1
            if end_pos < 0:
                return self.window(label, None, None, as_of, annualise=annualise)
            base = self.days[end_pos - 1] if end_pos > 0 else self.days[0] - _ONE_DAY
            return self.window(label, base, base, as_of, annualise=annualise)
        if label == "ITD":
            return self.window(label, self.start, self.start, as_of, annualise=annualise)
        boundary = _boundary(label, as_of)
        return self.window(label, self.base(boundary), boundary, as_of, annualise=annualise)

    def base(self, boundary: np.datetime64) -> np.datetime64 | None:
        """The close a period whose previous period ends on `boundary` is measured from: the
        last valuation on or before it, never before the history starts."""
        if self.start is None or boundary < self.start:
            return None
        pos = int(np.searchsorted(self.days, boundary, side="right")) - 1
        return max(self.days[pos], self.start) if pos >= 0 else self.start

    def window(
        self,
        label: str,
        base: np.datetime64 | None,
        nominal_start: np.datetime64 | None,
        as_of: np.datetime64,
        *,
        annualise: bool,
    ) -> PeriodReturn:
        """Chain the returns of the valuation days in ``(base, last valuation <= as_of]``;
        `years` runs from `nominal_start` (the period's calendar start) to `as_of`."""
        end_pos = int(np.searchsorted(self.days, as_of, side="right")) - 1
        end = self.days[end_pos] if end_pos >= 0 else None
        years = np.nan if nominal_start is None else _calendar_years(nominal_start, as_of)
        covered = base is not None and self.start is not None and base >= self.start
        if not covered or end is None or base is None:
            return PeriodReturn(label, None, _date(end), np.nan, years, np.nan)
        lo = int(np.searchsorted(self.days, base, side="right"))
        total = float(chain(self.returns[lo : end_pos + 1])) if end_pos >= lo else np.nan
        annual = _annualised(total, years) if annualise else np.nan
        return PeriodReturn(label, _date(base), _date(end), total, years, annual)


def _boundary(label: str, as_of: np.datetime64) -> np.datetime64:
    """The last day of the period before the one `label` names (WTD, MTD, QTD, YTD, nY)."""
    day = _date(as_of)
    assert day is not None
    if label == "WTD":
        edge = day - dt.timedelta(days=day.weekday() + 1)
    elif label == "MTD":
        edge = day.replace(day=1) - dt.timedelta(days=1)
    elif label == "QTD":
        edge = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1) - dt.timedelta(days=1)
    elif label == "YTD":
        edge = dt.date(day.year - 1, 12, 31)
    else:
        edge = _years_before(day, _TRAILING_YEARS[label])
    return np.datetime64(edge, "D")


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; Feb 29 falls back to Feb 28."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _calendar_years(start: np.datetime64, end: np.datetime64) -> float:
    """Whole calendar years counted back from `end`, plus the rest over that year's length."""
    first, last = _date(start), _date(end)
    assert first is not None and last is not None
    if last <= first:
        return 0.0
    whole = last.year - first.year
    while whole > 0 and _years_before(last, whole) < first:
        whole -= 1
    anchor = _years_before(last, whole)
    year_length = (anchor - _years_before(anchor, 1)).days
    return whole + (anchor - first).days / year_length


def _annualised(total: float, years: float) -> float:
    """``(1 + R) ** (1 / years) - 1`` for a year or more; NaN for shorter periods."""
    if not years >= 1.0 or np.isnan(total) or total < -1.0:
        return np.nan
    return float((1.0 + total) ** (1.0 / years) - 1.0)


def _date(day: np.datetime64 | None) -> dt.date | None:
    return None if day is None else day.astype(dt.date)


def _as_values(values: npt.ArrayLike, name: str, *, allow_empty: bool = False) -> FloatArray:
    """A finite float64 array of 1 or 2 dimensions (days first), or a ValueError naming it."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not numeric: {exc}") from None
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} has {array.ndim} dimensions; expected 1 or 2 (days first)")
    if len(array) == 0 and not allow_empty:
        raise ValueError(f"{name} is empty; expected at least one day")
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} holds {int(bad.sum())} NaN or infinite values (first at {where})")
    return array
