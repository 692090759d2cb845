"""News articles and economic calendar events from JSON, JSON Lines and CSV (docs/news.md).

Like the CSV formats of csv_files, each parser reads the whole file, collects every problem
(file, line, field, value, what was expected) and raises one InputError with all of them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from foliodb.domain import money
from foliodb.errors import InputError, InputProblem
from foliodb.ingest import csv_files
from foliodb.ingest.csv_files import Parsed

ARTICLE_FIELDS = ("url", "title", "source", "author", "published_at", "summary", "symbols")
ARTICLE_REQUIRED = ("url", "title", "published_at")
EVENT_FIELDS = (
    "ts",
    "date",
    "time",
    "timezone",
    "name",
    "country",
    "currency",
    "impact",
    "actual",
    "forecast",
    "previous",
)
EVENT_REQUIRED = ("name", "country", "impact")
#: Calendar words for impact; numbers 1-4 are accepted as they are.
IMPACT_WORDS = {"holiday": 1, "low": 2, "medium": 3, "high": 4}
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")

_SYMBOL = re.compile(r"[^\s;,]+")
_COUNTRY = re.compile(r"[A-Z]{2}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]m)?", re.IGNORECASE)
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")
# A published figure: sign, optional currency sign, digits (thousands commas allowed),
# decimals, then a unit: % (kept in percent), K, M, B or T (multiplied out).
_FIGURE = re.compile(
    r"([+\-\u2212]?)\s*[$€£¥]?\s*(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?\s*(%|[KMBT])?", re.IGNORECASE
)
_SCALE = {"K": 3, "M": 6, "B": 9, "T": 12}
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True, slots=True)
class Article:
    """A news article, identified by its URL, tagged with the symbols it is about."""

    url: str
    title: str
    source: str
    author: str | None
    published_at: dt.datetime
    summary: str | None
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EconomicEvent:
    """A scheduled economic release, identified by (ts, name, country). `actual`, `forecast`
    and `previous` are the published strings; the `*_value` fields the numbers they state."""

    ts: dt.datetime
    name: str
    country: str
    currency: str | None
    impact: int
    actual: str | None
    forecast: str | None
    previous: str | None
    actual_value: Decimal | None
    forecast_value: Decimal | None
    previous_value: Decimal | None

    @property
    def surprise(self) -> Decimal | None:
        """actual - forecast, when both state a number."""
        if self.actual_value is None or self.forecast_value is None:
            return None
        return self.actual_value - self.forecast_value


# --- values -------------------------------------------------------------------------------------
def normalize_url(text: str) -> str | None:
    """The URL an article is known by: stripped of surrounding whitespace, scheme and host in
    lower case (they are case-insensitive). Path, query (tracking parameters included) and
    fragment are kept as written. None when it is not an http(s) URL with a host."""
    text = text.strip()
    if any(c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    userinfo, at, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(scheme=scheme, netloc=userinfo + at + host.lower()))


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 date-time as a UTC instant; without an offset it is UTC. Raises ValueError."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def parse_impact(text: str) -> int:
    """1-4, or holiday/low/medium/high (1/2/3/4). Raises ValueError."""
    word = text.strip().lower()
    if word in IMPACT_WORDS:
        return IMPACT_WORDS[word]
    if word in ("1", "2", "3", "4"):
        return int(word)
    raise ValueError(text)


def parse_figure(text: str | None) -> Decimal | None:
    """The number a published figure states, exactly: "0.3%" is 0.3 (percent stays percent),
    "250K" is 250000, "-1.2B" is -1200000000, "1,234.5" is 1234.5. None for anything else
    ("n/a", "Hawkish", a range)."""
    if text is None:
        return None
    match = _FIGURE.fullmatch(text.strip())
    if match is None or not (match[2] or match[3]):
        return None
    sign, whole, fraction, unit = match.groups()
    try:
        number = Decimal((whole or "0").replace(",", "") + (fraction or ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None
    if unit and unit.upper() in _SCALE:
        number = number.scaleb(_SCALE[unit.upper()])
    return money.normalize(-number if sign in ("-", "\u2212") else number)


def _zone(text: str) -> dt.tzinfo:
    """An IANA zone (America/New_York), UTC, or a fixed offset (+01:00). Raises ValueError."""
    if text.upper() in ("UTC", "Z", "GMT"):
        return dt.UTC
    if match := _OFFSET.fullmatch(text):
        sign, hours, minutes = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
        return dt.timezone(-offset if sign == "-" else offset)
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America"
        raise ValueError(text) from None


def _clock(text: str) -> dt.time:
    """HH:MM[:SS], optionally with am/pm. Raises ValueError."""
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if match[4].lower() == "pm" else 0)
    return dt.time(hour, minute, second)


# --- records ------------------------------------------------------------------------------------
def records(
    path: Path, known: tuple[str, ...], required: tuple[str, ...], problems: list[InputProblem]
) -> Iterator[csv_files.Row]:
    """The non-empty records of a CSV or JSON file, each with its line number."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from csv_files.records(path, known, required, problems)
    elif suffix in JSON_SUFFIXES:
        yield from _json_rows(path, known, problems)
    else:
        raise InputError(
            InputProblem(
                f"is not a file type foliodb reads ({path.suffix or 'no extension'})",
                str(path),
                expected=".csv, .json (a list of objects or JSON Lines), .jsonl or .ndjson",
            )
        )


