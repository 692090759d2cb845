"""Economic series from FRED and ALFRED CSV files (docs/macro.md); the FRED web API client is
foliodb.ingest.fred_api.

Both produce `SeriesData`: a series' metadata and its observations, each with the real-time
period it was published for when the source has vintages.

FRED and ALFRED write `realtime_end` inclusive (the last day a value was current, 9999-12-31
while it still is). foliodb keeps it exclusive (the first day the value was no longer current,
None while it is), so the value known on `as_of` is the one with
``realtime_start <= as_of < realtime_end``. The parsers here convert.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from foliodb.errors import InputError, InputProblem

log = logging.getLogger(__name__)

#: FRED's short frequency codes, finest first.
FREQUENCIES: Final = ("D", "W", "BW", "M", "Q", "SA", "A")
_FREQUENCY_WORDS: Final = {
    "daily": "D",
    "weekly": "W",
    "biweekly": "BW",
    "monthly": "M",
    "quarterly": "Q",
    "semiannual": "SA",
    "annual": "A",
    "annually": "A",
}
#: Typical spacing of observations in days, for inferring a frequency from dates.
_FREQUENCY_DAYS: Final = (
    ("D", 1, 5),
    ("W", 6, 8),
    ("BW", 13, 15),
    ("M", 27, 32),
    ("Q", 88, 93),
    ("SA", 180, 185),
    ("A", 364, 367),
)
#: What FRED writes as the end of a real-time period that has not ended.
OPEN_END: Final = dt.date(9999, 12, 31)
#: FRED's first real-time date: asking from it returns every vintage.
FIRST_REALTIME: Final = dt.date(1776, 7, 4)
HEADER_KEYS: Final = ("code", "title", "frequency", "units", "seasonal_adjustment", "source")
MISSING: Final = "."
_CODE: Final = re.compile(r"[A-Z0-9][A-Z0-9_.\-]{0,63}")
_VINTAGE_COLUMN: Final = re.compile(r"(?P<code>.+)_(?P<vintage>\d{8})")
_DATE_COLUMNS: Final = ("observation_date", "date")
_LONG_ALIASES: Final = {
    "realtime_start": "realtime_start",
    "realtime_start_date": "realtime_start",
    "realtime_end": "realtime_end",
    "realtime_end_date": "realtime_end",
    "date": "date",
    "observation_date": "date",
    "value": "value",
    "preliminary": "preliminary",
}
_TRUE: Final = ("true", "1", "yes", "y")
_FALSE: Final = ("false", "0", "no", "n")


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """A series' metadata; None where the source did not say."""

    code: str
    title: str | None = None
    frequency: str | None = None
    units: str | None = None
    seasonal_adjustment: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Vintage:
    """The value of `date` as published from `realtime_start` until the day before
    `realtime_end` (None: still current). A plain FRED observation has no realtime_start: it
    is known since the import's as-of date. `value` None: published as missing ('.')."""

    date: dt.date
    value: float | None
    realtime_start: dt.date | None = None
    realtime_end: dt.date | None = None
    preliminary: bool = False


@dataclass(frozen=True, slots=True)
class SeriesData:
    """One series read from a file or fetched. Without vintages, every observation is known
    since `known_since` (None: the import's as-of date)."""

    info: SeriesInfo
    observations: tuple[Vintage, ...]
    has_vintages: bool
    origin: str
    known_since: dt.date | None = None


# --- small parsers ----------------------------------------------------------------------------
def parse_frequency(text: str) -> str | None:
    """FRED's short code (`Q`) from a code or a FRED name (`Quarterly`, `Daily, Close`)."""
    value = text.strip()
    if value.upper() in FREQUENCIES:
        return value.upper()
    word = re.split(r"[\s,]+", value.lower(), maxsplit=1)[0]
    return _FREQUENCY_WORDS.get(word.replace("-", ""))


