#!/usr/bin/env python
"""REST server benchmark: `foliodb serve` (uvicorn, in a subprocess, on loopback) with the
demo data, driven by a bounded load generator.

    cd /work/main && .venv/bin/python bench/api.py                 # 2,000 requests each
    .venv/bin/python bench/api.py --requests 300 --no-postgres      # a quick look

For each engine (SQLite, then PostgreSQL from tests/pgcluster.py) the demo is loaded into a
fresh database, a server is started on it, and `--clients` concurrent clients (httpx, one
keep-alive connection each) send a fixed number of requests: first `GET /health` (what the
framework, the auth-free route and one database round trip cost: the ceiling on this
machine), then `GET /api/v1/portfolios/{id}/valuation` of the demo's largest portfolio,
signed in with an API key; then the same valuations from a server started with
FOLIODB_VALUATION_CACHE=0, which reads, replays and values the ledger for every request (as
the first request after each edit does). Every answer must be 200. On PostgreSQL the server
connects as an app role made for the run (not the tables' owner, no BYPASSRLS), as in
production: every transaction then starts with the requester's row-level security settings.

stdout gets one JSON object per measurement with the keys of bench/ledger.py plus latency
percentiles (`KEYS`): `rows` is the number of requests, `rows_per_s` requests per second,
`p50_ms`/`p99_ms` the latency percentiles; the valuation line carries /health as its
reference, and `ratio` is valuation's rate over /health's. Progress goes to stderr.

The load generator runs on the same machine as the server and takes CPU from it; the
figures are this machine's, loopback, one server process per `--workers`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "tests"))  # tests/pgcluster.py, appended so nothing shadows

import foliodb  # noqa: E402
from common import KEYS as COMMON_KEYS  # noqa: E402
from common import log, postgres  # noqa: E402
from foliodb.services import auth, demo, portfolios  # noqa: E402

#: bench/common.py's keys, then latency percentiles of the run and of its reference.
KEYS = (*COMMON_KEYS, "p50_ms", "p99_ms", "reference_p50_ms", "reference_p99_ms")
HEALTH = "GET /health"
VALUATION = "GET /api/v1/portfolios/{id}/valuation"
OWNER, PORTFOLIO = "alice@example.com", "Alice Growth"


# --- measurements ---------------------------------------------------------------------------
class Run:
    """The requests of one endpoint: wall time of the whole run and each one's latency."""

    def __init__(self, seconds: float, latencies: list[float]) -> None:
        self.seconds, self.latencies = seconds, sorted(latencies)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        index = max(0, min(len(self.latencies) - 1, round(p / 100 * len(self.latencies)) - 1))
        return self.latencies[index] * 1000


def emit(
    bench: str,
    engine: str,
    run: Run | None,
    reference: Run | None = None,
    note: str | None = None,
    skipped: str | None = None,
) -> None:
    """One JSON line on stdout (the keys of bench/ledger.py, plus latency percentiles)."""

    def rounded(value: float | None, places: int) -> float | None:
        return None if value is None else round(value, places)

    def of(measured: Run | None, figure: str) -> float | None:
        if measured is None:
            return None
        return {
            "seconds": measured.seconds,
            "rate": measured.rate,
            "p50": measured.percentile(50),
            "p99": measured.percentile(99),
        }[figure]

    line = {
        "bench": bench,
        "engine": engine,
        "unit": "requests",
        "rows": None if run is None else len(run.latencies),
        "seconds": rounded(of(run, "seconds"), 4),
        "rows_per_s": rounded(of(run, "rate"), 1),
        "reference": HEALTH if reference is not None else None,
        "reference_seconds": rounded(of(reference, "seconds"), 4),
        "reference_rows_per_s": rounded(of(reference, "rate"), 1),
        "ratio": rounded(run.rate / reference.rate, 4) if run and reference else None,
        "repeat": 1,
        "note": note,
        "skipped": skipped,
        "p50_ms": rounded(of(run, "p50"), 2),
        "p99_ms": rounded(of(run, "p99"), 2),
        "reference_p50_ms": rounded(of(reference, "p50"), 2),
        "reference_p99_ms": rounded(of(reference, "p99"), 2),
    }
    assert tuple(line) == KEYS
    print(json.dumps(line), flush=True)


async def _client(
    base: str, path: str, headers: dict[str, str], count: int, latencies: list[float]
) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code} {response.text[:300]}")


