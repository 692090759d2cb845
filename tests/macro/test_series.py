"""Series as known on a date, on SQLite and PostgreSQL: imports are atomic and idempotent."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
import sqlalchemy as sa

import foliodb
from foliodb.errors import InputError, NotFoundError
from foliodb.store.tables_macro import EconomicObservationRow

#: A hand-made ALFRED file: real GDP of 2023 Q3 and Q4 through three releases each.
GDP_VINTAGES = """\
realtime_start,realtime_end,date,value
2023-10-26,2023-11-28,2023-07-01,22491.6
2023-11-29,2024-03-27,2023-07-01,22506.5
2024-03-28,9999-12-31,2023-07-01,22490.7
2024-01-25,2024-02-27,2023-10-01,22672.9
2024-02-28,2024-03-27,2023-10-01,22679.3
2024-03-28,9999-12-31,2023-10-01,22679.2
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def known(db: foliodb.Database, code: str, as_of: str | None = None) -> dict[str, float | None]:
    values = db.macro.series(code, as_of=as_of)
    return {
        day.date().isoformat(): (None if math.isnan(v) else v)
        for day, v in zip(values.index, values, strict=True)
    }


def stored_rows(db: foliodb.Database) -> list[tuple[object, ...]]:
    obs = EconomicObservationRow
    stmt = sa.select(
        obs.series_code, obs.date, obs.realtime_start, obs.realtime_end, obs.value, obs.preliminary
    ).order_by(obs.series_code, obs.date, obs.realtime_start)
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(stmt)]


def test_each_date_has_the_value_of_the_vintage_known_on_the_as_of_date(
    db: foliodb.Database, tmp_path: Path
) -> None:
    [result] = db.macro.import_files(
        write(tmp_path, "gdp.csv", GDP_VINTAGES), code="GDPC1", title="Real GDP", units="Bil. $"
    )

    assert (result.code, result.observations, result.added, result.updated) == ("GDPC1", 6, 6, 0)
    assert known(db, "GDPC1", "2023-10-25") == {}  # before the first release
    assert known(db, "GDPC1", "2023-10-26") == {"2023-07-01": 22491.6}
    assert known(db, "GDPC1", "2023-11-28") == {"2023-07-01": 22491.6}  # last day of it
    assert known(db, "GDPC1", "2023-11-29") == {"2023-07-01": 22506.5}
    assert known(db, "GDPC1", "2024-01-25") == {"2023-07-01": 22506.5, "2023-10-01": 22672.9}
    assert known(db, "GDPC1", "2024-03-27") == {"2023-07-01": 22506.5, "2023-10-01": 22679.3}
    assert known(db, "GDPC1", "2024-03-28") == {"2023-07-01": 22490.7, "2023-10-01": 22679.2}
    assert known(db, "GDPC1") == {"2023-07-01": 22490.7, "2023-10-01": 22679.2}  # latest
    window = db.macro.series("GDPC1", as_of="2024-03-28", start="2023-08-01", end="2023-12-31")
    assert list(window) == [22679.2] and window.name == "GDPC1"
    with pytest.raises(InputError, match="field 'start' value '2023-12-31': is after end"):
        db.macro.series("GDPC1", start="2023-12-31", end="2023-08-01")
    [listed] = db.macro.list_series()
    assert (listed.code, listed.title, listed.frequency, listed.units, listed.source) == (
        "GDPC1",
        "Real GDP",
        "Q",  # read off the dates
        "Bil. $",
        "ALFRED",
    )
    assert (listed.dates, listed.vintages, listed.first_date, listed.last_date) == (
        2,
        6,
        dt.date(2023, 7, 1),
        dt.date(2023, 10, 1),
    )


def test_importing_the_same_files_again_changes_nothing(
    db: foliodb.Database, tmp_path: Path
) -> None:
    gdp = write(tmp_path, "gdp.csv", "# code: GDPC1\n" + GDP_VINTAGES)
    rates = write(tmp_path, "rates.csv", "observation_date,DGS10\n2024-01-02,3.95\n2024-01-03,.\n")
    db.macro.import_files([gdp, rates], known_since="2024-01-05")
    rows, listed = stored_rows(db), db.macro.list_series()

    again = db.macro.import_files([rates, gdp], known_since="2024-01-05")
    with_code = db.macro.import_files(gdp, code="gdpc1")
    plain_later = db.macro.import_files(rates, known_since="2024-02-01")  # same values

    assert [(r.added, r.updated) for r in [*again, *with_code, *plain_later]] == [(0, 0)] * 4
    assert stored_rows(db) == rows
    assert db.macro.list_series() == listed  # updated_at too