def infer_frequency(dates: Iterable[dt.date]) -> str | None:
    """The frequency whose usual spacing matches the smallest gap between the dates (a
    missing date only widens gaps, so the smallest is the series' own)."""
    ordered = sorted(set(dates))
    if len(ordered) < 2:
        return None
    gap = min((b - a).days for a, b in itertools.pairwise(ordered))
    return next((code for code, low, high in _FREQUENCY_DAYS if low <= gap <= high), None)


def parse_code(text: str) -> str | None:
    """A series code in FRED's form (upper case letters, digits, `_ . -`), or None."""
    code = text.strip().upper()
    return code if _CODE.fullmatch(code) else None


def parse_number(text: str) -> float | None:
    """A finite float; '.' or '' is None (missing); anything else raises ValueError."""
    if text in ("", MISSING):
        return None
    number = float(text.replace("_", ""))
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def parse_end(text: str) -> dt.date | None:
    """FRED's inclusive realtime_end as foliodb's exclusive one (None while open)."""
    day = dt.date.fromisoformat(text)
    return None if day == OPEN_END else day + dt.timedelta(days=1)


# --- files ------------------------------------------------------------------------------------
class _File:
    """A file's `# key: value` header and CSV records, with problems located by line."""

    def __init__(self, path: Path, problems: list[InputProblem]) -> None:
        self.name = str(path)
        self.problems = problems
        self.header: dict[str, tuple[int, str]] = {}
        self.records: list[tuple[int, list[str]]] = []
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise InputError(InputProblem(f"cannot read file: {exc.strerror}", self.name)) from exc
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            raise InputError(
                InputProblem(
                    f"is not UTF-8 text (byte {exc.object[exc.start]:#04x}); save it as UTF-8",
                    self.name,
                    line,
                )
            ) from exc
        lines = text.splitlines(keepends=True)
        offset = 0
        while offset < len(lines) and (
            not lines[offset].strip() or lines[offset].lstrip().startswith("#")
        ):
            self._header_line(offset + 1, lines[offset].strip().lstrip("#").strip())
            offset += 1
        body = "".join(lines[offset:])
        first = body.split("\n", 1)[0]
        reader = csv.reader(
            io.StringIO(body), delimiter=";" if ";" in first and "," not in first else ","
        )
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    self.records.append((offset + reader.line_num, [c.strip() for c in cells]))
        except csv.Error as exc:
            problems.append(
                InputProblem(f"is not valid CSV: {exc}", self.name, offset + reader.line_num)
            )
            raise InputError(problems) from exc

    def _header_line(self, line: int, text: str) -> None:
        if ":" not in text:
            return  # a comment
        key, value = (part.strip() for part in text.split(":", 1))
        key = key.lower().replace(" ", "_")
        if key not in HEADER_KEYS:
            self.fail(line, key, "unknown header key", f"one of {', '.join(HEADER_KEYS)}", value)
        elif key in self.header:
            self.fail(line, key, f"repeats line {self.header[key][0]}", "each key once", value)
        elif value:
            self.header[key] = (line, value)

    def fail(
        self, line: int, field: str | None, message: str, expected: str, value: str | None = None
    ) -> None:
        self.problems.append(InputProblem(message, self.name, line, field, value, expected))

    def info(self, code: str) -> SeriesInfo:
        """The header's metadata for `code` (a bad frequency is a problem on its line)."""
        given = {key: value for key, (_, value) in self.header.items()}
        frequency = None
        if "frequency" in self.header:
            line, text = self.header["frequency"]
            frequency = parse_frequency(text)
            if frequency is None:
                self.fail(line, "frequency", "is not a frequency", FREQUENCY_HELP, text)
        return SeriesInfo(
            code=code,
            title=given.get("title"),
            frequency=frequency,
            units=given.get("units"),
            seasonal_adjustment=given.get("seasonal_adjustment"),
            source=given.get("source"),
        )

    def code(self, column: str | None, option: str | None) -> str | None:
        """The series code: from --code, the `# code:` header or the value column, which
        must agree; a problem (and None) when none names it or they disagree."""
        named: list[tuple[str, str, int, str]] = []  # (code, where, line, field)
        if option is not None:
            code = parse_code(option)
            if code is None:
                self.problems.append(
                    InputProblem(
                        "is not a series code", field="code", value=option, expected=CODE_HELP
                    )
                )
                return None
            named.append((code, "--code", 1, "code"))
        if "code" in self.header:
            line, text = self.header["code"]
            code = parse_code(text)
            if code is None:
                self.fail(line, "code", "is not a series code", CODE_HELP, text)
                return None
            named.append((code, "the '# code:' header", line, "code"))
        if column is not None:
            code = parse_code(column)
            if code is None:
                self.fail(self.header_line, column, "is not a series code", CODE_HELP, column)
                return None
            named.append((code, f"column {column!r}", self.header_line, column))
        if not named:
            self.fail(
                self.header_line,
                None,
                "does not name its series",
                "--code CODE, a '# code: CODE' header line, or a value column named by the code",
            )
            return None
        code, where, _, _ = named[0]
        for other, _, line, field in named[1:]:
            if other != code:
                self.fail(line, field, f"names series {other} but {where} says {code}", code, other)
                return None
        return code

    @property
    def header_line(self) -> int:
        return self.records[0][0] if self.records else len(self.header) + 1


