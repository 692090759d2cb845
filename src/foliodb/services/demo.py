"""A deterministic, realistic demo data set: two users, USD and CAD portfolios, 15 securities in
USD, CAD and EUR, three years of daily prices and FX, a few hundred transactions."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, func, or_, select

from foliodb.domain import ledger
from foliodb.domain.types import BookingMethod, LedgerState, SplitRatio, Transaction, TxType
from foliodb.errors import ConflictError
from foliodb.ingest import csv_files
from foliodb.services import demo_market, portfolios, pricing
from foliodb.services import ledger as ledger_service
from foliodb.store import repos
from foliodb.store.tables import FxRateRow, PriceRow
from foliodb.store.uow import UnitOfWork

START = dt.date(2023, 1, 2)
END = dt.date(2025, 12, 31)

# symbol, name, type, currency, exchange, sector, country, first price, annual drift, vol, yield
UNIVERSE = [
    ("AAPL", "Apple Inc.", "EQUITY", "USD", "XNAS", "Technology", "US", 125, 0.20, 0.27, 0.005),
    (
        "MSFT",
        "Microsoft Corp.",
        "EQUITY",
        "USD",
        "XNAS",
        "Technology",
        "US",
        240,
        0.18,
        0.25,
        0.008,
    ),
    ("NVDA", "NVIDIA Corp.", "EQUITY", "USD", "XNAS", "Technology", "US", 146, 0.45, 0.50, 0.001),
    (
        "JNJ",
        "Johnson & Johnson",
        "EQUITY",
        "USD",
        "XNYS",
        "Health Care",
        "US",
        176,
        0.02,
        0.16,
        0.029,
    ),
    ("XOM", "Exxon Mobil Corp.", "EQUITY", "USD", "XNYS", "Energy", "US", 110, 0.04, 0.24, 0.034),
    (
        "VTI",
        "Vanguard Total Stock Market ETF",
        "ETF",
        "USD",
        "XNYS",
        "Broad Market",
        "US",
        191,
        0.12,
        0.17,
        0.014,
    ),
    (
        "BND",
        "Vanguard Total Bond Market ETF",
        "FUND",
        "USD",
        "XNAS",
        "Fixed Income",
        "US",
        72,
        0.01,
        0.06,
        0.034,
    ),
    (
        "RY.TO",
        "Royal Bank of Canada",
        "EQUITY",
        "CAD",
        "XTSE",
        "Financials",
        "CA",
        128,
        0.08,
        0.18,
        0.040,
    ),
    ("SHOP.TO", "Shopify Inc.", "EQUITY", "CAD", "XTSE", "Technology", "CA", 47, 0.30, 0.55, 0.0),
    ("ENB.TO", "Enbridge Inc.", "EQUITY", "CAD", "XTSE", "Energy", "CA", 53, 0.03, 0.17, 0.068),
    (
        "CNR.TO",
        "Canadian National Railway",
        "EQUITY",
        "CAD",
        "XTSE",
        "Industrials",
        "CA",
        161,
        0.03,
        0.18,
        0.020,
    ),
    (
        "XIU.TO",
        "iShares S&P/TSX 60 ETF",
        "ETF",
        "CAD",
        "XTSE",
        "Broad Market",
        "CA",
        30,
        0.08,
        0.14,
        0.030,
    ),
    (
        "ASML.AS",
        "ASML Holding",
        "EQUITY",
        "EUR",
        "XAMS",
        "Technology",
        "NL",
        510,
        0.15,
        0.35,
        0.009,
    ),
    ("SAP.DE", "SAP SE", "EQUITY", "EUR", "XETR", "Technology", "DE", 97, 0.25, 0.24, 0.012),
    (
        "MC.PA",
        "LVMH",
        "EQUITY",
        "EUR",
        "XPAR",
        "Consumer Discretionary",
        "FR",
        680,
        0.02,
        0.28,
        0.018,
    ),
]
SPLIT = ("NVDA", dt.date(2024, 6, 10), Decimal(2))  # a 2:1 split, prices halve that day

TX_HEADER = list(csv_files.TRANSACTION_FIELDS)


@dataclass(frozen=True)
class DemoPortfolio:
    name: str
    owner: str
    base_currency: str
    booking_method: str
    cash_currency: str
    symbols: tuple[str, ...]
    monthly_deposit: int


PORTFOLIOS = (
    DemoPortfolio(
        "Alice Growth",
        "alice@example.com",
        "USD",
        "FIFO",
        "USD",
        ("AAPL", "MSFT", "NVDA", "JNJ", "XOM", "VTI", "BND", "ASML.AS", "SAP.DE", "SHOP.TO"),
        6000,
    ),
    DemoPortfolio(
        "Bob RRSP",
        "bob@example.com",
        "CAD",
        "AVERAGE",
        "CAD",
        ("RY.TO", "SHOP.TO", "ENB.TO", "CNR.TO", "XIU.TO", "VTI", "MC.PA", "BND"),
        4000,
    ),
)


@dataclass(frozen=True)
class DemoSummary:
    directory: Path
    portfolios: tuple[str, ...]
    transactions: int
    prices: int
    fx_rates: int
    packs_created: int
    packs_total: int
    latest_pack: str | None
    market: demo_market.MarketSummary | None = None


def trading_days(start: dt.date = START, end: dt.date = END) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        if (
            day.weekday() < 5
            and not (day.month == 1 and day.day == 1)
            and not (day.month == 12 and day.day == 25)
        ):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _money(value: float, places: str = "0.01") -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places))


def generate_market(
    rng: random.Random, days: list[dt.date]
) -> tuple[dict[str, dict[dt.date, Decimal]], list[tuple[dt.date, str, str, Decimal]]]:
    """Daily closes (geometric Brownian motion, split-adjusted on the split date) and FX."""
    prices: dict[str, dict[dt.date, Decimal]] = {}
    step = 1 / 252
    for symbol, *_, first, drift, vol, _yield in UNIVERSE:
        level = float(first)
        series = {}
        for day in days:
            shock = rng.gauss(0.0, 1.0)
            level *= math.exp((drift - vol * vol / 2) * step + vol * math.sqrt(step) * shock)
            if symbol == SPLIT[0] and day == SPLIT[1]:
                level /= float(SPLIT[2])
            series[day] = _money(level)
        prices[symbol] = series
    fx: list[tuple[dt.date, str, str, Decimal]] = []
    usdcad, eurusd = 1.3550, 1.0660
    for day in days:
        usdcad *= math.exp(rng.gauss(0.0, 0.0045))
        eurusd *= math.exp(rng.gauss(0.0, 0.0050))
        fx.append((day, "USD", "CAD", _money(usdcad, "0.0001")))
        fx.append((day, "EUR", "USD", _money(eurusd, "0.0001")))
    return prices, fx


class _Book:
    """Builds one portfolio's transaction rows and keeps a replayable copy to stay valid."""

    def __init__(self, spec: DemoPortfolio) -> None:
        self.spec = spec
        self.rows: list[dict[str, str]] = []
        self.txs: list[Transaction] = []
        self.currency = {u[0]: u[3] for u in UNIVERSE}

    def add(self, day: dt.date, kind: TxType, currency: str, **fields: object) -> str:
        ext = f"{self.spec.name.split()[0][:3].upper()}-{len(self.rows) + 1:04d}"
        row = dict.fromkeys(TX_HEADER, "")
        row.update(
            external_id=ext,
            trade_date=day.isoformat(),
            type=kind.value,
            currency=currency,
            account=f"{self.spec.owner.split('@')[0]}-broker",
        )
        for key, value in fields.items():
            row[key] = ";".join(value) if isinstance(value, tuple) else str(value)
        self.rows.append(row)
        as_decimal = {
            k: Decimal(str(v))
            for k, v in fields.items()
            if k in ("quantity", "price", "amount", "fee", "counter_amount")
        }
        self.txs.append(
            Transaction(
                tx_id=ext,
                trade_date=day,
                type=kind,
                currency=currency,
                symbol=fields.get("symbol"),  # type: ignore[arg-type]
                method=BookingMethod(str(fields["method"])) if "method" in fields else None,
                lot_ids=fields.get("lot_ids", ()),  # type: ignore[arg-type]
                counter_currency=fields.get("counter_currency"),  # type: ignore[arg-type]
                ratio=SplitRatio.from_text(str(fields["ratio"])) if "ratio" in fields else None,
                **as_decimal,  # type: ignore[arg-type]
            )
        )
        return ext

    def cash(self, currency: str) -> Decimal:
        return next((c.balance for c in self.state().cash if c.currency == currency), Decimal(0))

    def state(self) -> LedgerState:
        return ledger.replay(self.txs, BookingMethod(self.spec.booking_method))


