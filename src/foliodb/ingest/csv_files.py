"""CSV formats for transactions, prices, FX rates and securities (docs/formats.md).

Each parser reads the whole file, collects every problem (file, line, field, value, what was
expected) and raises one InputError with all of them, so nothing is half-read.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Generic, TypeVar

from foliodb.domain.currencies import is_currency
from foliodb.domain.money import EXACT
from foliodb.domain.types import (
    CASH_TYPES,
    REVERSAL_SUFFIX,
    TRADE_TYPES,
    BookingMethod,
    FxRate,
    PackPrice,
    Security,
    SecurityType,
    SplitRatio,
    Transaction,
    TxType,
)
from foliodb.errors import InputError, InputProblem

T = TypeVar("T")

TRANSACTION_FIELDS = (
    "external_id",
    "trade_date",
    "type",
    "symbol",
    "quantity",
    "price",
    "amount",
    "currency",
    "fee",
    "fx_rate",
    "counter_currency",
    "counter_amount",
    "ratio",
    "lot_ids",
    "method",
    "acquired_date",
    "account",
    "note",
)
TRANSACTION_REQUIRED = ("trade_date", "type", "currency")
PRICE_FIELDS = ("symbol", "date", "price", "currency", "source")
PRICE_REQUIRED = ("symbol", "date", "price", "currency")
FX_FIELDS = ("date", "base", "quote", "rate", "source")
FX_REQUIRED = ("date", "base", "quote", "rate")
SECURITY_FIELDS = ("symbol", "currency", "name", "type", "exchange", "sector", "country")
SECURITY_REQUIRED = ("symbol", "currency")


@dataclass(frozen=True, slots=True)
class ParsedTransaction:
    """A transaction and where it came from; `fx_given` is False when the file had no
    fx_rate and the importer must look up the trade-date rate."""

    line: int
    transaction: Transaction
    fx_given: bool
    content_hash: str


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    line: int
    value: T


class Row:
    """One CSV record with typed field parsers that record problems instead of raising."""

    __slots__ = ("file", "line", "problems", "raw")

    def __init__(self, file: str, line: int, raw: dict[str, str], problems: list[InputProblem]):
        # `raw` holds only the non-empty cells, already stripped.
        self.file, self.line, self.raw, self.problems = file, line, raw, problems

    def fail(self, field: str, message: str, expected: str | None = None) -> None:
        value = self.raw.get(field)
        self.problems.append(InputProblem(message, self.file, self.line, field, value, expected))

    def text(self, field: str, required: bool = False) -> str | None:
        value = self.raw.get(field)
        if value is None and required:
            self.fail(field, "is required", "a value")
        return value

    def date(self, field: str, required: bool = True) -> dt.date | None:
        value = self.text(field, required=required)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(field, "is not a date", "YYYY-MM-DD")
            return None

    def decimal(
        self, field: str, required: bool = False, positive: bool = False, allow_zero: bool = True
    ) -> Decimal | None:
        value = self.text(field, required)
        if value is None:
            return None
        try:
            number = Decimal(value.replace("_", ""))
        except InvalidOperation:
            self.fail(field, "is not a number", "a decimal such as 12.50")
            return None
        if not number.is_finite():
            self.fail(field, "is not a finite number", "a decimal such as 12.50")
            return None
        if number < 0 or (number == 0 and (positive or not allow_zero)):
            kind = "greater than zero" if positive or not allow_zero else "zero or more"
            self.fail(field, "must not be negative" if number < 0 else "must not be zero", kind)
            return None
        return number

    def split_ratio(self, field: str) -> SplitRatio | None:
        value = self.text(field, required=True)
        if value is None:
            return None
        try:
            return SplitRatio.from_text(value.replace("_", ""))
        except ValueError:
            self.fail(field, "is not a split ratio", "new:old shares such as 2:1 or 1:3, or 2")
            return None

    def currency(self, field: str, required: bool = True) -> str | None:
        value = self.text(field, required)
        if value is None:
            return None
        code = value.upper()
        if not is_currency(code):
            self.fail(field, "is not a known currency", "an ISO 4217 code such as USD")
            return None
        return code

    def choice(self, field: str, enum: type[T], required: bool = False) -> T | None:
        value = self.text(field, required)
        if value is None:
            return None
        try:
            return enum(value.upper())  # type: ignore[call-arg]
        except ValueError:
            names = ", ".join(m.value for m in enum)  # type: ignore[attr-defined]
            self.fail(field, "is not recognised", f"one of {names}")
            return None


def records(
    path: Path, known: tuple[str, ...], required: tuple[str, ...], problems: list[InputProblem]
) -> Iterator[Row]:
    name = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(InputProblem(f"cannot read file: {exc.strerror}", name)) from exc
    with handle:
        try:
            first = handle.readline()
            handle.seek(0)
        except UnicodeDecodeError:
            first = ""
        # Spreadsheets in many locales save ';'-separated "CSV": accept it when the header
        # says so (semicolons and no commas).
        reader = csv.reader(handle, delimiter=";" if ";" in first and "," not in first else ",")
        try:
            yield from _rows(name, reader, known, required, problems)
        except UnicodeDecodeError as exc:
            problems.append(
                InputProblem(
                    f"is not UTF-8 text (byte {exc.object[exc.start]:#04x} near line "
                    f"{reader.line_num + 1}); save the file as UTF-8",
                    name,
                )
            )
            raise InputError(problems) from exc
        except csv.Error as exc:
            problems.append(InputProblem(f"is not valid CSV: {exc}", name, reader.line_num or 1))
            raise InputError(problems) from exc


def _rows(
    name: str,
    reader: Any,
    known: tuple[str, ...],
    required: tuple[str, ...],
    problems: list[InputProblem],
) -> Iterator[Row]:
    header = [h.strip() for h in next(reader, [])]
    missing = [f for f in required if f not in header]
    unknown = [f for f in header if f and f not in known]  # unnamed: spreadsheet padding
    repeated = [f for f, n in Counter(header).items() if n > 1 and f in known]
    for field in missing:
        expected = f"a header row with {', '.join(required)}"
        problems.append(InputProblem("required column is missing", name, 1, field, None, expected))
    for field in unknown:
        close = difflib.get_close_matches(field, known, n=1)
        expected = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(known)}"
        problems.append(InputProblem("unknown column", name, 1, field, None, expected))
    for field in repeated:
        problems.append(
            InputProblem("column appears more than once", name, 1, field, None, "each column once")
        )
    if missing or unknown or repeated:
        raise InputError(problems)
    width = len(header)
    for cells in reader:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append(
                InputProblem(
                    f"row has {len(cells)} values but the header has {width} columns",
                    name,
                    reader.line_num,
                )
            )
            continue
        raw = {k: v for k, c in zip(header, cells, strict=False) if (v := c.strip())}
        if "" in raw:
            problems.append(
                InputProblem(
                    "has a value in a column without a name",
                    name,
                    reader.line_num,
                    None,
                    raw.pop(""),
                    "a header for every column that holds values",
                )
            )
            continue
        if raw:
            yield Row(name, reader.line_num, raw, problems)


def _finish(
    problems: list[InputProblem], values: list[T], collect: list[InputProblem] | None
) -> list[T]:
    """The parsed rows; the problems are raised, or handed to `collect` when the caller
    goes on checking the good rows so that one report can name everything."""
    if collect is not None:
        collect.extend(problems)
    elif problems:
        raise InputError(problems)
    return values


def _canonical(value: Decimal | object | None) -> str:
    if value is None:
        return ""
    return str(value.normalize(EXACT)) if isinstance(value, Decimal) else str(value)


def content_hash(tx: Transaction, fx_given: bool) -> str:
    """A hash of what a transaction row says (not its id), for idempotent re-imports.

    Numbers are compared by value (100 and 100.00 are the same); an fx_rate counts only when
    the file gave one, since otherwise it is looked up at import time.
    """
    parts = (
        tx.trade_date.isoformat(),
        tx.type.value,
        tx.symbol or "",
        _canonical(tx.quantity),
        _canonical(tx.price),
        _canonical(tx.amount),
        tx.currency,
        _canonical(tx.fee),
        _canonical(tx.fx_rate) if fx_given else "",
        tx.counter_currency or "",
        _canonical(tx.counter_amount),
        _canonical(tx.ratio),
        ";".join(tx.lot_ids),
        tx.method or "",
        tx.acquired_date.isoformat() if tx.acquired_date else "",
        tx.account or "",
        tx.note or "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _parse_transaction_row(row: Row) -> Transaction | None:
    before = len(row.problems)
    trade_date = row.date("trade_date")
    kind = row.choice("type", TxType, required=True)
    currency = row.currency("currency")
    symbol = row.text("symbol")
    symbol = symbol.upper() if symbol else None
    fee = row.decimal("fee") or Decimal(0)
    fx_rate = row.decimal("fx_rate", positive=True)
    method = row.choice("method", BookingMethod)
    given_id = row.text("external_id") or ""
    if ";" in given_id:
        # An id becomes a lot id, and lot_ids are separated by ';'.
        row.fail("external_id", "must not contain ';'", "an id without semicolons")
    if given_id.casefold().endswith(REVERSAL_SUFFIX):
        row.fail(
            "external_id",
            f"must not end with {REVERSAL_SUFFIX!r}, which names reversal entries",
            "another id",
        )
    acquired_date = row.date("acquired_date", required=False)
    lot_ids = tuple(part.strip() for part in (row.text("lot_ids") or "").split(";") if part.strip())
    quantity = price = amount = counter_amount = ratio = None
    counter_currency = None
    security_move = kind in TRADE_TYPES or (
        kind in (TxType.TRANSFER_IN, TxType.TRANSFER_OUT) and symbol is not None
    )
    if kind is not None:
        if security_move:
            if symbol is None:
                row.fail("symbol", f"is required for {kind.value}", "a security symbol")
            quantity = row.decimal("quantity", required=True, positive=True)
            price = row.decimal("price", required=kind is not TxType.TRANSFER_OUT)
        elif kind is TxType.SPLIT:
            if symbol is None:
                row.fail("symbol", "is required for SPLIT", "a security symbol")
            ratio = row.split_ratio("ratio")
        elif kind is TxType.FX_CONVERSION:
            amount = row.decimal("amount", required=True, positive=True)
            counter_currency = row.currency("counter_currency")
            counter_amount = row.decimal("counter_amount", required=True, positive=True)
            if counter_currency is not None and counter_currency == currency:
                row.fail("counter_currency", "must differ from currency", "another currency")
        elif kind in CASH_TYPES or kind in (TxType.TRANSFER_IN, TxType.TRANSFER_OUT):
            amount = row.decimal("amount", required=True, positive=True)
        if acquired_date is not None:
            if kind is not TxType.TRANSFER_IN or symbol is None:
                row.fail(
                    "acquired_date",
                    f"does not apply to {kind.value}",
                    "only on TRANSFER_IN of a security",
                )
            elif trade_date is not None and acquired_date > trade_date:
                row.fail("acquired_date", "is after the trade date", "the original purchase date")
        if method is BookingMethod.SPECIFIC and not lot_ids:
            row.fail("lot_ids", "is required when method is SPECIFIC", "lot ids separated by ;")
        if (method is not None or lot_ids) and kind not in (
            TxType.SELL,
            TxType.BUY_TO_COVER,
            TxType.TRANSFER_OUT,
        ):
            field = "method" if method is not None else "lot_ids"
            row.fail(
                field,
                f"does not apply to {kind.value}",
                "only on SELL, BUY_TO_COVER or TRANSFER_OUT",
            )
    if len(row.problems) > before:
        return None
    assert trade_date is not None and kind is not None and currency is not None
    if lot_ids and method is None:
        method = BookingMethod.SPECIFIC
    external_id = row.text("external_id")
    return Transaction(
        tx_id=external_id or "",
        trade_date=trade_date,
        type=kind,
        currency=currency,
        symbol=symbol,
        quantity=quantity,
        price=price if price is not None or not security_move else Decimal(0),
        amount=amount,
        fee=fee,
        fx_rate=fx_rate if fx_rate is not None else Decimal(1),
        counter_currency=counter_currency,
        counter_amount=counter_amount,
        ratio=ratio,
        lot_ids=lot_ids,
        method=method,
        acquired_date=acquired_date,
        account=row.text("account"),
        external_id=external_id,
        note=row.text("note"),
    )


def parse_transactions(
    path: Path,
    on_row: Callable[[int], None] | None = None,
    collect: list[InputProblem] | None = None,
) -> list[ParsedTransaction]:
    """Read a transactions CSV. Rows without external_id get a content-hash id; identical
    rows in one file are told apart by their occurrence, so re-importing adds nothing.
    `on_row(line)` is called every thousand lines, for progress."""
    problems: list[InputProblem] = []
    parsed: list[ParsedTransaction] = []
    seen_external: dict[str, int] = {}
    occurrences: Counter[str] = Counter()
    for row in records(path, TRANSACTION_FIELDS, TRANSACTION_REQUIRED, problems):
        tx = _parse_transaction_row(row)
        if on_row is not None and row.line % 1000 == 0:
            on_row(row.line)
        if tx is None:
            continue
        fx_given = "fx_rate" in row.raw
        digest = content_hash(tx, fx_given)
        if tx.external_id is not None:
            first = seen_external.setdefault(tx.external_id, row.line)
            if first != row.line:
                row.fail("external_id", f"duplicates line {first}", "a unique id per row")
                continue
        else:
            occurrences[digest] += 1
            count = occurrences[digest]
            tx = replace(tx, tx_id=f"h{digest[:15]}" + (f"-{count}" if count > 1 else ""))
        parsed.append(ParsedTransaction(row.line, tx, fx_given, digest))
    return _finish(problems, parsed, collect)


def parse_prices(path: Path, collect: list[InputProblem] | None = None) -> list[Parsed[PackPrice]]:
    problems: list[InputProblem] = []
    out: list[Parsed[PackPrice]] = []
    seen: dict[tuple[str, dt.date], int] = {}
    for row in records(path, PRICE_FIELDS, PRICE_REQUIRED, problems):
        before = len(problems)
        symbol = row.text("symbol", required=True)
        date = row.date("date")
        price = row.decimal("price", required=True, positive=True)
        currency = row.currency("currency")
        if len(problems) > before:
            continue
        assert symbol and date and price is not None and currency
        key = (symbol.upper(), date)
        if seen.setdefault(key, row.line) != row.line:
            row.fail(
                "date",
                f"{symbol} already has a price on this date at line {seen[key]}",
                "one price per symbol and date",
            )
            continue
        out.append(Parsed(row.line, PackPrice(symbol.upper(), price, currency, date)))
    return _finish(problems, out, collect)


def parse_fx_rates(path: Path, collect: list[InputProblem] | None = None) -> list[Parsed[FxRate]]:
    problems: list[InputProblem] = []
    out: list[Parsed[FxRate]] = []
    seen: dict[tuple[str, str, dt.date], int] = {}
    for row in records(path, FX_FIELDS, FX_REQUIRED, problems):
        before = len(problems)
        date = row.date("date")
        base = row.currency("base")
        quote = row.currency("quote")
        rate = row.decimal("rate", required=True, positive=True)
        if base and quote and base == quote:
            row.fail("quote", "must differ from base", "two different currencies")
        if len(problems) > before:
            continue
        assert date and base and quote and rate is not None
        key = (base, quote, date)
        if seen.setdefault(key, row.line) != row.line:
            row.fail(
                "date",
                f"{base}/{quote} already has a rate on this date at line {seen[key]}",
                "one rate per pair and date",
            )
            continue
        out.append(Parsed(row.line, FxRate(base, quote, rate, date)))
    return _finish(problems, out, collect)


def parse_securities(
    path: Path, collect: list[InputProblem] | None = None
) -> list[Parsed[Security]]:
    problems: list[InputProblem] = []
    out: list[Parsed[Security]] = []
    for row in records(path, SECURITY_FIELDS, SECURITY_REQUIRED, problems):
        before = len(problems)
        symbol = row.text("symbol", required=True)
        currency = row.currency("currency")
        kind = row.choice("type", SecurityType) or SecurityType.EQUITY
        if len(problems) > before:
            continue
        assert symbol and currency
        out.append(
            Parsed(
                row.line,
                Security(
                    symbol=symbol.upper(),
                    currency=currency,
                    name=row.text("name") or symbol.upper(),
                    type=kind,
                    exchange=row.text("exchange"),
                    sector=row.text("sector"),
                    country=row.text("country"),
                ),
            )
        )
    return _finish(problems, out, collect)
