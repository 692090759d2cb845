"""The fields of a bar file and how a vendor's columns map onto them: `--map` pairs, the
header's columns matched to our fields, and bar intervals."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from foliodb.errors import InputError, InputProblem

FIELDS = ("symbol", "ts", "open", "high", "low", "close", "volume", "vwap", "trades")
REQUIRED = ("ts", "open", "high", "low", "close", "volume")  # and symbol, or --symbol
PRICES = ("open", "high", "low", "close")
NUMBERS = ("open", "high", "low", "close", "volume", "vwap", "trades")
INTERVAL_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
SYMBOL_WIDTH = 64
IGNORE = "-"  # `--map extra=-` drops a vendor column


def parse_interval(value: str) -> str:
    """A bar interval as stored: 1m, 5m, 15m, 1h or 1d."""
    interval = value.strip().lower()
    if interval not in INTERVAL_SECONDS:
        raise InputError(
            InputProblem(
                "is not a bar interval",
                field="interval",
                value=value,
                expected=f"one of {', '.join(INTERVAL_SECONDS)}",
            )
        )
    return interval


def parse_column_map(items: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """`vendor=ours` pairs (or a mapping) as {vendor column: our field or '-' to drop it}."""
    if items is None:
        return {}
    pairs: list[tuple[str, str]] = []
    problems: list[InputProblem] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), str(v)) for k, v in items.items()]
    else:
        for item in items:
            vendor, sep, ours = item.partition("=")
            if not sep or not vendor.strip():
                problems.append(
                    InputProblem(
                        "is not a column mapping", field="--map", value=item,
                        expected="VENDOR_COLUMN=OUR_COLUMN, e.g. Date=ts",
                    )
                )  # fmt: skip
                continue
            pairs.append((vendor.strip(), ours.strip()))
    mapping: dict[str, str] = {}
    for vendor, ours in pairs:
        ours = ours.lower()
        if ours != IGNORE and ours not in FIELDS:
            close = difflib.get_close_matches(ours, FIELDS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(FIELDS)} or -"
            problems.append(
                InputProblem("is not a bar column", field="--map", value=ours, expected=hint)
            )
        mapping[vendor] = ours
    if problems:
        raise InputError(problems)
    return mapping


def map_columns(
    name: str,
    header: Sequence[str],
    column_map: Mapping[str, str],
    symbol_given: bool,
) -> dict[str, str]:
    """{our field: the file's column} for the columns the load uses; unknown, missing and
    repeated columns are refused, with a suggestion."""
    lowered = {k.lower(): v for k, v in column_map.items()}
    fields: dict[str, str] = {}
    problems: list[InputProblem] = []
    for column in header:
        key = column.strip()
        target = column_map.get(key, lowered.get(key.lower(), key.lower()))
        if target == IGNORE or (not column and target == ""):
            continue
        if target not in FIELDS:
            close = difflib.get_close_matches(column.lower(), FIELDS, n=1)
            expected = (
                f"did you mean {close[0]!r}? (or --map {column}={close[0]})"
                if close
                else f"one of {', '.join(FIELDS)}, or --map {column}=FIELD, or --map {column}=-"
            )
            problems.append(InputProblem("unknown column", name, 1, column, None, expected))
        elif target in fields:
            problems.append(
                InputProblem(
                    f"column appears more than once (also {fields[target]!r})",
                    name, 1, target, None, "each column once",
                )
            )  # fmt: skip
        else:
            fields[target] = column
    for field in REQUIRED:
        if field not in fields:
            problems.append(
                InputProblem(
                    "required column is missing", name, 1, field, None,
                    f"a header with {', '.join(REQUIRED)} and symbol",
                )
            )  # fmt: skip
    if "symbol" not in fields and not symbol_given:
        problems.append(
            InputProblem(
                "required column is missing", name, 1, "symbol", None,
                "a symbol column, or --symbol SYMBOL for a file of one symbol",
            )
        )  # fmt: skip
    if "symbol" in fields and symbol_given:
        problems.append(
            InputProblem(
                "the file has a symbol column, so --symbol does not apply", name, 1, "symbol",
                None, "--symbol only for files without a symbol column",
            )
        )  # fmt: skip
    if problems:
        raise InputError(problems)
    return fields
