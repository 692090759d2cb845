"""FRED and ALFRED files are read into real-time periods; bad files name every problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from foliodb.errors import InputError
from foliodb.ingest import fred
from foliodb.ingest.fred import Vintage

D = dt.date.fromisoformat


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(
    path: Path, code: str | None = None
) -> set[tuple[str | None, int | None, str | None, str | None]]:
    with pytest.raises(InputError) as caught:
        fred.parse_series_file(path, code)
    return {(p.file, p.line, p.field, p.value) for p in caught.value.problems}


def test_a_fred_download_gives_one_series_per_column_with_dots_as_missing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rates.csv",
        "observation_date,DGS10,DGS2\n2024-01-02,3.95,4.33\n2024-01-03,3.91,.\n2024-01-04,3.99,\n",
    )

    rates = {s.info.code: s for s in fred.parse_series_file(path)}

    assert set(rates) == {"DGS10", "DGS2"}
    assert not rates["DGS10"].has_vintages and rates["DGS10"].known_since is None
    assert rates["DGS10"].observations == (
        Vintage(D("2024-01-02"), 3.95),
        Vintage(D("2024-01-03"), 3.91),
        Vintage(D("2024-01-04"), 3.99),
    )
    # '.' is FRED's "published missing"; an empty cell is no observation at all.
    assert rates["DGS2"].observations == (
        Vintage(D("2024-01-02"), 4.33),
        Vintage(D("2024-01-03"), None),
    )


def test_an_old_fred_download_takes_its_code_and_metadata_from_the_header(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cpi.csv",
        "# code: cpiaucsl\n# title: Consumer Price Index\n# frequency: Monthly\n"
        "# units: Index 1982-1984=100\n\nDATE,VALUE\n2024-01-01,308.417\n2024-02-01,310.326\n",
    )

    [cpi] = fred.parse_series_file(path)

    assert cpi.info == fred.SeriesInfo(
        "CPIAUCSL", "Consumer Price Index", "M", "Index 1982-1984=100", None, None
    )
    assert [v.value for v in cpi.observations] == [308.417, 310.326]


def test_an_alfred_file_turns_inclusive_realtime_ends_into_exclusive_ones(tmp_path: Path) -> None:
    """FRED's realtime_end is the last day a value was current; foliodb stores the day after."""
    path = write(
        tmp_path,
        "gdp.csv",
        "realtime_start,realtime_end,date,value\n"
        "2024-01-25,2024-02-27,2023-10-01,22672.9\n"
        "2024-02-28,9999-12-31,2023-10-01,22679.3\n"
        "2023-10-26,,2023-07-01,22491.6\n"
        "2023-11-29,,2023-07-01,22506.5\n",
    )

    [gdp] = fred.parse_series_file(path, code="GDPC1")

    assert gdp.has_vintages and gdp.info.code == "GDPC1"
    assert gdp.observations == (
        # an empty realtime_end runs to the next vintage of the date, or stays open
        Vintage(D("2023-07-01"), 22491.6, D("2023-10-26"), D("2023-11-29")),
        Vintage(D("2023-07-01"), 22506.5, D("2023-11-29"), None),
        Vintage(D("2023-10-01"), 22672.9, D("2024-01-25"), D("2024-02-28")),
        Vintage(D("2023-10-01"), 22679.3, D("2024-02-28"), None),
    )


def test_an_alfred_wide_file_becomes_one_period_per_run_of_a_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "gdp_wide.csv",
        "observation_date,GDPC1_20240328,GDPC1_20240125,GDPC1_20240228\n"
        "2023-07-01,22490.7,22506.5,22506.5\n"
        "2023-10-01,22679.2,22672.9,22679.3\n"
        "2024-01-01,22768.9,.,.\n",
    )

    [gdp] = fred.parse_series_file(path)

    assert gdp.has_vintages
    assert gdp.observations == (
        Vintage(D("2023-07-01"), 22506.5, D("2024-01-25"), D("2024-03-28")),
        Vintage(D("2023-07-01"), 22490.7, D("2024-03-28"), None),
        Vintage(D("2023-10-01"), 22672.9, D("2024-01-25"), D("2024-02-28")),
        Vintage(D("2023-10-01"), 22679.3, D("2024-02-28"), D("2024-03-28")),
        Vintage(D("2023-10-01"), 22679.2, D("2024-03-28"), None),
        Vintage(D("2024-01-01"), 22768.9, D("2024-03-28"), None),
    )