CODE_HELP: Final = "a FRED series id such as GDPC1 (letters, digits, _ . -; up to 64)"
FREQUENCY_HELP: Final = f"one of {', '.join(FREQUENCIES)} or a FRED name such as Quarterly"
LAYOUT_HELP: Final = (
    "observation_date (or DATE) then one column per series (FRED), observation_date then "
    "CODE_YYYYMMDD vintage columns (ALFRED), or realtime_start, realtime_end, date, value (ALFRED)"
)


def _rows(file: _File) -> Iterable[tuple[int, dict[str, str]]]:
    """Each record after the column header as {column: cell}; extra values are problems."""
    names = file.records[0][1]
    for line, cells in file.records[1:]:
        if len(cells) > len(names) and any(cells[len(names) :]):
            file.fail(
                line,
                None,
                f"row has {len(cells)} values but the header has {len(names)} columns",
                "one value per column",
            )
            continue
        yield line, dict(zip(names, cells, strict=False))


def _date(file: _File, line: int, field: str, text: str | None) -> dt.date | None:
    if not text:
        file.fail(line, field, "is required", "a date YYYY-MM-DD")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        file.fail(line, field, "is not a date", "YYYY-MM-DD", text)
        return None


def _value(file: _File, line: int, field: str, text: str) -> tuple[bool, float | None]:
    try:
        return True, parse_number(text)
    except ValueError:
        file.fail(line, field, "is not a number", "a number, or . for a missing value", text)
        return False, None


def parse_series_file(
    path: Path, code: str | None = None, collect: list[InputProblem] | None = None
) -> list[SeriesData]:
    """Read a FRED download, an ALFRED vintage file (long or wide) or a file in either
    layout with a `# key: value` metadata header. `code` (--code) names the series of a
    file whose columns do not. Every problem is reported, none written."""
    problems: list[InputProblem] = []
    file = _File(path, problems)
    result: list[SeriesData] = []
    if not file.records:
        file.fail(file.header_line, None, "has no column header", LAYOUT_HELP)
    else:
        names = file.records[0][1]
        lower = [name.lower() for name in names]
        if "realtime_start" in lower or "realtime_start_date" in lower:
            result = _parse_long(file, code)
        elif lower[0] in _DATE_COLUMNS and len(names) > 1:
            vintage = [bool(_VINTAGE_COLUMN.fullmatch(n)) for n in names[1:]]
            if all(vintage):
                result = _parse_wide(file, code)
            elif any(vintage):
                file.fail(
                    file.header_line,
                    names[1 + vintage.index(True)],
                    "mixes ALFRED vintage columns with plain series columns",
                    "only CODE_YYYYMMDD columns, or only series columns",
                )
            else:
                result = _parse_plain(file, code)
        else:
            file.fail(file.header_line, names[0], "is not a layout foliodb knows", LAYOUT_HELP)
    if collect is not None:
        collect.extend(problems)
    elif problems:
        raise InputError(problems)
    return result


