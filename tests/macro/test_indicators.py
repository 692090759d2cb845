"""Derived indicators, worked by hand: year-over-year change, term spread, real rate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import foliodb
from foliodb.analytics import regimes
from foliodb.errors import InputError


def series(points: dict[str, float], name: str = "X") -> pd.Series:
    return pd.Series(
        list(points.values()), index=pd.to_datetime(list(points)), name=name, dtype="float64"
    )


def as_dict(values: pd.Series) -> dict[str, float]:
    dates = pd.DatetimeIndex(values.index)
    return {d.date().isoformat(): round(v, 10) for d, v in zip(dates, values, strict=True)}


def test_monthly_yoy_compares_with_the_same_month_a_year_before() -> None:
    levels = series({f"{2023 + (m // 12)}-{m % 12 + 1:02d}-01": 100.0 + m for m in range(14)})
    original = levels.copy()

    yoy = regimes.yoy_change(levels, "M")

    # Jan 2024 = 112 against Jan 2023 = 100; Feb 2024 = 113 against 101.
    assert as_dict(yoy) == {"2024-01-01": 12.0, "2024-02-01": round(100 * (113 / 101 - 1), 10)}
    pd.testing.assert_series_equal(levels, original)  # the input is left alone


def test_quarterly_yoy_labels_quarters_by_their_first_day_and_skips_a_zero_base() -> None:
    levels = series({"2023-03-31": 50.0, "2023-06-30": 0.0, "2024-03-31": 55.0, "2024-06-30": 1.0})

    assert as_dict(regimes.yoy_change(levels, "Q")) == {"2024-01-01": 10.0}


def test_daily_yoy_takes_the_last_value_within_a_week_of_a_year_before() -> None:
    levels = series({"2023-01-03": 4.0, "2023-06-01": 3.0, "2024-01-05": 5.0, "2024-06-20": 6.0})

    # 2024-01-05 -> 2023-01-05: last value on or before is 2023-01-03 (2 days): 5 / 4 - 1.
    # 2024-06-20 -> 2023-06-20: the last value is 19 days older: no change.
    assert as_dict(regimes.yoy_change(levels, "D")) == {"2024-01-05": 25.0}


def test_weekly_yoy_looks_52_weeks_back() -> None:
    levels = series({"2023-01-07": 200.0, "2024-01-06": 210.0, "2024-01-13": 220.0})

    assert as_dict(regimes.yoy_change(levels, "W")) == {"2024-01-06": 5.0}


def test_term_spread_is_long_minus_short_where_both_are_published() -> None:
    long_rate = series({"2024-01-02": 3.95, "2024-01-03": 3.91, "2024-01-04": np.nan})
    short_rate = series({"2024-01-02": 4.33, "2024-01-03": np.nan, "2024-01-04": 4.38})

    assert as_dict(regimes.term_spread(long_rate, short_rate)) == {"2024-01-02": -0.38}


def test_real_rate_is_the_month_end_yield_minus_inflation_of_that_month() -> None:
    yields = series(
        {"2024-01-02": 3.95, "2024-01-31": 3.99, "2024-02-28": 4.25, "2024-02-29": np.nan}
    )
    cpi = series(
        {"2023-01-01": 300.0, "2023-02-01": 301.0, "2024-01-01": 309.0, "2024-02-01": 310.03}
    )

    real = regimes.real_rate(yields, cpi, "M")

    # January: 3.99 - 3 (309 / 300); February: 4.25 (the last published day) - 3.
    assert as_dict(real) == pytest.approx({"2024-01-01": 0.99, "2024-02-01": 1.25})


GDP_AND_RATES = """\
realtime_start,realtime_end,date,value
2023-02-14,,2023-01-01,300
2023-03-14,,2023-02-01,301
2024-02-13,2024-03-11,2024-01-01,309
2024-03-12,,2024-01-01,309.3
2024-03-12,,2024-02-01,310.03
"""


def test_indicators_are_computed_from_the_values_known_on_the_as_of_date(
    db: foliodb.Database, tmp_path: Path
) -> None:
    cpi = tmp_path / "cpi.csv"
    cpi.write_text(GDP_AND_RATES)
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "observation_date,DGS10,DGS2\n2024-01-02,3.95,4.33\n2024-01-31,3.99,4.21\n"
        "2024-02-28,4.25,4.64\n2024-02-29,.,4.62\n"
    )
    db.macro.import_files(cpi, code="CPIAUCSL", frequency="M")
    db.macro.import_files(rates, known_since="2024-03-01")

    before_rates = db.macro.indicator("real-rate", as_of="2024-02-20")
    first_release = db.macro.indicator("real-rate", as_of=dt.date(2024, 3, 5))
    revised = db.macro.indicator("real-rate", as_of="2024-03-12")
    yoy = db.macro.indicator("yoy", "cpiaucsl", as_of="2024-03-12", start="2024-02-01")
    spread = db.macro.indicator("term-spread")

    assert before_rates.empty  # the yields were not known yet
    assert as_dict(first_release) == pytest.approx({"2024-01-01": 3.99 - 3.0})
    assert as_dict(revised) == pytest.approx({"2024-01-01": 3.99 - 3.1, "2024-02-01": 4.25 - 3.0})
    assert as_dict(yoy) == pytest.approx({"2024-02-01": 3.0}) and yoy.name == "CPIAUCSL_yoy"
    assert as_dict(spread) == pytest.approx(
        {"2024-01-02": -0.38, "2024-01-31": -0.22, "2024-02-28": -0.39}
    )
    with pytest.raises(InputError, match="indicator"):
        db.macro.indicator("slope")
    with pytest.raises(InputError, match="yoy takes a series code"):
        db.macro.indicator("yoy")
