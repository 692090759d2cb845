"""Macro regimes on published US data (statsmodels' macrodata: quarterly, 1959-2009).

Known history the classification must show: the stagflations of 1974-75 and 1979-80, the
1982 recession with falling inflation (deflation in this scheme), the mid-1980s and late-1990s
"Goldilocks" expansions, the 1973 boom (reflation) and the 2009 recession.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from statsmodels.datasets import macrodata  # type: ignore[import-untyped]

import foliodb
from foliodb.analytics import regimes
from foliodb.errors import InputError
from foliodb.store.tables_macro import RegimeHistoryRow


def macro_levels() -> tuple[pd.Series, pd.Series]:
    """Real GDP and CPI, indexed by the first day of each quarter."""
    data = macrodata.load_pandas().data
    periods = pd.period_range("1959Q1", periods=len(data), freq="Q")
    assert list(periods.year) == data["year"].astype(int).tolist()
    assert list(periods.quarter) == data["quarter"].astype(int).tolist()
    quarters = periods.to_timestamp()
    return (
        pd.Series(data["realgdp"].to_numpy(), index=quarters, name="GDPC1"),
        pd.Series(data["cpi"].to_numpy(), index=quarters, name="CPIAUCSL"),
    )


def classified(window_years: int = 10) -> pd.DataFrame:
    gdp, cpi = macro_levels()
    return regimes.classify_regimes(
        regimes.yoy_change(gdp, "Q"),
        regimes.yoy_change(cpi, "Q"),
        growth_frequency="Q",
        inflation_frequency="Q",
        window_years=window_years,
    )


def regime_in(table: pd.DataFrame, first: str, last: str) -> set[str]:
    return set(table.loc[first:last, "regime"])


def test_the_1970s_stagflations_and_other_known_episodes_are_found() -> None:
    table = classified()

    assert regime_in(table, "1974-01", "1975-12") == {"STAGFLATION"}
    assert regime_in(table, "1979-04", "1980-12") == {"STAGFLATION"}
    assert regime_in(table, "1973-01", "1973-09") == {"REFLATION"}
    assert regime_in(table, "1982-01", "1982-12") == {"DEFLATION"}
    assert regime_in(table, "1984-01", "1985-12") == {"GOLDILOCKS"}
    assert regime_in(table, "1997-01", "1999-12") == {"GOLDILOCKS"}
    assert regime_in(table, "2009-04", "2009-09") == {"DEFLATION"}


def test_z_scores_and_confidence_match_an_independent_computation() -> None:
    """Recomputed here with plain pandas: YoY with pct_change(4), 40-quarter rolling z."""
    gdp, cpi = macro_levels()
    growth = gdp.pct_change(4) * 100
    inflation = cpi.pct_change(4) * 100

    def zscore(x: pd.Series) -> pd.Series:
        result: pd.Series = (x - x.rolling(40).mean()) / x.rolling(40).std()
        return result

    table = classified()

    for quarter, regime in [
        ("1974-10-01", "STAGFLATION"),
        ("1980-04-01", "STAGFLATION"),
        ("1982-07-01", "DEFLATION"),
        ("1985-01-01", "GOLDILOCKS"),
        ("2008-10-01", "DEFLATION"),
    ]:
        gz, iz = zscore(growth)[quarter], zscore(inflation)[quarter]
        confidence = math.erf(abs(gz) / math.sqrt(2)) * math.erf(abs(iz) / math.sqrt(2))
        months = table.loc[quarter : pd.Timestamp(quarter) + pd.DateOffset(months=2)]
        assert len(months) == 3  # the quarter's value stands for each of its months
        assert list(months["regime"]) == [regime] * 3
        assert months["growth"].to_numpy() == pytest.approx([growth[quarter]] * 3)
        assert months["growth_z"].to_numpy() == pytest.approx([gz] * 3)
        assert months["inflation_z"].to_numpy() == pytest.approx([iz] * 3)
        assert months["confidence"].to_numpy() == pytest.approx([confidence] * 3)
    # By hand from the published figures: 1974 Q4 real GDP fell 1.99% from 1973 Q4 while
    # prices rose 11.75%.
    q4 = pd.Timestamp("1974-10-01")
    assert table.at[q4, "growth"] == pytest.approx(-1.9929, abs=1e-4)
    assert table.at[q4, "inflation"] == pytest.approx(11.7521, abs=1e-4)


def test_only_full_windows_are_classified() -> None:
    # Year-over-year changes start in 1960 Q1: 40 of them end in 1969 Q4, 20 in 1964 Q4.
    assert classified(10).index[0] == pd.Timestamp("1969-10-01")
    assert classified(5).index[0] == pd.Timestamp("1964-10-01")
    assert classified(10).index[-1] == pd.Timestamp("2009-09-01")  # 2009 Q3's last month


def test_a_quarterly_indicator_fills_only_its_own_months_beside_a_monthly_one() -> None:
    quarters = pd.date_range("2000-01-01", periods=12, freq="QS")
    months = pd.date_range("2000-01-01", periods=40, freq="MS")
    growth = pd.Series(
        np.r_[np.arange(11.0), 20.0], index=quarters, dtype="float64"
    )  # ends 2002 Q4
    inflation = pd.Series(np.sin(np.arange(40.0)), index=months)  # to 2003-04

    table = regimes.classify_regimes(
        growth, inflation, growth_frequency="Q", inflation_frequency="M", window_years=2
    )

    # growth: 8-quarter windows from 2001 Q4; inflation: 24-month windows from 2001-12.
    assert table.index[0] == pd.Timestamp("2001-12-01")
    assert table.index[-1] == pd.Timestamp("2002-12-01")  # growth's last quarter ends there
    assert set(table.loc["2002-10":"2002-12", "growth_period"]) == {pd.Timestamp("2002-10-01")}
    last = [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 20.0]  # the last 8 quarters
    assert table["growth_z"].iloc[-1] == pytest.approx((20 - np.mean(last)) / np.std(last, ddof=1))


def test_the_four_regimes_follow_the_signs_of_the_z_scores() -> None:
    growth_z = [0.5, 0.5, -0.5, -0.5, 0.0, np.nan]
    inflation_z = [-0.5, 0.5, 0.5, -0.5, 0.0, 1.0]

    assert list(regimes.regime_of(growth_z, inflation_z)) == [
        "GOLDILOCKS",
        "REFLATION",
        "STAGFLATION",
        "DEFLATION",
        "REFLATION",  # on the mean counts as up
        "",
    ]
    confidence = regimes.regime_confidence([0.0, 1.0, 2.0, 50.0], [3.0, -1.0, 2.0, 50.0])
    assert confidence == pytest.approx([0.0, 0.6827**2, 0.9545**2, 1.0], abs=1e-4)


def alfred_file(path: Path, levels: pd.Series) -> Path:
    """The series as an ALFRED file: each quarter first published a month after it ends."""
    rows = ["realtime_start,realtime_end,date,value"]
    for quarter, value in zip(pd.DatetimeIndex(levels.index), levels.to_numpy(), strict=True):
        published = (quarter + pd.DateOffset(months=4)).date()
        rows.append(f"{published},9999-12-31,{quarter.date()},{value}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_regimes_as_of_a_date_use_only_what_was_published_and_are_stored(
    db: foliodb.Database, tmp_path: Path
) -> None:
    gdp, cpi = macro_levels()
    db.macro.import_files(alfred_file(tmp_path / "gdp.csv", gdp), code="GDPC1")
    db.macro.import_files(alfred_file(tmp_path / "cpi.csv", cpi), code="CPIAUCSL")

    table = db.macro.regimes("1980-06-30")
    again = db.macro.regimes(dt.date(1980, 6, 30))

    # 1980 Q1 was published on 1980-05-01, 1980 Q2 only on 1980-08-01.
    expected = regimes.classify_regimes(
        regimes.yoy_change(gdp[:"1980-01-01"], "Q"),
        regimes.yoy_change(cpi[:"1980-01-01"], "Q"),
        growth_frequency="Q",
        inflation_frequency="Q",
    )
    assert table.index[-1] == pd.Timestamp("1980-03-01")
    pd.testing.assert_frame_equal(table, expected, check_freq=False)
    pd.testing.assert_frame_equal(again, table)
    assert table.attrs["method"] == "zscore10y:GDPC1:CPIAUCSL"
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(RegimeHistoryRow).order_by(RegimeHistoryRow.month)
        ).all()
    assert len(rows) == len(table)
    stored = rows[-1]
    assert (stored.month, stored.method, stored.as_of, stored.regime) == (
        dt.date(1980, 3, 1),
        "zscore10y:GDPC1:CPIAUCSL",
        dt.date(1980, 6, 30),
        "STAGFLATION",
    )
    assert stored.growth_z == pytest.approx(table["growth_z"].iloc[-1])
    assert stored.inputs["growth_period"] == "1980-01-01"
    assert stored.inputs["inflation_std"] == pytest.approx(table["inflation_std"].iloc[-1])
    assert len({r.computed_at for r in rows}) == 1  # the second run changed nothing
    with pytest.raises(InputError, match="full 10-year window"):
        db.macro.regimes("1968-01-01")