async def _load(base: str, path: str, headers: dict[str, str], requests: int, clients: int) -> Run:
    latencies: list[float] = []
    shares = [requests // clients + (i < requests % clients) for i in range(clients)]
    started = time.perf_counter()
    await asyncio.gather(*(_client(base, path, headers, n, latencies) for n in shares if n))
    return Run(time.perf_counter() - started, latencies)


def load(base: str, path: str, headers: dict[str, str], requests: int, clients: int) -> Run:
    """`requests` GETs of `path` from `clients` concurrent clients."""
    return asyncio.run(_load(base, path, headers, requests, clients))


# --- the server -----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(url: str, workers: int, valuation_cache: int = 256) -> Iterator[str]:
    """`foliodb serve`'s uvicorn on `url`'s database, in its own process group; its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "FOLIODB_DATABASE_URL": url,
        "FOLIODB_SECRET_KEY": secrets.token_urlsafe(48),
        "FOLIODB_LOG_LEVEL": "WARNING",
        "FOLIODB_VALUATION_CACHE": str(valuation_cache),
    }
    command = [
        sys.executable, "-m", "uvicorn", "foliodb.server:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start (exit {process.returncode})")
            time.sleep(0.2)
        yield base
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def prepare(url: str, directory: Path, seed: int) -> tuple[int, str]:
    """The demo loaded into `url`: the valued portfolio's id and an API key of its owner."""
    with foliodb.connect(url, create=True) as db:
        started = time.perf_counter()
        summary = demo.load(db.engine, directory, seed)
        log(f"  demo loaded in {time.perf_counter() - started:.1f}s: {summary.transactions} "
            f"transactions, {summary.packs_total} packs")  # fmt: skip
        owner = auth.get_user(db.engine, OWNER).principal
        _, key = auth.create_api_key(db.engine, owner, "bench")
        pid = portfolios.find_record(db.engine, OWNER, PORTFOLIO).id
    return pid, key


@contextmanager
def app_role(url: str) -> Iterator[str]:
    """PostgreSQL: the URL of a fresh app role (not the owner, no BYPASSRLS), as the server
    runs in production, dropped afterwards; SQLite: `url` itself."""
    if not url.startswith("postgresql"):
        yield url
        return
    from sqlalchemy.engine import make_url

    name, password = f"foliodb_bench_{secrets.token_hex(6)}", auth.generate_password()
    with foliodb.connect(url) as db:
        auth.create_app_role(db.engine, name, password)
    try:
        yield make_url(url).set(username=name, password=password).render_as_string(False)
    finally:
        with foliodb.connect(url) as db, db.engine.begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{name}"')
            connection.exec_driver_sql(f'DROP ROLE "{name}"')


def bench_engine(engine: str, url: str, directory: Path, args: argparse.Namespace) -> None:
    log(f"[{engine}] loading the demo ...")
    pid, key = prepare(url, directory, args.seed)
    headers = {"X-API-Key": key}
    valuation = f"/api/v1/portfolios/{pid}/valuation"
    warm = max(20, args.clients * 4)
    with app_role(url) as served:
        with server(served, args.workers) as base:
            load(base, "/health", {}, warm, args.clients)
            load(base, valuation, headers, warm, args.clients)
            log(f"[{engine}] {args.requests} x GET /health, {args.clients} clients ...")
            health = load(base, "/health", {}, args.requests, args.clients)
            log(f"[{engine}] {args.requests} x GET {valuation}, {args.clients} clients ...")
            valued = load(base, valuation, headers, args.requests, args.clients)
            body = httpx.get(f"{base}{valuation}", headers=headers, timeout=60).json()
        # The same requests with the valuation cache off: each one reads the ledger, replays
        # it and values it, as the first request after an edit does.
        with server(served, args.workers, valuation_cache=0) as base:
            load(base, valuation, headers, warm, args.clients)
            log(f"[{engine}] {args.requests} x GET {valuation}, no valuation cache ...")
            cold = load(base, valuation, headers, args.requests, args.clients)
    setting = f"{args.clients} clients, {args.workers} worker(s), loopback"
    if engine == "postgresql":
        setting += ", as the app role (row-level security on)"
    emit(HEALTH, engine, health, note=setting)
    what = f"{PORTFOLIO}: {len(body['positions'])} positions at {body['pack_id']}"
    emit(
        VALUATION,
        engine,
        valued,
        reference=health,
        note=f"{setting}; {what}; repeated: answered from the valuation cache",
    )
    emit(
        VALUATION + " (no cache)",
        engine,
        cold,
        reference=health,
        note=f"{setting}; {what}; FOLIODB_VALUATION_CACHE=0: replayed and valued every time",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per endpoint (2000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (1)")
    parser.add_argument("--seed", type=int, default=7, help="the demo's seed (7)")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    if args.requests < args.clients or args.clients < 1:
        parser.error("--requests must be at least --clients, which must be at least 1")
    with tempfile.TemporaryDirectory(prefix="foliodb-bench-api-") as folder:
        directory = Path(folder)
        bench_engine("sqlite", f"sqlite:///{directory}/demo.db", directory / "sqlite", args)
        with postgres(args.no_postgres, "bench/api.py") as pg:
            if isinstance(pg, str):
                emit(HEALTH, "postgresql", None, skipped=pg)
                emit(VALUATION, "postgresql", None, skipped=pg)
                emit(VALUATION + " (no cache)", "postgresql", None, skipped=pg)
            else:
                bench_engine("postgresql", pg.new_database(), directory / "postgresql", args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