def test_a_bad_alfred_file_names_the_file_line_field_and_value_of_every_problem(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        "realtime_start,realtime_end,date,GDPC1\n"
        "2024-01-25,2024-02-27,2023-10-01,22672.9\n"
        "2024-02-30,2024-03-27,2023-10-01,22679.3\n"
        "2024-03-28,9999-12-31,2023-13-01,22679.2\n"
        "2024-03-28,2024-03-01,2024-01-01,1\n"
        "2024-03-28,,2024-04-01,abc\n"
        "2024-03-28,,2024-04-01,1,2\n",
    )

    assert problems(path) == {
        (str(path), 3, "realtime_start", "2024-02-30"),
        (str(path), 4, "date", "2023-13-01"),
        (str(path), 5, "realtime_end", "2024-03-01"),
        (str(path), 6, "GDPC1", "abc"),
        (str(path), 7, None, None),  # more values than columns
    }


def test_overlapping_and_repeated_vintages_of_one_date_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "overlap.csv",
        "realtime_start,realtime_end,date,value\n"
        "2024-01-25,2024-03-27,2023-10-01,22672.9\n"
        "2024-02-28,9999-12-31,2023-10-01,22679.3\n"
        "2024-01-25,9999-12-31,2023-07-01,1\n"
        "2024-01-25,9999-12-31,2023-07-01,2\n",
    )

    found = problems(path, "GDPC1")

    assert found == {
        (str(path), 3, "realtime_start", "2024-02-28"),
        (str(path), 5, "realtime_start", "2024-01-25"),
    }


def test_a_fred_file_with_bad_dates_numbers_and_repeated_dates_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rates.csv",
        "observation_date,DGS10\n2024-01-02,3.95\n2024-01-02,3.96\n01/03/2024,3.9\n"
        "2024-01-04,nan\n2024-01-05,4,1%\n",
    )

    assert problems(path) == {
        (str(path), 3, "observation_date", "2024-01-02"),
        (str(path), 4, "observation_date", "01/03/2024"),
        (str(path), 5, "DGS10", "nan"),
        (str(path), 6, None, None),
    }


@pytest.mark.parametrize(
    ("text", "code", "expected"),
    [
        # the series is named nowhere
        (
            "realtime_start,realtime_end,date,value\n2024-01-25,,2023-10-01,1\n",
            None,
            (1, None, None),
        ),
        # --code and the column disagree
        ("observation_date,DGS10\n2024-01-02,3.95\n", "DGS2", (1, "DGS10", "DGS10")),
        # a header key that is not one
        ("# titel: Rates\nobservation_date,DGS10\n2024-01-02,3.95\n", None, (1, "titel", "Rates")),
        # a header frequency that is not one
        (
            "# frequency: hourly\nobservation_date,DGS10\n2024-01-02,1\n",
            None,
            (1, "frequency", "hourly"),
        ),
        # vintage columns mixed with plain ones
        (
            "observation_date,GDPC1_20240125,DGS10\n2024-01-02,1,2\n",
            None,
            (1, "GDPC1_20240125", None),
        ),
        # a vintage column whose date is not one
        (
            "observation_date,GDPC1_20241301\n2024-01-02,1\n",
            None,
            (1, "GDPC1_20241301", "GDPC1_20241301"),
        ),
        # not a layout foliodb knows
        ("symbol,date,price\nAAPL,2024-01-02,1\n", None, (1, "symbol", None)),
        # a code FRED could not have
        ("observation_date,DGS 10\n2024-01-02,1\n", None, (1, "DGS 10", "DGS 10")),
    ],
)
def test_a_file_that_cannot_be_read_as_a_series_says_where_and_why(
    tmp_path: Path, text: str, code: str | None, expected: tuple[int, str | None, str | None]
) -> None:
    path = write(tmp_path, "f.csv", text)

    assert (str(path), *expected) in problems(path, code)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"observation_date,DGS10\n2024-01-02,3.95\n# caf\xe9\n")

    assert problems(path) == {(str(path), 3, None, None)}


@pytest.mark.parametrize(
    ("dates", "frequency"),
    [
        (["2024-01-02", "2024-01-03", "2024-01-05", "2024-01-08"], "D"),
        (["2024-01-05", "2024-01-12", "2024-01-26"], "W"),
        (["2024-01-01", "2024-02-01", "2024-03-01"], "M"),
        (["2023-07-01", "2023-10-01", "2024-04-01"], "Q"),
        (["2021-01-01", "2022-01-01", "2024-01-01"], "A"),
        (["2024-01-01"], None),
    ],
)
def test_a_frequency_is_read_off_the_smallest_gap_between_dates(
    dates: list[str], frequency: str | None
) -> None:
    assert fred.infer_frequency(D(d) for d in dates) == frequency


def test_frequencies_are_fred_codes_or_fred_names() -> None:
    assert [fred.parse_frequency(t) for t in ("q", "Quarterly", "Daily, Close", "sa", "x")] == [
        "Q",
        "Q",
        "D",
        "SA",
        None,
    ]
