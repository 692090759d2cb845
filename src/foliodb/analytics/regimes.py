"""Macro indicators (year-over-year change, term spread, real rate) and growth/inflation
regimes, computed from economic series given as pandas Series (docs/macro.md).

Conventions:

- A series is indexed by observation date in FRED's way: a period is labelled by its first
  day (2024-01-01 is January 2024 in a monthly series, 2024 Q1 in a quarterly one). Frequencies
  are FRED's codes: D, W, BW, M, Q, SA, A. NaN values (published missing) are ignored.
- Year-over-year change, in percent: ``100 * (x_t / x_{t-1y} - 1)``, where ``x_{t-1y}`` is the
  observation 12 months (M), 4 quarters (Q), 2 half-years (SA) or 1 year (A) before; 52 weeks
  (364 days) before for W and BW; for D the last observation on or before the same day a year
  earlier, at most 7 days older. No earlier observation (or a zero one): no change.
- A rate is sampled per period at its last valid observation in that period (a daily yield
  becomes its month-end value, labelled by the month's first day).
- z-scores are ``(x - mean) / std`` over the trailing window of observations that ends with
  ``x`` (``x`` included), sample standard deviation (ddof=1); only full windows count.
- Regimes: growth is *up* when its z-score is >= 0 (at or above its window mean), inflation
  likewise. GOLDILOCKS: growth up, inflation down; REFLATION: both up; STAGFLATION: growth
  down, inflation up; DEFLATION: both down.
- Confidence in [0, 1]: ``erf(|z_g| / sqrt 2) * erf(|z_i| / sqrt 2)``. Each factor is the
  share of a normal distribution lying closer to the mean than the z-score, so a regime is
  only as clear as its less clear axis: 0 when either indicator sits on its mean, 0.47 when
  both are one standard deviation away, 0.91 at two.
"""

from __future__ import annotations

import enum
import math
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


class Regime(enum.StrEnum):
    GOLDILOCKS = "GOLDILOCKS"  # growth up, inflation down
    REFLATION = "REFLATION"  # growth up, inflation up
    STAGFLATION = "STAGFLATION"  # growth down, inflation up
    DEFLATION = "DEFLATION"  # growth down, inflation down


#: Observations per year of the frequencies regimes work at.
PERIODS_PER_YEAR: Final = {"M": 12, "Q": 4, "SA": 2, "A": 1}
#: Months one observation stands for, when a coarser series is spread over months.
MONTHS_PER_PERIOD: Final = {"M": 1, "Q": 3, "SA": 6, "A": 12}
#: Frequencies finer than monthly, sampled to month ends before regimes are computed.
SUB_MONTHLY: Final = ("D", "W", "BW")
_PERIOD_ALIAS: Final = {"M": "M", "Q": "Q", "A": "Y"}  # SA: labelled by its first month
_DAILY_TOLERANCE: Final = pd.Timedelta(days=7)
_FREQUENCIES: Final = (*SUB_MONTHLY, *PERIODS_PER_YEAR)


def _check(frequency: str) -> None:
    if frequency not in _FREQUENCIES:
        raise ValueError(f"unknown frequency {frequency!r}: expected one of {_FREQUENCIES}")


def _clean(values: pd.Series) -> pd.Series:
    """The valid observations, as float, in date order (the input is not changed)."""
    out = values.dropna().astype("float64")
    out.index = pd.DatetimeIndex(out.index)
    return out.sort_index()


def period_start(index: pd.DatetimeIndex, frequency: str) -> pd.DatetimeIndex:
    """Each date's period, labelled by its first day (a March 31 quarterly date is Q1)."""
    alias = _PERIOD_ALIAS.get(frequency, "M")
    return index.to_period(alias).to_timestamp()


def yoy_change(levels: pd.Series, frequency: str) -> pd.Series:
    """Year-over-year change in percent, at the series' own dates (see the module notes)."""
    _check(frequency)
    values = _clean(levels)
    dates = pd.DatetimeIndex(values.index)
    if frequency == "D":
        target = dates - pd.DateOffset(years=1)
        prior = values.reindex(target, method="pad", tolerance=_DAILY_TOLERANCE).to_numpy()
    else:
        if frequency in ("W", "BW"):
            target = dates - pd.Timedelta(days=364)
        else:
            values.index = period_start(dates, frequency)
            values = values[~values.index.duplicated(keep="last")]
            target = pd.DatetimeIndex(values.index) - pd.DateOffset(years=1)
        prior = values.reindex(target).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        change = 100.0 * (values.to_numpy() / np.where(prior == 0, np.nan, prior) - 1.0)
    out = pd.Series(change, index=pd.DatetimeIndex(values.index, name="date")).dropna()
    out.name = levels.name
    return out


def period_last(values: pd.Series, frequency: str = "M") -> pd.Series:
    """The last valid observation of each period, labelled by the period's first day."""
    clean = _clean(values)
    out = clean.groupby(period_start(pd.DatetimeIndex(clean.index), frequency)).last()
    out.index.name = "date"
    out.name = values.name
    return out


def term_spread(long_rate: pd.Series, short_rate: pd.Series) -> pd.Series:
    """long - short on each date both have a value (e.g. DGS10 - DGS2, percentage points)."""
    spread = (_clean(long_rate) - _clean(short_rate)).dropna()
    spread.index.name = "date"
    return spread.rename("term_spread")