def generate_transactions(
    rng: random.Random,
    spec: DemoPortfolio,
    days: list[dt.date],
    prices: dict[str, dict[dt.date, Decimal]],
    fx: dict[tuple[dt.date, str, str], Decimal],
) -> list[dict[str, str]]:
    book = _Book(spec)
    yields = {u[0]: u[10] for u in UNIVERSE}
    cash = spec.cash_currency
    book.add(days[0], TxType.DEPOSIT, cash, amount=spec.monthly_deposit * 10)
    special_sells = [
        BookingMethod.FIFO,
        BookingMethod.LIFO,
        BookingMethod.HIFO,
        BookingMethod.AVERAGE,
        BookingMethod.SPECIFIC,
    ]
    last_month = days[0].month
    for i, day in enumerate(days):
        new_month = day.month != last_month
        last_month = day.month
        usdcad, eurusd = float(fx[(day, "USD", "CAD")]), float(fx[(day, "EUR", "USD")])
        if new_month:
            book.add(day, TxType.DEPOSIT, cash, amount=spec.monthly_deposit)
            book.add(day, TxType.FEE, cash, amount="9.95", note="monthly account fee")
            if day.month in (3, 6, 9, 12):
                state = book.state()
                for symbol, qty in sorted(ledger.positions(state).items()):
                    if yields[symbol] > 0 and qty > 0:
                        amount = _money(float(qty * prices[symbol][day]) * yields[symbol] / 4)
                        if amount > 0:
                            book.add(
                                day,
                                TxType.DIVIDEND,
                                book.currency[symbol],
                                symbol=symbol,
                                amount=amount,
                                note="quarterly dividend",
                            )
                            if book.currency[symbol] != spec.base_currency:
                                book.add(
                                    day,
                                    TxType.TAX,
                                    book.currency[symbol],
                                    amount=_money(float(amount) * 0.15),
                                    note="withholding tax",
                                    symbol=symbol,
                                )
        if rng.random() < 0.16:
            symbol = rng.choice(spec.symbols)
            price = prices[symbol][day]
            currency = book.currency[symbol]
            available = float(book.cash(currency)) - 500  # keep a small buffer
            shares = int(min(rng.uniform(1500, 5000), available) / float(price))
            if shares >= 1:
                fee = "4.95" if currency != "USD" else "1.00"
                book.add(
                    day,
                    TxType.BUY,
                    currency,
                    symbol=symbol,
                    quantity=shares,
                    price=price,
                    fee=fee,
                )
        if i > 120 and rng.random() < 0.035:
            state = book.state()
            held = {s: q for s, q in ledger.positions(state).items() if q > 0}
            if held:
                symbol = rng.choice(sorted(held))
                method = special_sells.pop(0) if special_sells else None
                open_lots = [lot for lot in state.lots if lot.symbol == symbol]
                fields: dict[str, object] = {}
                if method is BookingMethod.SPECIFIC:
                    lot = open_lots[-1]
                    quantity = max(Decimal(1), (lot.open_quantity / 2).to_integral_value())
                    fields.update(method=method.value, lot_ids=(lot.lot_id,))
                else:
                    quantity = max(Decimal(1), (held[symbol] * Decimal("0.3")).to_integral_value())
                    if method is not None:
                        fields["method"] = method.value
                book.add(
                    day,
                    TxType.SELL,
                    book.currency[symbol],
                    symbol=symbol,
                    quantity=quantity,
                    price=prices[symbol][day],
                    fee="4.95",
                    **fields,
                )
        if day == SPLIT[1] and SPLIT[0] in spec.symbols:
            book.add(
                day,
                TxType.SPLIT,
                book.currency[SPLIT[0]],
                symbol=SPLIT[0],
                ratio=SPLIT[2],
                note="2-for-1 stock split",
            )
        if new_month and day.month == 7 and book.cash(cash) > spec.monthly_deposit * 3:
            book.add(
                day,
                TxType.WITHDRAWAL,
                cash,
                amount=spec.monthly_deposit * 2,
                note="summer withdrawal",
            )
        if new_month:
            # Fund the foreign-currency side of the account when it runs low.
            for other in sorted({book.currency[s] for s in spec.symbols} - {cash}):
                if book.cash(other) > 2500 or book.cash(cash) < 12000:
                    continue
                rate = {
                    ("USD", "CAD"): usdcad,
                    ("CAD", "USD"): 1 / usdcad,
                    ("USD", "EUR"): 1 / eurusd,
                    ("CAD", "EUR"): 1 / (usdcad * eurusd),
                }
                funding = 6000.0
                book.add(
                    day,
                    TxType.FX_CONVERSION,
                    cash,
                    amount=funding,
                    fee="7.50",
                    counter_currency=other,
                    counter_amount=_money(funding * rate[(cash, other)] * 0.995),
                )
    return book.rows


