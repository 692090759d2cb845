"""What every benchmark script shares: the JSON line it prints per figure, its timers, and
the PostgreSQL server it measures on.

Scripts run as `python bench/NAME.py`, so this directory is on sys.path: `from common import`.
They put tests/ on sys.path too (appended) for tests/pgcluster.py.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

T = TypeVar("T")

#: The keys of every JSON line, in order (bench/README.md).
KEYS = (
    "bench",
    "engine",
    "unit",
    "rows",
    "seconds",
    "rows_per_s",
    "reference",
    "reference_seconds",
    "reference_rows_per_s",
    "ratio",
    "repeat",
    "note",
    "skipped",
)


def emit(
    bench: str,
    engine: str,
    unit: str,
    rows: int,
    seconds: float | None,
    reference: str | None = None,
    reference_seconds: float | None = None,
    repeat: int = 1,
    note: str | None = None,
    skipped: str | None = None,
) -> None:
    """One JSON line on stdout. Rates are rows per second; ratio = foliodb rate / reference
    rate (both processed the same `rows`)."""
    rate = rows / seconds if seconds else None
    ref_rate = rows / reference_seconds if reference_seconds else None
    line = {
        "bench": bench,
        "engine": engine,
        "unit": unit,
        "rows": rows,
        "seconds": None if seconds is None else round(seconds, 6),
        "rows_per_s": None if rate is None else round(rate, 1),
        "reference": reference,
        "reference_seconds": None if reference_seconds is None else round(reference_seconds, 6),
        "reference_rows_per_s": None if ref_rate is None else round(ref_rate, 1),
        "ratio": None if rate is None or ref_rate is None else round(rate / ref_rate, 4),
        "repeat": repeat,
        "note": note,
        "skipped": skipped,
    }
    assert tuple(line) == KEYS
    print(json.dumps(line), flush=True)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def best_of(n: int, fn: Callable[[], T]) -> tuple[float, T]:
    best, result = math.inf, None
    for _ in range(n):
        seconds, result = timed(fn)
        best = min(best, seconds)
    return best, result  # type: ignore[return-value]


def log(*parts: object) -> None:
    """Progress, on stderr (stdout holds only the JSON lines)."""
    print(*parts, file=sys.stderr, flush=True)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


class BenchPostgres:
    """The PostgreSQL server a bench runs on: the one at `$external_env`'s URL, or a private
    throwaway cluster (tests/pgcluster.py) with `settings` over the test cluster's."""

    def __init__(
        self,
        external_env: str = "FOLIODB_TEST_DATABASE_URL",
        settings: Mapping[str, str] | None = None,
    ) -> None:
        from pgcluster import PostgresCluster, PostgresServer  # type: ignore[import-not-found]

        external = os.environ.get(external_env)
        self.server: Any
        if external:
            self.server = PostgresServer(external)
            self.server.check()  # fail now, with the reason
        else:
            cluster = PostgresCluster()
            if settings:
                cluster.SETTINGS = {**PostgresCluster.SETTINGS, **settings}
            self.server = cluster.start()
        self.databases: list[str] = []

    def new_database(self) -> str:
        """The URL of a new, empty database, dropped by `close`."""
        name = self.server.create_database()
        self.databases.append(name)
        return str(self.server.url(name))

    @staticmethod
    def conninfo(url: str) -> dict[str, Any]:
        """psycopg's keyword arguments for `url`."""
        from sqlalchemy.engine import make_url

        u = make_url(url)
        info = {
            "host": u.host,
            "port": u.port,
            "user": u.username,
            "password": u.password,
            "dbname": u.database,
        }
        return {k: v for k, v in info.items() if v is not None}

    def close(self) -> None:
        for name in self.databases:
            with suppress(Exception):
                self.server.drop_database(name)
        self.server.stop()


@contextmanager
def postgres(
    disabled: bool,
    script: str,
    external_env: str = "FOLIODB_TEST_DATABASE_URL",
    settings: Mapping[str, str] | None = None,
) -> Iterator[BenchPostgres | str]:
    """A BenchPostgres, or the reason PostgreSQL is skipped (with CI=true a server that does
    not start ends the run instead)."""
    if disabled:
        yield "disabled with --no-postgres"
        return
    try:
        log("starting PostgreSQL (tests/pgcluster.py) ...")
        pg = BenchPostgres(external_env, settings)
    except Exception as exc:  # any failure to get a server is a skip reason
        reason = f"PostgreSQL is not available: {type(exc).__name__}: {exc}"
        if in_ci():
            raise SystemExit(f"{script}: CI=true and {reason}") from exc
        yield reason
        return
    try:
        yield pg
    finally:
        pg.close()
