"""Bad input is refused whole: the error names file, line, field and value, and nothing of the
import is written, although each bad file also holds a good new record (both engines)."""

from __future__ import annotations

from pathlib import Path

import pytest

import foliodb
from foliodb.errors import InputError, InputProblem
from tests.news.conftest import Write, contents

GOOD_ARTICLE = (
    '{"url": "https://news.test/new", "title": "New", "source": "Wire", '
    '"published_at": "2024-06-01T00:00:00Z", "symbols": ["AAPL"]}'
)
ARTICLE_HEADER = "url,title,source,author,published_at,summary,symbols"
GOOD_ARTICLE_ROW = "https://news.test/new,New,Wire,,2024-06-01T00:00:00Z,,AAPL"
EVENT_HEADER = "ts,date,time,timezone,name,country,currency,impact,actual,forecast,previous"
GOOD_EVENT_ROW = "2024-06-01T12:00:00Z,,,,New event,US,USD,2,1.0%,,"


def refused(db: foliodb.Database, importing: str, *paths: Path) -> InputProblem:
    """The one problem reported, checking that nothing was written."""
    before = contents(db)
    with pytest.raises(InputError) as caught:
        getattr(db.news, importing)(list(paths))
    assert contents(db) == before
    [problem] = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("name", "text", "line", "field", "value", "message"),
    [
        pytest.param(
            "a.jsonl",
            GOOD_ARTICLE + '\n{"title": "No URL", "source": "Wire", "published_at": "2024-06-01"}',
            2,
            "url",
            None,
            "is required",
            id="missing-url",
        ),
        pytest.param(
            "a.jsonl",
            GOOD_ARTICLE
            + '\n{"url": "ftp://news.test/x", "title": "T", "published_at": "2024-06-01",'
            ' "source": "Wire"}',
            2,
            "url",
            "ftp://news.test/x",
            "is not a web address",
            id="not-http",
        ),
        pytest.param(
            "a.csv",
            f"{ARTICLE_HEADER}\n{GOOD_ARTICLE_ROW}\nhttps://news.test/a b,T,Wire,,2024-06-01,,\n",
            3,
            "url",
            "https://news.test/a b",
            "is not a web address",
            id="space-in-url",
        ),
        pytest.param(
            "a.csv",
            f"{ARTICLE_HEADER}\n{GOOD_ARTICLE_ROW}\nhttps://news.test/x,T,Wire,,yesterday,,\n",
            3,
            "published_at",
            "yesterday",
            "is not a date and time",
            id="bad-published-at",
        ),
        pytest.param(
            "a.jsonl",
            GOOD_ARTICLE + '\n{"url": "https://news.test/x", "title": "T", "source": "W",'
            ' "published_at": "2024"}',
            2,
            "published_at",
            "2024",
            "is not a date and time",
            id="year-only",
        ),
        pytest.param(
            "a.jsonl",
            GOOD_ARTICLE
            + '\n{"url": "https://news.test/x", "title": "T", "published_at": "2024-06-01"}',
            2,
            "source",
            None,
            "is required",
            id="no-source",
        ),
        pytest.param(
            "a.csv",
            f"{ARTICLE_HEADER}\n{GOOD_ARTICLE_ROW}\nhttps://news.test/x,{'T' * 501},Wire,,2024-06-01,,\n",  # noqa: E501
            3,
            "title",
            "T" * 40 + "...",
            "at most 500 characters",
            id="title-too-long",
        ),
        pytest.param(
            "a.json",
            f'[\n  {GOOD_ARTICLE},\n  {{"url": "https://news.test/x", "title": "T",\n'
            '   "source": "W", "published_at": "2024-06-01", "symbols": ["AAPL", 7]}\n]\n',
            3,
            "symbols",
            '["AAPL", 7]',
            "is not a list of text",
            id="symbol-not-text",
        ),
        pytest.param(
            "a.csv",
            f"{ARTICLE_HEADER}\n{GOOD_ARTICLE_ROW}\nhttps://news.test/x,T,Wire,,2024-06-01,,BRK B;AAPL\n",  # noqa: E501
            3,
            "symbols",
            "BRK B;AAPL",
            "is not a list of symbols",
            id="symbol-with-space",
        ),
        pytest.param(
            "a.jsonl",
            GOOD_ARTICLE + '\n{"url": "https://news.test/x", "title": "T", "publishedAt": "2024"}',
            2,
            "publishedAt",
            None,
            "did you mean 'published_at'?",
            id="unknown-field",
        ),
        pytest.param(
            "a.csv",
            f"url,title,source,published_at,sumary\n{GOOD_ARTICLE_ROW[:-4]}\n",
            1,
            "sumary",
            None,
            "did you mean 'summary'?",
            id="unknown-column",
        ),
        pytest.param(
            "a.json",
            f'[\n  {GOOD_ARTICLE},\n  {{"url": "https://news.test/x" "title": "T"}}\n]\n',
            3,
            None,
            None,
            "is not valid JSON: Expecting ',' delimiter",
            id="json-syntax",
        ),
        pytest.param(
            "a.json",
            f"[\n  {GOOD_ARTICLE}\n]\n[]\n",
            4,
            None,
            None,
            "is not valid JSON: Extra data",
            id="json-extra-data",
        ),
        pytest.param(
            "a.ndjson",
            GOOD_ARTICLE + '\n{"url": \n',
            2,
            None,
            None,
            "is not valid JSON",
            id="json-lines-syntax",
        ),
        pytest.param(
            "a.json",
            f'[\n  {GOOD_ARTICLE},\n  "https://news.test/x"\n]\n',
            3,
            None,
            None,
            "record is a string (expected an object)",
            id="record-not-object",
        ),
        pytest.param("a.txt", GOOD_ARTICLE, None, None, None, "is not a file type", id="txt"),
    ],
)
def test_a_bad_article_file_names_the_place_and_writes_nothing(
    seeded: foliodb.Database,
    files: Write,
    name: str,
    text: str,
    line: int | None,
    field: str | None,
    value: str | None,
    message: str,
) -> None:
    path = files(name, text)

    problem = refused(seeded, "import_articles", path)

    assert (problem.file, problem.line, problem.field, problem.value) == (
        str(path),
        line,
        field,
        value,
    )
    assert message in str(problem)