def _json_rows(
    path: Path, known: tuple[str, ...], problems: list[InputProblem]
) -> Iterator[csv_files.Row]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(InputProblem(f"cannot read file: {exc.strerror}", name)) from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        problems.append(
            InputProblem(
                f"is not UTF-8 text (byte {exc.object[exc.start]:#04x}); save the file as UTF-8",
                name,
                line,
            )
        )
        raise InputError(problems) from exc
    records: Iterable[tuple[int, Any]]
    if text.lstrip().startswith("["):
        records = _json_array(name, text, problems)
    else:
        records = _json_lines(name, text, problems)
    for line, record in records:
        row = _json_row(name, line, record, known, problems)
        if row is not None:
            yield row


def _json_lines(name: str, text: str, problems: list[InputProblem]) -> Iterator[tuple[int, Any]]:
    """JSON Lines: one object per line; a bad line is one problem and reading goes on."""
    # Split on newlines only: JSON strings may hold U+2028 and other line separators.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            problems.append(
                InputProblem(
                    f"is not valid JSON: {exc.msg} (column {exc.colno})",
                    name,
                    number,
                    expected="one JSON object per line",
                )
            )


def _skip_space(text: str, pos: int) -> int:
    match = _JSON_SPACE.match(text, pos)
    return match.end() if match else pos


