"""Daily-history benchmark: one portfolio, 10 years of daily sealed packs, 1,000 transactions.

    .venv/bin/python bench/history.py [--years 10] [--transactions 1000]

Times `services.history.refresh_history` (replay to every pack date, value, store) on SQLite,
next to the same computation done in memory by the domain alone (`replay_snapshots` and
`valuation.value` over the same packs) in the same run. One JSON line per figure on stdout.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import foliodb
from foliodb.domain import ledger, valuation
from foliodb.ingest import csv_files
from foliodb.services import history
from foliodb.store import repos
from foliodb.store.uow import UnitOfWork


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def weekdays(years: int) -> list[dt.date]:
    start = dt.date(2016, 1, 4)
    days = [start + dt.timedelta(days=i) for i in range(int(years * 365.25))]
    return [d for d in days if d.weekday() < 5]


def write_inputs(directory: Path, years: int, n_tx: int, seed: int) -> tuple[Path, Path, Path]:
    rng = random.Random(seed)
    days = weekdays(years)
    symbols = [f"S{i:02d}" for i in range(20)]
    level = {s: 50 + 100 * rng.random() for s in symbols}
    prices = directory / "prices.csv"
    with prices.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(csv_files.PRICE_FIELDS)
        for day in days:
            for s in symbols:
                level[s] *= 1 + rng.gauss(0.0003, 0.012)
                w.writerow([s, day.isoformat(), f"{level[s]:.2f}", "USD", "bench"])
    fx = directory / "fx.csv"
    with fx.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(csv_files.FX_FIELDS)
        for day in days:
            w.writerow([day.isoformat(), "EUR", "USD", "1.10", "bench"])
    tx = directory / "transactions.csv"
    held: dict[str, int] = {}
    with tx.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=csv_files.TRANSACTION_FIELDS)
        w.writeheader()
        w.writerow(
            {
                "external_id": "D0",
                "trade_date": days[0].isoformat(),
                "type": "DEPOSIT",
                "amount": "10000000",
                "currency": "USD",
            }
        )
        trade_days = sorted(rng.sample(days, n_tx - 1))
        for i, day in enumerate(trade_days, start=1):
            s = rng.choice(symbols)
            if held.get(s, 0) > 10 and rng.random() < 0.4:
                q = rng.randint(1, held[s] // 2)
                held[s] -= q
                kind = "SELL"
            else:
                q = rng.randint(10, 100)
                held[s] = held.get(s, 0) + q
                kind = "BUY"
            w.writerow(
                {
                    "external_id": f"T{i:05d}",
                    "trade_date": day.isoformat(),
                    "type": kind,
                    "symbol": s,
                    "quantity": q,
                    "price": "100",
                    "currency": "USD",
                }
            )
    return prices, fx, tx


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--transactions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        prices, fx, tx = write_inputs(directory, args.years, args.transactions, args.seed)
        db = foliodb.connect(f"sqlite:///{directory}/bench.db", create=True)
        db.create_portfolio("Bench")
        db.import_prices(prices)
        db.import_fx(fx)
        db.import_transactions("Bench", tx)
        days = weekdays(args.years)
        log(f"sealing {len(days)} packs ...")
        for day in days:
            db.create_pack(day)
        started = time.perf_counter()
        computed = history.refresh_history(db.engine, "Bench")
        ours = time.perf_counter() - started
        # Reference: the same replay and valuations in memory, packs already loaded.
        with UnitOfWork(db.engine) as uow:
            row = repos.load_portfolio(uow.session, "Bench")
            transactions = repos.list_transactions(uow.session, row.id)
            packs = [repos.load_pack(uow.session, f"PP_{d.isoformat()}") for d in days]
        started = time.perf_counter()
        total = Decimal(0)
        for (_, state), pack in zip(
            ledger.replay_snapshots(transactions, days), packs, strict=True
        ):
            total = valuation.value("Bench", "USD", state, pack).total_value
        reference = time.perf_counter() - started
        stored = db.daily_values("Bench").days
        agree = stored[-1].nav == total
        db.close()
    print(
        json.dumps(
            {
                "bench": "history.refresh",
                "engine": "sqlite",
                "unit": "days",
                "rows": computed,
                "seconds": round(ours, 6),
                "rows_per_s": round(computed / ours, 1),
                "reference": "replay_snapshots + valuation.value in memory, packs preloaded",
                "reference_seconds": round(reference, 6),
                "reference_rows_per_s": round(computed / reference, 1),
                "ratio": round(reference / ours, 4),
                "repeat": 1,
                "note": f"{args.years} years of daily packs, {args.transactions} transactions, 20 "
                f"securities; last NAV agrees: {agree}",
                "skipped": None,
            }
        )
    )
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