def _parse_plain(file: _File, option: str | None) -> list[SeriesData]:
    """FRED's download: a date column, then one column per series; '.' is a missing value,
    an empty cell no observation (series of different frequencies share the file)."""
    line0, names = file.records[0]
    columns = names[1:]
    if len(columns) > 1 and option is not None:
        file.fail(line0, "code", "--code names one series; this file has several", "no --code")
        return []
    codes: list[str] = []
    for column in columns:
        named = column if column.lower() != "value" else None  # old downloads: DATE,VALUE
        code = file.code(named, option)
        if code is None:
            return []
        codes.append(code)
    if len(set(codes)) < len(codes):
        file.fail(line0, None, "names a series twice", "one column per series")
        return []
    observed: dict[str, list[Vintage]] = {code: [] for code in codes}
    seen: dict[dt.date, int] = {}
    for line, raw in _rows(file):
        day = _date(file, line, names[0], raw.get(names[0]))
        if day is None:
            continue
        if seen.setdefault(day, line) != line:
            file.fail(line, names[0], f"repeats line {seen[day]}", "one row per date", str(day))
            continue
        for column, code in zip(columns, codes, strict=True):
            text = raw.get(column, "")
            good, value = _value(file, line, column, text)
            if good and text:
                observed[code].append(Vintage(day, value))
    return [
        SeriesData(file.info(code), tuple(sorted(rows, key=lambda v: v.date)), False, file.name)
        for code, rows in observed.items()
    ]


def _parse_wide(file: _File, option: str | None) -> list[SeriesData]:
    """ALFRED's wide layout: a date column, then CODE_YYYYMMDD, the series as published on
    that date. Each run of one value across vintages becomes one real-time period."""
    line0, names = file.records[0]
    columns: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for column in names[1:]:
        match = _VINTAGE_COLUMN.fullmatch(column)
        assert match is not None
        try:
            vintage = dt.datetime.strptime(match["vintage"], "%Y%m%d").date()  # noqa: DTZ007
        except ValueError:
            file.fail(line0, column, "does not end in a date", "CODE_YYYYMMDD", column)
            continue
        code = file.code(match["code"], option)
        if code is None:
            return []
        if any(v == vintage for v, _ in columns[code]):
            file.fail(line0, column, "repeats a vintage", "each vintage once", column)
            continue
        columns[code].append((vintage, column))
    cells: dict[str, dict[dt.date, list[tuple[dt.date, float | None]]]] = {
        code: defaultdict(list) for code in columns
    }
    seen: dict[dt.date, int] = {}
    for line, raw in _rows(file):
        day = _date(file, line, names[0], raw.get(names[0]))
        if day is None:
            continue
        if seen.setdefault(day, line) != line:
            file.fail(line, names[0], f"repeats line {seen[day]}", "one row per date", str(day))
            continue
        for code, vintages in columns.items():
            for vintage, column in vintages:
                good, value = _value(file, line, column, raw.get(column, ""))
                if good:
                    cells[code][day].append((vintage, value))
    result = []
    for code, by_date in cells.items():
        periods: list[Vintage] = []
        for day, published in by_date.items():
            periods += _runs(day, sorted(published))
        periods.sort(key=lambda v: (v.date, v.realtime_start or FIRST_REALTIME))
        result.append(SeriesData(file.info(code), tuple(periods), True, file.name))
    return result


def _runs(day: dt.date, published: Sequence[tuple[dt.date, float | None]]) -> list[Vintage]:
    """Real-time periods of one date from its value in each vintage (None: not in it)."""
    periods: list[Vintage] = []
    current: Vintage | None = None
    for vintage, value in published:
        if current is not None and current.value == value:
            continue
        if current is not None:
            periods.append(replace(current, realtime_end=vintage))
            current = None
        if value is not None:
            current = Vintage(day, value, realtime_start=vintage)
    if current is not None:
        periods.append(current)
    return periods