def write_files(directory: Path, seed: int = 7) -> dict[str, Path]:
    """Write the demo's CSV files (the same formats users import) and return their paths."""
    rng = random.Random(seed)
    days = trading_days()
    prices, fx = generate_market(rng, days)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "securities": directory / "securities.csv",
        "prices": directory / "prices.csv",
        "fx": directory / "fx.csv",
    }
    with files["securities"].open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_files.SECURITY_FIELDS)
        for symbol, name, kind, currency, exchange, sector, country, *_ in UNIVERSE:
            writer.writerow([symbol, currency, name, kind, exchange, sector, country])
    with files["prices"].open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_files.PRICE_FIELDS)
        currency_of = {u[0]: u[3] for u in UNIVERSE}
        for symbol, series in prices.items():
            for day, price in series.items():
                writer.writerow([symbol, day.isoformat(), price, currency_of[symbol], "demo"])
    with files["fx"].open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_files.FX_FIELDS)
        for day, base, quote, rate in fx:
            writer.writerow([day.isoformat(), base, quote, rate, "demo"])
    for spec in PORTFOLIOS:
        path = directory / f"transactions-{spec.owner.split('@')[0]}.csv"
        with path.open("w", newline="") as f:
            tx_writer = csv.DictWriter(f, fieldnames=TX_HEADER)
            tx_writer.writeheader()
            rates = {(day, base, quote): rate for day, base, quote, rate in fx}
            tx_writer.writerows(generate_transactions(rng, spec, days, prices, rates))
        files[spec.name] = path
    return files