def test_a_plain_file_is_known_from_its_known_since_date_and_a_changed_value_is_a_revision(
    db: foliodb.Database, tmp_path: Path
) -> None:
    first = write(tmp_path, "cpi1.csv", "observation_date,CPIAUCSL\n2024-01-01,308.417\n")
    revised = write(
        tmp_path, "cpi2.csv", "observation_date,CPIAUCSL\n2024-01-01,308.5\n2024-02-01,310.326\n"
    )

    db.macro.import_files(first, known_since="2024-02-13", frequency="M")
    [result] = db.macro.import_files(revised, known_since="2024-03-12")

    assert (result.added, result.updated) == (2, 1)  # two new values; the old one now ends
    assert known(db, "CPIAUCSL", "2024-02-12") == {}
    assert known(db, "CPIAUCSL", "2024-02-13") == {"2024-01-01": 308.417}
    assert known(db, "CPIAUCSL", "2024-03-11") == {"2024-01-01": 308.417}
    assert known(db, "CPIAUCSL", "2024-03-12") == {"2024-01-01": 308.5, "2024-02-01": 310.326}
    assert stored_rows(db)[:2] == [
        (
            "CPIAUCSL",
            dt.date(2024, 1, 1),
            dt.date(2024, 2, 13),
            dt.date(2024, 3, 12),
            308.417,
            False,
        ),
        ("CPIAUCSL", dt.date(2024, 1, 1), dt.date(2024, 3, 12), None, 308.5, False),
    ]


def test_a_backfilled_plain_value_is_not_known_before_its_own_date(
    db: foliodb.Database, tmp_path: Path
) -> None:
    rates = write(
        tmp_path, "rates.csv", "observation_date,DGS10\n2023-12-29,3.88\n2024-01-02,3.95\n"
    )

    [result] = db.macro.import_files(rates, known_since="2023-01-01")
    again = db.macro.import_files(rates, known_since="2024-02-01")

    assert (result.added, again[0].added, again[0].updated) == (2, 0, 0)
    assert known(db, "DGS10", "2023-06-30") == {}  # no value from the future
    assert known(db, "DGS10", "2023-12-29") == {"2023-12-29": 3.88}
    assert known(db, "DGS10", "2024-01-02") == {"2023-12-29": 3.88, "2024-01-02": 3.95}
    assert [row[2] for row in stored_rows(db)] == [dt.date(2023, 12, 29), dt.date(2024, 1, 2)]


def test_a_newer_vintage_closes_the_one_it_replaces(db: foliodb.Database, tmp_path: Path) -> None:
    """A later download holding only the new vintage still ends the older one, in the same
    import too; the later file keeps the metadata the earlier one gave."""
    older = (
        "# code: GDPC1\n# title: Real GDP\n# frequency: Q\n"
        "realtime_start,realtime_end,date,value\n2024-01-25,9999-12-31,2023-10-01,22672.9\n"
    )
    newer = "realtime_start,realtime_end,date,GDPC1\n2024-02-28,9999-12-31,2023-10-01,22679.3\n"
    newest = "realtime_start,realtime_end,date,GDPC1\n2024-03-28,,2023-10-01,22679.2\n"

    first, second = db.macro.import_files(
        [write(tmp_path, "a.csv", older), write(tmp_path, "b.csv", newer)]
    )
    [third] = db.macro.import_files(write(tmp_path, "c.csv", newest))

    assert [(r.added, r.updated) for r in (first, second, third)] == [(1, 0), (1, 1), (1, 1)]
    assert known(db, "GDPC1", "2024-02-27") == {"2023-10-01": 22672.9}
    assert known(db, "GDPC1", "2024-02-28") == {"2023-10-01": 22679.3}
    assert known(db, "GDPC1", "2024-03-28") == {"2023-10-01": 22679.2}
    assert [(s.title, s.frequency, s.vintages) for s in db.macro.list_series()] == [
        ("Real GDP", "Q", 3)
    ]


def test_a_bad_file_among_several_writes_nothing_and_every_problem_is_named(
    db: foliodb.Database, tmp_path: Path
) -> None:
    good = write(tmp_path, "good.csv", GDP_VINTAGES)
    bad = write(tmp_path, "bad.csv", "observation_date,DGS10\n2024-01-02,3.95\n2024-01-03,x\n")

    with pytest.raises(InputError) as caught:
        db.macro.import_files([good, bad], code=None, frequency="daily-ish")

    assert {(p.file, p.line, p.field, p.value) for p in caught.value.problems} == {
        (None, None, "frequency", "daily-ish"),
        (str(good), 1, None, None),  # names no series: needs --code
        (str(bad), 3, "DGS10", "x"),
    }
    assert stored_rows(db) == [] and db.macro.list_series() == []


def test_a_title_longer_than_its_column_is_refused_before_anything_is_written(
    db: foliodb.Database, tmp_path: Path
) -> None:
    rates = write(tmp_path, "rates.csv", "observation_date,DGS10\n2024-01-02,3.95\n2024-01-03,4\n")

    with pytest.raises(InputError, match="title"):
        db.macro.import_files(rates, title="x" * 301)
    with pytest.raises(NotFoundError, match="DGS10"):
        db.macro.series("DGS10")