@pytest.mark.parametrize(
    ("row", "field", "value", "message"),
    [
        pytest.param(
            "2024-13-01T00:00:00Z,,,,CPI,US,USD,3,,,",
            "ts",
            "2024-13-01T00:00:00Z",
            "is not a date and time",
            id="bad-ts",
        ),
        pytest.param(
            "2024-05-03T12:30:00Z,2024-05-03,,,CPI,US,USD,3,,,",
            "date",
            "2024-05-03",
            "is given with ts",
            id="ts-and-date",
        ),
        pytest.param(",,08:30,UTC,CPI,US,USD,3,,,", "ts", None, "is required", id="no-time"),
        pytest.param(
            ",2024-05-03,08:30,Mars/Olympus,CPI,US,USD,3,,,",
            "timezone",
            "Mars/Olympus",
            "is not a time zone",
            id="bad-zone",
        ),
        pytest.param(
            ",2024-05-03,08:30,America,CPI,US,USD,3,,,",
            "timezone",
            "America",
            "is not a time zone",
            id="zone-directory",
        ),
        pytest.param(
            ",2024-05-03,25:00,UTC,CPI,US,USD,3,,,",
            "time",
            "25:00",
            "is not a time of day",
            id="bad-time",
        ),
        pytest.param(
            ",2024-03-10,02:30,America/New_York,CPI,US,USD,3,,,",
            "time",
            "02:30",
            "does not exist in that time zone",
            id="dst-gap",
        ),
        pytest.param(
            ",2024-11-03,01:30,America/New_York,CPI,US,USD,3,,,",
            "time",
            "01:30",
            "happens twice in that time zone",
            id="dst-overlap",
        ),
        pytest.param(
            "2024-05-03T08:30:00-04:00,,,America/New_York,CPI,US,USD,3,,,",
            "timezone",
            "America/New_York",
            "ts that has its own offset",
            id="offset-and-zone",
        ),
        pytest.param(
            "2024-05-03T12:30:00Z,,,,,US,USD,3,,,", "name", None, "is required", id="no-name"
        ),
        pytest.param(
            "2024-05-03T12:30:00Z,,,,CPI,USA,USD,3,,,",
            "country",
            "USA",
            "is not a country code",
            id="alpha-3-country",
        ),
        pytest.param(
            "2024-05-03T12:30:00Z,,,,CPI,US,DOLLAR,3,,,",
            "currency",
            "DOLLAR",
            "is not a known currency",
            id="bad-currency",
        ),
        pytest.param(
            "2024-05-03T12:30:00Z,,,,CPI,US,USD,5,,,",
            "impact",
            "5",
            "expected 1-4, or holiday, low, medium, high",
            id="impact-5",
        ),
        pytest.param(
            "2024-05-03T12:30:00Z,,,,CPI,US,USD,extreme,,,",
            "impact",
            "extreme",
            "is not an impact",
            id="impact-word",
        ),
        pytest.param(
            f"2024-05-03T12:30:00Z,,,,CPI,US,USD,3,{'9' * 65},,",
            "actual",
            "9" * 40 + "...",
            "at most 64 characters",
            id="actual-too-long",
        ),
    ],
)
def test_a_bad_event_row_names_the_place_and_writes_nothing(
    seeded: foliodb.Database,
    files: Write,
    row: str,
    field: str,
    value: str | None,
    message: str,
) -> None:
    path = files("events.csv", f"{EVENT_HEADER}\n{GOOD_EVENT_ROW}\n{row}\n")

    problem = refused(seeded, "import_events", path)

    assert (problem.file, problem.line, problem.field, problem.value) == (
        str(path),
        3,
        field,
        value,
    )
    assert message in str(problem)