def real_rate(nominal_rate: pd.Series, price_index: pd.Series, frequency: str) -> pd.Series:
    """A nominal rate (percent) minus the year-over-year inflation of a price index of
    `frequency` (M or coarser), per period of the price index: the rate is sampled at its last
    observation of each period (a month-end yield for monthly CPI). Periods with both only."""
    _check(frequency)
    inflation = yoy_change(price_index, frequency)
    rate = period_last(nominal_rate, frequency)
    real = (rate - inflation).dropna()
    real.index.name = "date"
    return real.rename("real_rate")


def monthly_or_coarser(levels: pd.Series, frequency: str) -> tuple[pd.Series, str]:
    """A series finer than monthly as its month-end values; others unchanged."""
    _check(frequency)
    if frequency in SUB_MONTHLY:
        return period_last(levels, "M"), "M"
    return levels, frequency


def rolling_zscore(values: pd.Series, window: int) -> pd.DataFrame:
    """Columns value, mean, std, z over the trailing `window` observations (ddof=1, full
    windows only; a window without spread has no z)."""
    if window < 3:
        raise ValueError(f"a z-score window of {window} observations is too short (3 or more)")
    clean = _clean(values)
    rolling = clean.rolling(window, min_periods=window)
    mean, std = rolling.mean(), rolling.std(ddof=1)
    z = (clean - mean) / std.where(std > 0)
    return pd.DataFrame({"value": clean, "mean": mean, "std": std, "z": z})


def to_months(frame: pd.DataFrame, frequency: str) -> pd.DataFrame:
    """Spread each row over the months of its period (a quarter's value over its three
    months), with the period's date in a `period` column; no value past its own period."""
    span = MONTHS_PER_PERIOD[frequency]
    if frame.empty:
        return frame.assign(period=pd.Series(dtype="datetime64[ns]"))
    labelled = frame.copy()
    labelled.index = period_start(pd.DatetimeIndex(frame.index), frequency)
    labelled["period"] = labelled.index
    months = pd.date_range(
        labelled.index[0], labelled.index[-1] + pd.DateOffset(months=span - 1), freq="MS"
    )
    spread = labelled.reindex(months)
    return spread.ffill(limit=span - 1) if span > 1 else spread


def regime_of(growth_z: npt.ArrayLike, inflation_z: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """The regime of each (growth z, inflation z) pair; "" where either is NaN."""
    g, i = np.asarray(growth_z, dtype=float), np.asarray(inflation_z, dtype=float)
    up_g, up_i = g >= 0, i >= 0
    choices = [
        (up_g & ~up_i, Regime.GOLDILOCKS.value),
        (up_g & up_i, Regime.REFLATION.value),
        (~up_g & up_i, Regime.STAGFLATION.value),
        (~up_g & ~up_i, Regime.DEFLATION.value),
    ]
    known = ~(np.isnan(g) | np.isnan(i))
    return np.select([c & known for c, _ in choices], [r for _, r in choices], default="")


_erf = np.vectorize(math.erf, otypes=[float])


def regime_confidence(growth_z: npt.ArrayLike, inflation_z: npt.ArrayLike) -> FloatArray:
    """erf(|z_g| / sqrt 2) * erf(|z_i| / sqrt 2), in [0, 1] (NaN where either z is NaN)."""
    g, i = np.abs(np.asarray(growth_z, dtype=float)), np.abs(np.asarray(inflation_z, dtype=float))
    result: FloatArray = _erf(g / math.sqrt(2)) * _erf(i / math.sqrt(2))
    return result


def classify_regimes(
    growth: pd.Series,
    inflation: pd.Series,
    *,
    growth_frequency: str,
    inflation_frequency: str,
    window_years: int = 10,
) -> pd.DataFrame:
    """The regime of each month from a growth and an inflation indicator (for example the
    year-over-year changes of real GDP and of CPI), each at its own frequency, M or coarser.

    Each indicator's z-score is computed over its last `window_years` years of observations
    at its own frequency (40 quarters, 120 months), then spread over the months of its period
    (a quarter's over its three months). Months where both have a z-score are classified.
    Returns one row per month (index `month`, the month's first day) with regime, confidence,
    growth, inflation, growth_z, inflation_z, the window means and standard deviations, and
    growth_period / inflation_period, the observation each month used.
    """
    sides = {}
    for name, values, frequency in (
        ("growth", growth, growth_frequency),
        ("inflation", inflation, inflation_frequency),
    ):
        if frequency not in PERIODS_PER_YEAR:
            raise ValueError(
                f"the {name} indicator is {frequency!r}: regimes need M, Q, SA or A "
                f"(sample finer series with monthly_or_coarser first)"
            )
        z = rolling_zscore(values, window_years * PERIODS_PER_YEAR[frequency])
        sides[name] = to_months(z.dropna(subset=["z"]), frequency).add_prefix(f"{name}_")
    months = sides["growth"].join(sides["inflation"], how="inner")
    months = months.dropna(subset=["growth_z", "inflation_z"])
    out = pd.DataFrame(
        {
            "regime": regime_of(months["growth_z"], months["inflation_z"]),
            "confidence": regime_confidence(months["growth_z"], months["inflation_z"]),
            "growth": months["growth_value"],
            "inflation": months["inflation_value"],
            "growth_z": months["growth_z"],
            "inflation_z": months["inflation_z"],
            "growth_mean": months["growth_mean"],
            "growth_std": months["growth_std"],
            "inflation_mean": months["inflation_mean"],
            "inflation_std": months["inflation_std"],
            "growth_period": months["growth_period"],
            "inflation_period": months["inflation_period"],
        },
        index=months.index,
    )
    out.index.name = "month"
    return out