def _check_target(engine: Engine, files: dict[str, Path], seed: int) -> None:
    """The demo goes only into an empty database or one holding this same demo: it must never
    overwrite a user's prices or mix with their portfolios, nor half-apply another seed."""
    demo_portfolios = {(spec.owner, spec.name) for spec in PORTFOLIOS}
    with UnitOfWork(engine) as uow:
        session = uow.session
        others = sorted(
            f"{row.name!r} ({owner})"
            for row, owner in repos.list_portfolios(session)
            if (owner, row.name) not in demo_portfolios
        )
        foreign = session.scalar(
            select(func.count())
            .select_from(PriceRow)
            .where(or_(PriceRow.source.is_(None), PriceRow.source != "demo"))
        ) or session.scalar(
            select(func.count())
            .select_from(FxRateRow)
            .where(or_(FxRateRow.source.is_(None), FxRateRow.source != "demo"))
        )
        changed = 0
        for spec in PORTFOLIOS:
            owned = [
                row
                for row, owner in repos.list_portfolios(session)
                if (owner, row.name) == (spec.owner, spec.name)
            ]
            if owned:
                stored = repos.transaction_hashes(session, owned[0].id)
                changed += sum(
                    1
                    for p in csv_files.parse_transactions(files[spec.name])
                    if stored.get(p.transaction.tx_id, p.content_hash) != p.content_hash
                )
    where = engine.url.render_as_string(hide_password=True)
    if others or foreign:
        held = f"portfolios {', '.join(others)}" if others else "prices or FX rates of its own"
        raise ConflictError(
            f"{where} holds {held}; the demo loads only into a new database or an earlier "
            f"demo: pass --db with a new file"
        )
    if changed:
        raise ConflictError(
            f"{where} holds the demo made with another seed ({changed} transactions differ "
            f"from seed {seed}); nothing was loaded: pass --db with a new file"
        )


def load(
    engine: Engine, directory: Path, seed: int = 7, progress: Callable[[str], None] | None = None
) -> DemoSummary:
    """Write and import the demo files, then seal a pack for every trading day. Running it
    again changes nothing: every import and pack is idempotent."""
    say = progress or (lambda _message: None)
    files = write_files(directory, seed)
    _check_target(engine, files, seed)
    say("importing securities, prices and FX rates")
    pricing.import_securities(engine, files["securities"])
    n_prices = pricing.import_prices(engine, files["prices"], source="demo").rows
    n_fx = pricing.import_fx(engine, files["fx"], source="demo").rows
    n_tx = 0
    for spec in PORTFOLIOS:
        say(f"importing {spec.name}'s transactions")
        # Already there after an earlier run; the import below then adds nothing.
        with contextlib.suppress(ConflictError):
            portfolios.create_portfolio(
                engine, spec.name, spec.base_currency, spec.booking_method, owner=spec.owner
            )
        n_tx += ledger_service.import_transactions(engine, spec.name, files[spec.name]).rows
    sealed = {p.date for p in pricing.list_packs(engine) if p.status == "COMPLETE"}
    days = [d for d in trading_days() if d not in sealed]
    say(f"sealing {len(days)} daily pricing packs")
    created = 0
    for day in days:
        result = pricing.create_pack(engine, day)
        created += result.created
    say("loading calendars, minute bars, economic series, news and events")
    closes, _ = generate_market(random.Random(seed), trading_days())  # as write_files made them
    market = demo_market.load(engine, directory, closes, seed)
    packs = pricing.list_packs(engine)
    return DemoSummary(
        directory,
        tuple(p.name for p in PORTFOLIOS),
        n_tx,
        n_prices,
        n_fx,
        created,
        len(packs),
        packs[0].pack_id if packs else None,
        market,
    )