def test_an_events_file_without_an_impact_column_is_refused_at_its_header(
    seeded: foliodb.Database, files: Write
) -> None:
    path = files("events.csv", "ts,name,country\n2024-06-01T12:00:00Z,New event,US\n")

    problem = refused(seeded, "import_events", path)

    assert (problem.line, problem.field, problem.message) == (
        1,
        "impact",
        "required column is missing",
    )


def test_a_json_event_with_a_list_value_is_refused(seeded: foliodb.Database, files: Write) -> None:
    path = files(
        "events.jsonl",
        '{"ts": "2024-06-01T12:00:00Z", "name": "New event", "country": "US", "impact": 2}\n'
        '{"ts": "2024-06-02T12:00:00Z", "name": "CPI", "country": "US", "impact": [3]}\n',
    )

    problem = refused(seeded, "import_events", path)

    assert (problem.line, problem.field, problem.value) == (2, "impact", "[3]")
    assert "is not text or a number" in str(problem)


def test_a_bad_second_file_keeps_the_good_first_file_out_too(
    seeded: foliodb.Database, files: Write
) -> None:
    good = files("good.jsonl", GOOD_ARTICLE)
    bad = files("bad.csv", f"{ARTICLE_HEADER}\nhttps://news.test/y,T,Wire,,soon,,\n")

    problem = refused(seeded, "import_articles", good, bad)

    assert (problem.file, problem.line, problem.field, problem.value) == (
        str(bad),
        2,
        "published_at",
        "soon",
    )


def test_every_problem_of_every_file_is_reported_at_once(
    seeded: foliodb.Database, files: Write
) -> None:
    first = files(
        "first.csv",
        f"{ARTICLE_HEADER}\nnot-a-url,T,Wire,,2024-06-01,,\n{GOOD_ARTICLE_ROW}\n"
        "https://news.test/z,,Wire,,2024-06-01,,\n",
    )
    second = files("second.csv", "url,title,sorce\n")
    third = files(
        "third.jsonl", '{"url": "https://news.test/w", "title": "T", "published_at": "soon"}\n'
    )

    before = contents(seeded)
    with pytest.raises(InputError) as caught:
        seeded.news.import_articles([first, second, third], source="Wire")

    assert contents(seeded) == before
    assert [(p.file, p.line, p.field) for p in caught.value.problems] == [
        (str(first), 2, "url"),
        (str(first), 4, "title"),
        (str(second), 1, "published_at"),  # the header misses a required column
        (str(second), 1, "sorce"),  # and has an unknown one
        (str(third), 1, "published_at"),
    ]


def test_a_missing_file_or_one_that_is_not_utf8_is_refused(
    seeded: foliodb.Database, tmp_path: Path
) -> None:
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(b'[\n{"url": "https://news.test/x", "title": "Caf\xe9"}\n]\n')

    missing = refused(seeded, "import_articles", tmp_path / "missing.json")
    encoding = refused(seeded, "import_articles", latin1)

    assert (missing.file, missing.line) == (str(tmp_path / "missing.json"), None)
    assert "cannot read file" in missing.message
    assert (encoding.file, encoding.line) == (str(latin1), 2)
    assert "is not UTF-8 text (byte 0xe9)" in encoding.message


def test_a_default_source_too_long_for_its_column_is_refused_once(
    seeded: foliodb.Database, files: Write
) -> None:
    path = files("a.jsonl", '{"url": "https://news.test/x", "title": "T", "published_at": "2024"}')
    before = contents(seeded)

    with pytest.raises(InputError) as caught:
        seeded.news.import_articles(path, source="S" * 101)

    assert contents(seeded) == before
    [problem] = caught.value.problems
    assert (problem.file, problem.field, problem.expected) == (
        None,
        "source",
        "at most 100 characters",
    )