def _json_array(name: str, text: str, problems: list[InputProblem]) -> list[tuple[int, Any]]:
    """A JSON array, each element with the line it starts on (json.loads would lose them)."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    out: list[tuple[int, Any]] = []
    pos = _skip_space(text, text.index("[") + 1)
    line, counted = 1, 0
    try:
        if text.startswith("]", pos):
            pos += 1
        else:
            while True:
                line += text.count("\n", counted, pos)
                counted = pos
                value, end = decoder.raw_decode(text, pos)
                out.append((line, value))
                pos = _skip_space(text, end)
                if text.startswith(",", pos):
                    pos = _skip_space(text, pos + 1)
                elif text.startswith("]", pos):
                    pos += 1
                    break
                else:
                    raise json.JSONDecodeError("Expecting ',' delimiter or ']'", text, pos)
        if (pos := _skip_space(text, pos)) < len(text):
            raise json.JSONDecodeError("Extra data after the list", text, pos)
    except json.JSONDecodeError as exc:
        problems.append(
            InputProblem(
                f"is not valid JSON: {exc.msg} (column {exc.colno})",
                name,
                exc.lineno,
                expected="a list of objects, or one object per line (JSON Lines)",
            )
        )
        raise InputError(problems) from exc
    return out


def _json_row(
    name: str, line: int, record: Any, known: tuple[str, ...], problems: list[InputProblem]
) -> csv_files.Row | None:
    """A JSON object as a row of stripped, non-empty text values (symbols joined by ';')."""
    if not isinstance(record, dict):
        kind = "list" if isinstance(record, list) else "string" if isinstance(record, str) else ""
        problems.append(
            InputProblem(f"record is a {kind or 'bare value'}", name, line, expected="an object")
        )
        return None
    raw: dict[str, str] = {}
    before = len(problems)
    for key, value in record.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            expected = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(known)}"
            problems.append(InputProblem("unknown field", name, line, key, None, expected))
            continue
        if key == "symbols" and isinstance(value, list):
            if all(isinstance(v, str) for v in value):
                value = ";".join(value)
            else:
                shown = json.dumps(value, default=str)
                problems.append(
                    InputProblem("is not a list of text", name, line, key, shown, "symbols")
                )
                continue
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            shown = json.dumps(value, default=str)
            problems.append(InputProblem("is not text or a number", name, line, key, shown))
            continue
        if text := str(value).strip():
            raw[key] = text
    if len(problems) > before or not raw:
        return None
    return csv_files.Row(name, line, raw, problems)


# --- parsers ------------------------------------------------------------------------------------
def _instant(row: csv_files.Row, field: str) -> dt.datetime | None:
    value = row.text(field, required=True)
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        row.fail(field, "is not a date and time", "ISO 8601 such as 2024-05-01T14:30:00+02:00")
        return None


def _symbols(row: csv_files.Row) -> tuple[str, ...]:
    text = row.text("symbols") or ""
    parts = [part.strip().upper() for part in re.split(r"[;,]", text) if part.strip()]
    if any(len(part) > 64 or not _SYMBOL.fullmatch(part) for part in parts):
        row.fail(
            "symbols", "is not a list of symbols", "symbols separated by ';' such as AAPL;MSFT"
        )
        return ()
    return tuple(sorted(set(parts)))


def parse_articles(
    path: Path, default_source: str | None = None, collect: list[InputProblem] | None = None
) -> list[Parsed[Article]]:
    """Read news articles; a record without `source` takes `default_source`."""
    problems: list[InputProblem] = []
    out: list[Parsed[Article]] = []
    for row in records(path, ARTICLE_FIELDS, ARTICLE_REQUIRED, problems):
        before = len(problems)
        text = row.text("url", required=True)
        url = normalize_url(text) if text is not None else None
        if text is not None and url is None:
            row.fail("url", "is not a web address", "an http:// or https:// URL")
        title = row.text("title", required=True)
        published_at = _instant(row, "published_at")
        source = row.text("source") or default_source
        if source is None:
            row.fail("source", "is required (in the file, or give a default source)", "a value")
        symbols = _symbols(row)
        if len(problems) > before:
            continue
        assert url and title and published_at and source
        article = Article(
            url=url,
            title=title,
            source=source,
            author=row.text("author"),
            published_at=published_at,
            summary=row.text("summary"),
            symbols=symbols,
        )
        out.append(Parsed(row.line, article))
    return csv_files._finish(problems, out, collect)


def _event_ts(row: csv_files.Row) -> dt.datetime | None:
    """`ts`, or `date` [+ `time`] [+ `timezone`]; a naive time is in `timezone`, else UTC."""
    zone: dt.tzinfo = dt.UTC
    if (zone_text := row.text("timezone")) is not None:
        try:
            zone = _zone(zone_text)
        except ValueError:
            row.fail("timezone", "is not a time zone", "an IANA name such as America/New_York")
            return None
    if row.text("ts") is not None:
        for field in ("date", "time"):
            if row.text(field) is not None:
                row.fail(field, "is given with ts", "either ts, or date and time")
                return None
        try:
            value = dt.datetime.fromisoformat(row.raw["ts"])
        except ValueError:
            row.fail("ts", "is not a date and time", "ISO 8601 such as 2024-05-03T08:30:00-04:00")
            return None
        if value.tzinfo is not None and zone_text is not None:
            row.fail("timezone", "is given with a ts that has its own offset", "one of the two")
            return None
        return _local(row, value.replace(tzinfo=value.tzinfo or zone), "ts")
    if row.text("date") is None:
        row.fail("ts", "is required", "ts, or date with optional time and timezone")
        return None
    day = row.date("date")
    clock = dt.time(0)
    if (time_text := row.text("time")) is not None and time_text.lower() != "all day":
        try:
            clock = _clock(time_text)
        except ValueError:
            row.fail("time", "is not a time of day", "HH:MM, HH:MM:SS or 8:30am")
            return None
    if day is None:
        return None
    return _local(row, dt.datetime.combine(day, clock, tzinfo=zone), "time")


def _local(row: csv_files.Row, value: dt.datetime, field: str) -> dt.datetime | None:
    """The UTC instant of a local time, refusing a wall time that the zone skips or repeats
    (daylight saving): neither names one instant."""
    instant = value.astimezone(dt.UTC)
    if instant.astimezone(value.tzinfo).replace(tzinfo=None) != value.replace(tzinfo=None):
        row.fail(field, "does not exist in that time zone (clocks skip it)", "an existing time")
        return None
    if value.replace(fold=1).astimezone(dt.UTC) != instant:
        row.fail(
            field,
            "happens twice in that time zone (clocks go back)",
            "a ts with its UTC offset, such as 2024-11-03T01:30:00-04:00",
        )
        return None
    return instant


def parse_events(
    path: Path, collect: list[InputProblem] | None = None
) -> list[Parsed[EconomicEvent]]:
    """Read economic calendar events. A key (ts, name, country) repeated in the file is not an
    error: the later record updates the earlier one, as a later import would."""
    problems: list[InputProblem] = []
    out: list[Parsed[EconomicEvent]] = []
    for row in records(path, EVENT_FIELDS, EVENT_REQUIRED, problems):
        before = len(problems)
        ts = _event_ts(row)
        name = row.text("name", required=True)
        country = (row.text("country", required=True) or "").upper()
        if country and not _COUNTRY.fullmatch(country):
            row.fail("country", "is not a country code", "ISO 3166 alpha-2 such as US or DE")
        currency = row.currency("currency", required=False)
        impact: int | None = None
        if (impact_text := row.text("impact", required=True)) is not None:
            try:
                impact = parse_impact(impact_text)
            except ValueError:
                row.fail("impact", "is not an impact", "1-4, or holiday, low, medium, high")
        if len(problems) > before:
            continue
        assert ts and name and impact is not None
        actual, forecast, previous = row.text("actual"), row.text("forecast"), row.text("previous")
        event = EconomicEvent(
            ts=ts,
            name=name,
            country=country,
            currency=currency,
            impact=impact,
            actual=actual,
            forecast=forecast,
            previous=previous,
            actual_value=parse_figure(actual),
            forecast_value=parse_figure(forecast),
            previous_value=parse_figure(previous),
        )
        out.append(Parsed(row.line, event))
    return csv_files._finish(problems, out, collect)
