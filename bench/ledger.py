#!/usr/bin/env python
"""Ledger benchmarks for foliodb: CSV import, replay and valuation, each next to a baseline.

    cd /work/main && .venv/bin/python bench/ledger.py            # 100,000 transactions
    .venv/bin/python bench/ledger.py --quick                     # 10,000, for a smoke test
    .venv/bin/python bench/ledger.py --profile                   # + cProfile of the import

stdout gets one JSON object per measurement, all with the same keys (`KEYS` in
bench/common.py); progress and profiles go to stderr. `ratio` is always foliodb's rate divided
by the reference's rate (1.0 = as fast as the reference, 0.5 = half as fast). See bench/README.md.

PostgreSQL: a throwaway server is started with tests/pgcluster.py (or the server named by
FOLIODB_TEST_DATABASE_URL is used). If none can be had, a JSON line with `skipped` says why,
unless CI=true, when the script fails instead.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import math
import platform
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# tests/pgcluster.py is imported from beside the tests (appended, so nothing in tests/
# can shadow an installed module).
sys.path.append(str(ROOT / "tests"))

import foliodb  # noqa: E402
from common import best_of, emit, log, postgres, timed  # noqa: E402
from foliodb.domain import ledger, valuation  # noqa: E402
from foliodb.domain.booking import holding_term  # noqa: E402
from foliodb.domain.money import CONTEXT, ZERO  # noqa: E402
from foliodb.domain.types import (  # noqa: E402
    FxRate,
    LedgerState,
    PackPrice,
    PackStatus,
    PricingPack,
    Transaction,
    TxType,
)
from foliodb.ingest import csv_files  # noqa: E402
from foliodb.ingest.csv_files import TRANSACTION_FIELDS  # noqa: E402
from foliodb.services import valuation as valuation_service  # noqa: E402

PORTFOLIO = "bench"
START = dt.date(2019, 1, 1)
YEARS = 5


# --- output ---------------------------------------------------------------------------------
# --- synthetic data -------------------------------------------------------------------------
def weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _row(**values: str) -> list[str]:
    return [values.get(field, "") for field in TRANSACTION_FIELDS]


def _money(value: float) -> str:
    return f"{value:.2f}"


def generate_ledger(n: int, seed: int, n_symbols: int = 200) -> list[list[str]]:
    """`n` CSV rows (TRANSACTION_FIELDS order) of one USD portfolio over ~5 years of weekdays.

    Row 1 is a large DEPOSIT; then about 55% BUY, 30% SELL, 10% DIVIDEND and 5% FEE. The
    generator tracks holdings and cash, so a SELL never sells more than is held and a BUY never
    spends cash the portfolio lacks (it becomes a SELL instead). Rows come in date order, a
    few dozen per weekday. Replay order within a day (BUYs before SELLs) only ever raises what
    is held when a SELL applies, so the file always replays cleanly.
    """
    rng = random.Random(seed)
    days = weekdays(START, START.replace(year=START.year + YEARS) - dt.timedelta(days=1))
    symbols = [f"SYM{i:03d}" for i in range(n_symbols)]
    price = {s: rng.uniform(10, 400) for s in symbols}
    fees = ("0", "0.35", "1.00", "4.95")
    held: dict[str, Decimal] = {}
    held_list: list[str] = []  # symbols with held > 0, for a uniform pick
    deposit = Decimal(200_000_000)
    cash = deposit
    rows = [
        _row(
            external_id="T0000000",
            trade_date=days[0].isoformat(),
            type="DEPOSIT",
            amount=str(deposit),
            currency="USD",
            account="broker",
            note="initial funding",
        )
    ]

    def drop(symbol: str) -> None:
        del held[symbol]
        i = held_list.index(symbol)
        held_list[i] = held_list[-1]
        held_list.pop()

    for i in range(1, n):
        day = days[i * len(days) // n].isoformat()
        ext = f"T{i:07d}"
        roll = rng.random()
        kind = (
            "BUY"
            if roll < 0.55 or not held_list
            else "SELL"
            if roll < 0.85
            else "DIVIDEND"
            if roll < 0.95
            else "FEE"
        )
        if kind == "BUY":
            symbol = rng.choice(symbols)
            price[symbol] *= math.exp(rng.gauss(0, 0.01))
            px = Decimal(_money(price[symbol]))
            qty = (
                Decimal(rng.randint(1, 20_000)) / 100
                if rng.random() < 0.1
                else Decimal(rng.randint(1, 200))
            )
            fee = Decimal(rng.choice(fees))
            if qty * px + fee > cash:
                kind = "SELL"
            else:
                cash -= qty * px + fee
                if symbol not in held:
                    held[symbol] = Decimal(0)
                    held_list.append(symbol)
                held[symbol] += qty
                rows.append(
                    _row(
                        external_id=ext,
                        trade_date=day,
                        type="BUY",
                        symbol=symbol,
                        quantity=str(qty),
                        price=str(px),
                        currency="USD",
                        fee=str(fee),
                        account="broker",
                    )
                )
                continue
        if kind == "SELL":
            symbol = rng.choice(held_list)
            have = held[symbol]
            close = have <= 1 or rng.random() < 0.15  # sell the whole position
            qty = have if close else Decimal(rng.randint(1, int(have)))
            price[symbol] *= math.exp(rng.gauss(0, 0.01))
            px = Decimal(_money(price[symbol]))
            fee = Decimal(rng.choice(fees))
            cash += qty * px - fee
            if qty == have:
                drop(symbol)
            else:
                held[symbol] = have - qty
            rows.append(
                _row(
                    external_id=ext,
                    trade_date=day,
                    type="SELL",
                    symbol=symbol,
                    quantity=str(qty),
                    price=str(px),
                    currency="USD",
                    fee=str(fee),
                    account="broker",
                )
            )
        elif kind == "DIVIDEND":
            amount = Decimal(rng.randint(100, 50_000)) / 100
            cash += amount
            rows.append(
                _row(
                    external_id=ext,
                    trade_date=day,
                    type="DIVIDEND",
                    symbol=rng.choice(held_list),
                    amount=str(amount),
                    currency="USD",
                    account="broker",
                )
            )
        elif kind == "FEE":
            amount = Decimal(rng.randint(100, 10_000)) / 100
            cash -= amount
            rows.append(
                _row(
                    external_id=ext,
                    trade_date=day,
                    type="FEE",
                    amount=str(amount),
                    currency="USD",
                    account="broker",
                    note="platform fee",
                )
            )
    return rows


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


class ValuationData:
    """10,000 BUYs over 500 symbols (USD, CAD, EUR) plus a deposit per currency, the FX
    history they were bought at, and a pack's prices and FX for the last day."""

    def __init__(self, n_lots: int, seed: int, n_symbols: int = 500) -> None:
        rng = random.Random(seed + 1)
        self.days = weekdays(dt.date(2023, 1, 2), dt.date(2023, 12, 29))
        self.date = self.days[-1]
        currencies = ["USD"] * 350 + ["CAD"] * 75 + ["EUR"] * 75
        self.symbols = [
            (f"V{i:03d}", currencies[i * len(currencies) // n_symbols]) for i in range(n_symbols)
        ]
        usdcad, eurusd = 1.35, 1.08
        self.fx: list[tuple[dt.date, str, str, Decimal]] = []
        to_usd: dict[tuple[dt.date, str], Decimal] = {}
        for day in self.days:
            usdcad *= math.exp(rng.gauss(0, 0.003))
            eurusd *= math.exp(rng.gauss(0, 0.003))
            self.fx.append((day, "USD", "CAD", Decimal(f"{usdcad:.4f}")))
            self.fx.append((day, "EUR", "USD", Decimal(f"{eurusd:.4f}")))
            to_usd[(day, "CAD")] = Decimal(f"{1 / usdcad:.6f}")
            to_usd[(day, "EUR")] = Decimal(f"{eurusd:.4f}")
        self.pack_fx = [FxRate(b, q, r, d) for d, b, q, r in self.fx if d == self.date]
        price = {s: rng.uniform(10, 400) for s, _ in self.symbols}
        self.rows = [
            _row(
                external_id=f"D{c}",
                trade_date=self.days[0].isoformat(),
                type="DEPOSIT",
                amount="500000000",
                currency=c,
                account="broker",
            )
            for c in ("USD", "CAD", "EUR")
        ]
        for i in range(n_lots):
            day = self.days[i * len(self.days) // n_lots]
            symbol, currency = self.symbols[i % n_symbols]
            price[symbol] *= math.exp(rng.gauss(0, 0.01))
            self.rows.append(
                _row(
                    external_id=f"V{i:07d}",
                    trade_date=day.isoformat(),
                    type="BUY",
                    symbol=symbol,
                    quantity=str(rng.randint(1, 300)),
                    price=_money(price[symbol]),
                    currency=currency,
                    fee=rng.choice(("0", "1.00", "4.95")),
                    fx_rate="" if currency == "USD" else str(to_usd[(day, currency)]),
                    account="broker",
                )
            )
        self.prices = [
            PackPrice(s, Decimal(_money(price[s] * 1.05)), c, self.date) for s, c in self.symbols
        ]

    def pack(self) -> PricingPack:
        return PricingPack(
            "PP_BENCH",
            self.date,
            PackStatus.COMPLETE,
            content_hash="bench",
            prices=tuple(self.prices),
            fx_rates=tuple(self.pack_fx),
        )

    def write(self, tmp: Path) -> tuple[Path, Path, Path]:
        tx = write_csv(tmp / "valuation-transactions.csv", TRANSACTION_FIELDS, self.rows)
        prices = write_csv(
            tmp / "valuation-prices.csv",
            csv_files.PRICE_FIELDS,
            (
                [p.symbol, p.price_date.isoformat(), str(p.price), p.currency, "bench"]
                for p in self.prices
            ),
        )
        fx = write_csv(
            tmp / "valuation-fx.csv",
            csv_files.FX_FIELDS,
            ([d.isoformat(), b, q, str(r), "bench"] for d, b, q, r in self.fx),
        )
        return tx, prices, fx


# --- raw references -------------------------------------------------------------------------
_PLAIN_COLUMNS = {  # the CSV's columns, typed like foliodb's transactions table
    "external_id": "text",
    "trade_date": "date",
    "type": "text",
    "symbol": "text",
    "quantity": "numeric",
    "price": "numeric",
    "amount": "numeric",
    "currency": "text",
    "fee": "numeric",
    "fx_rate": "numeric",
    "counter_currency": "text",
    "counter_amount": "numeric",
    "ratio": "text",
    "lot_ids": "text",
    "method": "text",
    "acquired_date": "date",
    "account": "text",
    "note": "text",
}
assert tuple(_PLAIN_COLUMNS) == TRANSACTION_FIELDS


def raw_sqlite_import(csv_path: Path, db_path: Path) -> int:
    """csv.reader + one executemany into a plain table (text like foliodb's SQLite Money
    columns, id primary key, no other index), in one transaction, in a fresh SQLite file with
    foliodb's own pragmas (WAL, synchronous=FULL). Empty fields are stored as NULL."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        cols = ", ".join(f"{c} TEXT" for c in _PLAIN_COLUMNS)
        conn.execute(f"CREATE TABLE plain_transactions (id INTEGER PRIMARY KEY, {cols})")
        marks = ", ".join("?" for _ in _PLAIN_COLUMNS)
        sql = f"INSERT INTO plain_transactions ({', '.join(_PLAIN_COLUMNS)}) VALUES ({marks})"
        with csv_path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            conn.execute("BEGIN")
            conn.executemany(sql, ([v or None for v in row] for row in reader))
            conn.execute("COMMIT")
        return int(conn.execute("SELECT count(*) FROM plain_transactions").fetchone()[0])
    finally:
        conn.close()


def raw_pg_import(csv_path: Path, conninfo: dict[str, Any]) -> int:
    """csv.reader + psycopg COPY ... FROM STDIN (write_row) into a plain typed table (date,
    numeric, text; id identity primary key, no other index), one transaction."""
    import psycopg

    with psycopg.connect(**conninfo) as conn:
        cols = ", ".join(f"{c} {t}" for c, t in _PLAIN_COLUMNS.items())
        conn.execute("DROP TABLE IF EXISTS plain_transactions")
        conn.execute(
            "CREATE TABLE plain_transactions "
            f"(id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {cols})"
        )
        conn.commit()
        names = ", ".join(_PLAIN_COLUMNS)
        with csv_path.open(newline="", encoding="utf-8") as handle, conn.cursor() as cur:
            reader = csv.reader(handle)
            next(reader)
            with cur.copy(f"COPY plain_transactions ({names}) FROM STDIN") as copy:
                for row in reader:
                    copy.write_row([v or None for v in row])
        conn.commit()
        count = conn.execute("SELECT count(*) FROM plain_transactions").fetchone()
        assert count is not None
        return int(count[0])


def minimal_fifo(
    transactions: Iterable[Transaction],
) -> tuple[dict[str, Decimal], dict[str, Decimal], int]:
    """The least a FIFO replay must do, in plain Python with the same Decimal context: sort by
    order_key, open a lot per BUY (cost and base cost), close SELLs FIFO with pro-rata cost,
    allocate proceeds per slice, compute gains, base amounts and holding term (kept as
    tuples), track cash. No validation messages, no other types or booking methods.
    Returns (open quantity per symbol, cash per currency, number of gain slices)."""
    lots: dict[str, deque[list[Any]]] = defaultdict(deque)
    cash: dict[str, Decimal] = defaultdict(lambda: ZERO)
    gains: list[tuple[Any, ...]] = []
    income = {TxType.DEPOSIT, TxType.DIVIDEND, TxType.INTEREST}
    with localcontext(CONTEXT):
        for tx in sorted(transactions, key=lambda tx: tx.order_key):
            kind = tx.type
            if kind is TxType.BUY:
                cost = tx.quantity * tx.price + tx.fee
                lots[tx.symbol].append(
                    [tx.tx_id, tx.trade_date, tx.quantity, cost, cost * tx.fx_rate]
                )
                cash[tx.currency] -= cost
            elif kind is TxType.SELL:
                book = lots[tx.symbol]
                quantity = tx.quantity
                flow = quantity * tx.price - tx.fee
                remaining, allocated = quantity, ZERO
                while remaining:
                    if not book:
                        raise ValueError(f"{tx.tx_id}: oversold {tx.symbol}")
                    lot = book[0]
                    if lot[2] <= remaining:
                        take, cost, cost_base = lot[2], lot[3], lot[4]
                        book.popleft()
                    else:
                        take = remaining
                        cost = lot[3] * take / lot[2]
                        cost_base = lot[4] * take / lot[2]
                        lot[2] -= take
                        lot[3] -= cost
                        lot[4] -= cost_base
                    remaining -= take
                    if remaining:
                        proceeds = flow * take / quantity
                        allocated += proceeds
                    else:
                        proceeds = flow - allocated
                    proceeds_base = proceeds * tx.fx_rate
                    gains.append(
                        (
                            lot[0],
                            tx.tx_id,
                            take,
                            proceeds,
                            cost,
                            proceeds - cost,
                            proceeds_base,
                            cost_base,
                            proceeds_base - cost_base,
                            holding_term(lot[1], tx.trade_date),
                        )
                    )
                cash[tx.currency] += flow
            elif kind in income:
                cash[tx.currency] += tx.amount - tx.fee
            elif kind is TxType.FEE:
                cash[tx.currency] -= tx.amount + tx.fee
            else:
                raise NotImplementedError(kind)
    held = {s: sum((lot[2] for lot in book), ZERO) for s, book in lots.items()}
    return {s: q for s, q in held.items() if q}, dict(cash), len(gains)


def one_pass_value(state: LedgerState, pack: PricingPack, base: str) -> Decimal:
    """Lower bound for valuing lots: one Decimal multiply-add per lot (price x FX rate looked up
    in dicts), plus cash. No grouping, no cost, P&L, effects or weights."""
    prices = {p.symbol: p.price for p in pack.prices}
    direct = {(r.base, r.quote): r.rate for r in pack.fx_rates}
    with localcontext(CONTEXT):

        def rate(currency: str) -> Decimal:
            if currency == base:
                return Decimal(1)
            got = direct.get((currency, base))
            return got if got is not None else 1 / direct[(base, currency)]

        rates: dict[str, Decimal] = {}
        total = ZERO
        for lot in state.lots:
            r = rates.get(lot.currency)
            if r is None:
                r = rates[lot.currency] = rate(lot.currency)
            total += lot.open_quantity * prices[lot.symbol] * r
        for c in state.cash:
            total += c.balance * rate(c.currency)
    return total


# --- foliodb runs ---------------------------------------------------------------------------
def fresh_foliodb(url: str) -> foliodb.Database:
    db = foliodb.connect(url, create=True)
    db.create_portfolio(PORTFOLIO, "USD", "FIFO")
    return db


def foliodb_import(url: str, csv_path: Path) -> float:
    """Seconds for Database.import_transactions of `csv_path` into a fresh portfolio (schema
    creation and portfolio creation are not timed)."""
    db = fresh_foliodb(url)
    try:
        seconds, result = timed(lambda: db.import_transactions(PORTFOLIO, csv_path))
        assert result.added == result.rows, result
        return seconds
    finally:
        db.close()


def stage_breakdown(url: str, csv_path: Path, engine: str) -> None:
    """Time the import's stages (no profiler, so no profiler overhead) by wrapping the
    functions services/ledger.py calls through their modules; the rest (dedupe, content
    hashes, checks, session setup) is reported as 'other'."""
    from foliodb.services import ledger as service
    from foliodb.store.uow import UnitOfWork

    spent: dict[str, float] = defaultdict(float)
    targets = [
        (service.csv_files, "parse_transactions", "parse CSV (parse_transactions)"),
        (service.repos, "transaction_hashes", "load existing hashes"),
        (service.repos, "securities_by_symbol", "load securities"),
        (service, "_resolve_fx", "resolve FX"),
        (service.repos, "list_transactions", "load history"),
        (service.ledger, "replay", "replay"),
        (service.repos, "add_securities", "insert securities"),
        (service.repos, "add_transactions", "insert transactions"),
        (service.repos, "replace_derived", "replace lots/gains/cash"),
        (UnitOfWork, "commit", "commit"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]

    def wrap(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        return timed_call

    db = fresh_foliodb(url)
    try:
        for (owner, name, label), (_, _, original) in zip(targets, saved, strict=True):
            setattr(owner, name, wrap(original, label))
        total, _ = timed(lambda: db.import_transactions(PORTFOLIO, csv_path))
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
        db.close()
    lines = [f"\n=== import_transactions stages on {engine} (no profiler): {total:.3f}s ==="]
    for _, _, label in targets:
        lines.append(f"  {label:<34} {spent[label]:8.3f}s  {spent[label] / total:6.1%}")
    other = total - sum(spent.values())
    lines.append(f"  {'other (dedupe, hashes, checks)':<34} {other:8.3f}s  {other / total:6.1%}")
    log("\n".join(lines))


def profile_import(url: str, csv_path: Path, engine: str, top: int) -> None:
    db = fresh_foliodb(url)
    try:
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        db.import_transactions(PORTFOLIO, csv_path)
        profiler.disable()
        total = time.perf_counter() - start
    finally:
        db.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write(
        f"\n=== cProfile: import_transactions on {engine} "
        f"({total:.2f}s under the profiler) — by cumulative time ===\n"
    )
    stats.sort_stats("cumulative").print_stats(top)
    out.write(f"\n=== cProfile: import_transactions on {engine} — by own (tottime) time ===\n")
    stats.sort_stats("tottime").print_stats(top)
    log(out.getvalue())


# --- PostgreSQL -----------------------------------------------------------------------------
# --- the benchmarks -------------------------------------------------------------------------
def bench_import(
    engine: str,
    csv_path: Path,
    rows: int,
    repeat: int,
    new_url: Callable[[], str],
    raw: Callable[[], int],
) -> None:
    ref_times, times = [], []
    for i in range(repeat):
        log(f"[{engine}] raw reference import, run {i + 1}/{repeat} ...")
        seconds, count = timed(raw)
        assert count == rows, (count, rows)
        ref_times.append(seconds)
        log(f"[{engine}] foliodb import_transactions, run {i + 1}/{repeat} ...")
        times.append(foliodb_import(new_url(), csv_path))
        log(f"[{engine}]   raw {ref_times[-1]:.3f}s, foliodb {times[-1]:.3f}s")
    reference = (
        "sqlite3: csv.reader + executemany, one transaction"
        if engine == "sqlite"
        else "psycopg: csv.reader + COPY FROM STDIN (write_row), one transaction"
    )
    emit(
        "import_transactions",
        engine,
        "transactions",
        rows,
        min(times),
        reference,
        min(ref_times),
        repeat,
        note="foliodb: parse+validate CSV, replay, insert transactions, lots, gains, cash",
    )


def bench_parse(csv_path: Path, rows: int, repeat: int) -> list[Transaction]:
    def reference() -> int:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            return sum(1 for _ in csv.DictReader(handle))

    ref_seconds, count = best_of(repeat, reference)
    assert count == rows
    seconds, parsed = best_of(repeat, lambda: csv_files.parse_transactions(csv_path))
    emit(
        "parse_transactions",
        "python",
        "transactions",
        rows,
        seconds,
        "csv.DictReader over the same file (no conversion)",
        ref_seconds,
        repeat,
        note="foliodb.ingest.csv_files.parse_transactions: the first stage of the import",
    )
    return [p.transaction for p in parsed]


def bench_replay(transactions: list[Transaction], repeat: int) -> None:
    rows = len(transactions)
    log(f"replay of {rows} transactions, best of {repeat} ...")
    seconds, state = best_of(repeat, lambda: ledger.replay(transactions))
    sort_seconds, _ = best_of(repeat, lambda: ledger.sort_transactions(transactions))
    fifo_seconds, (held, cash, n_gains) = best_of(repeat, lambda: minimal_fifo(transactions))
    same = (
        held == {s: q for s, q in ledger.positions(state).items() if q}
        and cash == {c.currency: c.balance for c in state.cash}
        and n_gains == len(state.realized_gains)
    )
    if not same:
        log("WARNING: minimal_fifo disagrees with ledger.replay; its timing is not comparable")
    detail = (
        f"{len(state.lots)} open lots, {len(state.realized_gains)} gain slices; "
        f"minimal FIFO agrees: {same}"
    )
    emit(
        "replay",
        "python",
        "transactions",
        rows,
        seconds,
        "ledger.sort_transactions only (sort by order_key)",
        sort_seconds,
        repeat,
        note=detail,
    )
    emit(
        "replay",
        "python",
        "transactions",
        rows,
        seconds,
        "minimal FIFO replay in plain Python (bench/ledger.py:minimal_fifo)",
        fifo_seconds,
        repeat,
        note=detail,
    )


def bench_valuation(
    data: ValuationData, tmp: Path, repeat: int, urls: list[tuple[str, Callable[[], str]]]
) -> None:
    tx_csv, prices_csv, fx_csv = data.write(tmp)
    parsed = [p.transaction for p in csv_files.parse_transactions(tx_csv)]
    state = ledger.replay(parsed)
    pack = data.pack()
    n_lots = len(state.lots)
    log(f"valuation of {n_lots} lots over {len(data.symbols)} symbols, best of {repeat} ...")
    seconds, result = best_of(repeat, lambda: valuation.value(PORTFOLIO, "USD", state, pack))
    ref_seconds, ref_total = best_of(repeat, lambda: one_pass_value(state, pack, "USD"))
    # Summation order differs, so the 34-digit results may differ in the last digit.
    if abs(ref_total - result.total_value) > Decimal("0.000001"):
        log(f"WARNING: one-pass total {ref_total} != value() total {result.total_value}")
    emit(
        "valuation.value",
        "python",
        "lots",
        n_lots,
        seconds,
        "one Decimal multiply-add per lot (bench/ledger.py:one_pass_value)",
        ref_seconds,
        repeat,
        note=f"{len(result.positions)} positions; total {result.total_value:.2f} USD",
    )

    for engine, new_url in urls:
        db = fresh_foliodb(new_url())
        try:
            db.import_fx(fx_csv)
            db.import_prices(prices_csv)
            db.import_transactions(PORTFOLIO, tx_csv)
            pack_id = db.create_pack(data.date).pack_id
            # Every call does the whole work: the valuation cache is off for this engine.
            valuation_service.configure_cache(db.engine, 0)
            cold, first = timed(lambda: db.valuation(PORTFOLIO, pack=pack_id))  # noqa: B023
            best, service = best_of(repeat, lambda: db.valuation(PORTFOLIO, pack=pack_id))  # noqa: B023
            valuation_service.configure_cache(db.engine, 1)
            db.valuation(PORTFOLIO, pack=pack_id)
            cached, _ = best_of(repeat, lambda: db.valuation(PORTFOLIO, pack=pack_id))  # noqa: B023
        finally:
            db.close()
        agree = service.valuation.total_value == result.total_value == first.valuation.total_value
        if not agree:
            log(
                f"WARNING: [{engine}] Database.valuation total {service.valuation.total_value} "
                f"!= value() total {result.total_value}"
            )
        emit(
            "Database.valuation",
            engine,
            "lots",
            n_lots,
            best,
            "valuation.value (domain only)",
            seconds,
            repeat,
            note=f"end to end, valuation cache off: load portfolio+pack, load "
            f"{len(data.rows)} transactions, replay, value; first call {cold:.3f}s; from the "
            f"valuation cache {cached * 1000:.2f} ms; total agrees with domain: {agree}",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=100_000,
        help="transactions to import and replay (default 100000)",
    )
    parser.add_argument("--quick", action="store_true", help="same as --rows 10000")
    parser.add_argument(
        "--lots",
        type=int,
        default=10_000,
        help="open lots in the valuation benchmark (default 10000)",
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each import (fresh databases each time); best is kept",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also time the import's stages and cProfile one import per engine (output on stderr)",
    )
    parser.add_argument("--profile-top", type=int, default=30)
    args = parser.parse_args(argv)
    rows = 10_000 if args.quick else args.rows
    if rows < 2:
        parser.error("--rows must be at least 2")

    log(
        f"foliodb bench: python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{rows} rows, seed {args.seed}"
    )
    with tempfile.TemporaryDirectory(prefix="foliodb-bench-") as tmpdir:
        tmp = Path(tmpdir)
        log("generating transactions ...")
        csv_path = write_csv(
            tmp / "transactions.csv", TRANSACTION_FIELDS, generate_ledger(rows, args.seed)
        )
        csv_path.read_bytes()  # warm the page cache for whoever reads first
        counter = iter(range(1_000_000))

        def sqlite_url() -> str:
            return f"sqlite:///{tmp}/foliodb-{next(counter)}.db"

        def raw_sqlite() -> int:
            return raw_sqlite_import(csv_path, tmp / f"plain-{next(counter)}.db")

        # 1. import, SQLite then PostgreSQL
        bench_import("sqlite", csv_path, rows, args.repeat, sqlite_url, raw_sqlite)
        if args.profile:
            stage_breakdown(sqlite_url(), csv_path, "sqlite")
            profile_import(sqlite_url(), csv_path, "sqlite", args.profile_top)

        with postgres(args.no_postgres, "bench/ledger.py") as pg:
            if isinstance(pg, str):
                log(f"skipping PostgreSQL: {pg}")
                emit("import_transactions", "postgresql", "transactions", rows, None, skipped=pg)
                valuation_urls = [("sqlite", sqlite_url)]
            else:
                raw_url = pg.new_database()
                bench_import(
                    "postgresql",
                    csv_path,
                    rows,
                    args.repeat,
                    pg.new_database,
                    lambda: raw_pg_import(csv_path, pg.conninfo(raw_url)),
                )
                if args.profile:
                    stage_breakdown(pg.new_database(), csv_path, "postgresql")
                    profile_import(pg.new_database(), csv_path, "postgresql", args.profile_top)
                valuation_urls = [("sqlite", sqlite_url), ("postgresql", pg.new_database)]

            # 2. parse and replay (pure Python)
            transactions = bench_parse(csv_path, rows, 3)
            bench_replay(transactions, 3)

            # 3. valuation of open lots: domain, then the full service path
            bench_valuation(ValuationData(args.lots, args.seed), tmp, 5, valuation_urls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