def _parse_long(file: _File, option: str | None) -> list[SeriesData]:
    """ALFRED's long layout (and FRED's API): realtime_start, realtime_end (inclusive,
    9999-12-31 while current; empty: until the next vintage), date, value [, preliminary]."""
    line0, names = file.records[0]
    header_problems = len(file.problems)
    field: dict[str, str] = {}  # canonical name -> the column as the file writes it
    others = []
    for name in names:
        canonical = _LONG_ALIASES.get(name.lower())
        if canonical is None or canonical in field:
            others.append(name)
        else:
            field[canonical] = name
    value_column = field.get("value")
    if value_column is None and len(others) == 1:
        value_column = others.pop()  # a value column named by its series
    for name in others:
        file.fail(
            line0, name, "unknown column", "realtime_start, realtime_end, date, value, preliminary"
        )
    for required in ("realtime_start", "date"):
        if required not in field:
            file.fail(line0, required, "required column is missing", "a header with it")
    if value_column is None:
        file.fail(line0, "value", "required column is missing", "a value column")
    if value_column is None or len(file.problems) > header_problems:
        return []
    code = file.code(value_column if "value" not in field else None, option)
    if code is None:
        return []
    rows: dict[dt.date, list[tuple[int, Vintage, bool]]] = defaultdict(list)
    for line, raw in _rows(file):
        before = len(file.problems)
        day = _date(file, line, field["date"], raw.get(field["date"]))
        start = _date(file, line, field["realtime_start"], raw.get(field["realtime_start"]))
        _, value = _value(file, line, value_column, raw.get(value_column, ""))
        end_text = raw.get(field.get("realtime_end", ""), "")
        end = None
        if end_text:
            try:
                end = parse_end(end_text)
            except ValueError:
                file.fail(line, field["realtime_end"], "is not a date", "YYYY-MM-DD", end_text)
            if end is not None and start is not None and end <= start:
                file.fail(
                    line,
                    field["realtime_end"],
                    "is before realtime_start",
                    f"{start} or later",
                    end_text,
                )
        preliminary = raw.get(field.get("preliminary", ""), "").lower()
        if preliminary not in ("", *_TRUE, *_FALSE):
            file.fail(
                line, field["preliminary"], "is not true or false", "true or false", preliminary
            )
        if len(file.problems) > before:
            continue
        assert day is not None and start is not None
        vintage = Vintage(day, value, start, end, preliminary in _TRUE)
        rows[day].append((line, vintage, bool(end_text)))
    periods: list[Vintage] = []
    for day in sorted(rows):
        periods += _resolve(
            file, field, sorted(rows[day], key=lambda r: r[1].realtime_start or day)
        )
    return [SeriesData(file.info(code), tuple(periods), True, file.name)]


def _resolve(
    file: _File, field: dict[str, str], rows: Sequence[tuple[int, Vintage, bool]]
) -> list[Vintage]:
    """One date's periods in order: an open end runs to the next start; overlaps are refused."""
    out: list[Vintage] = []
    for i, (line, vintage, explicit) in enumerate(rows):
        following = rows[i + 1] if i + 1 < len(rows) else None
        if following is None:
            out.append(vintage)
            continue
        next_line, after, _ = following
        assert after.realtime_start is not None
        if after.realtime_start == vintage.realtime_start:
            file.fail(
                next_line,
                field["realtime_start"],
                f"repeats line {line}: {vintage.date} published twice on one day",
                "one row per date and realtime_start",
                str(after.realtime_start),
            )
        elif explicit and (
            vintage.realtime_end is None or vintage.realtime_end > after.realtime_start
        ):
            file.fail(
                next_line,
                field["realtime_start"],
                f"overlaps the real-time period of line {line} for {vintage.date}",
                "periods of one date that do not overlap",
                str(after.realtime_start),
            )
        else:
            end = vintage.realtime_end if explicit else after.realtime_start
            out.append(replace(vintage, realtime_end=end))
    return out
