"""Fixtures of the server tests: the app on the `db` of tests/conftest.py (SQLite, then
PostgreSQL), and a small world of users and resources to try it with.

Passwords are hashed with cheap argon2 parameters here (`auth.use_password_hasher`).
Requests carry API keys (one per user), which cost no password check; the token routes have
their own tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

import foliodb
from foliodb.config import Settings
from foliodb.server import create_app
from foliodb.services import accounts, auth, portfolios, transactions
from tests.builders import CsvFiles
from tests.pgcluster import PostgresServer

with warnings.catch_warnings():  # starlette's TestClient warns about httpx on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["PASSWORD", "SECRET_KEY", "SQLITE_ONLY", "TestClient", "World", "build_world"]

SECRET_KEY = "server-tests-" + "k" * 40
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    with auth.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)):
        yield


@pytest.fixture
def files(tmp_path: Path) -> CsvFiles:
    return CsvFiles(tmp_path)


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key=SECRET_KEY, database_url=None)


@dataclass
class World:
    """Alice (USER) owns portfolio `pid` (a deposit, a buy of AAPL, an account, two sealed
    packs) and an API key; Rita (USER, read grant), Vera (VIEWER, write grant, so read) and
    Gina (USER, read grant) share it; the Bobs (MANAGER, USER, VIEWER) have no grant and
    their own portfolio each (but Bob the VIEWER); Ada is ADMIN. Everyone has an API key."""

    db: foliodb.Database
    client: TestClient
    users: dict[str, auth.Principal] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, int] = field(default_factory=dict)
    portfolios: dict[str, int] = field(default_factory=dict)
    pid: int = 0
    tx_id: str = "buy-1"
    account_id: int = 0
    #: What a test carries from one request to the next (a refresh token, a key, an answer).
    refresh_token: str = ""
    spare_key: int = 0
    last: Any = None

    def headers(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who], "User-Agent": f"tests/{who}"}

    def get(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.headers(who), **kwargs)

    def post(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, headers=self.headers(who), **kwargs)

    def patch(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.patch(url, headers=self.headers(who), **kwargs)

    def delete(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.delete(url, headers=self.headers(who), **kwargs)


ROLES = {
    "ada": "ADMIN",
    "alice": "USER",
    "bob_manager": "MANAGER",
    "bob_user": "USER",
    "bob_viewer": "VIEWER",
    "rita": "USER",
    "vera": "VIEWER",
    "gina": "USER",
}


def build_world(db: foliodb.Database, directory: Path) -> World:
    """The world's rows in `db` (a client is attached per test)."""
    engine = db.engine
    files = CsvFiles(directory)
    world = World(db, client=None)  # type: ignore[arg-type]
    for name, role in ROLES.items():
        principal, _ = auth.create_user(engine, f"{name}@example.com", role, PASSWORD)
        world.users[name] = principal
        info, secret = auth.create_api_key(engine, principal, f"{name}'s key")
        world.keys[name], world.key_ids[name] = secret, info.id
    db.import_securities(files.securities([{"symbol": "AAPL", "currency": "USD"}]))
    db.import_prices(
        files.prices(
            [
                {"symbol": "AAPL", "date": "2024-01-02", "price": "100", "currency": "USD"},
                {"symbol": "AAPL", "date": "2024-01-03", "price": "110", "currency": "USD"},
            ]
        )
    )
    for day in ("2024-01-02", "2024-01-03"):
        db.create_pack(day)
    for name in ("alice", "bob_manager", "bob_user"):
        owner = f"{name}@example.com"
        db.create_portfolio(f"{name}'s", owner=owner)
        world.portfolios[name] = portfolios.find_record(engine, owner, f"{name}'s").id
    world.pid = pid = world.portfolios["alice"]
    transactions.add_transaction(
        engine,
        pid,
        {"trade_date": "2024-01-02", "type": "DEPOSIT", "amount": "10000", "currency": "USD"},
    )
    transactions.add_transaction(
        engine,
        pid,
        {
            "external_id": "buy-1",
            "trade_date": "2024-01-02",
            "type": "BUY",
            "symbol": "AAPL",
            "quantity": "10",
            "price": "100",
            "currency": "USD",
            "account": "broker-1",
        },
    )
    world.account_id = accounts.list_accounts(engine, pid)[0].id
    alice = world.users["alice"]
    for name, scope in (("rita", "read"), ("vera", "write"), ("gina", "read")):
        auth.grant(engine, alice, pid, f"{name}@example.com", scope)
    return world


# The world is built once per engine and copied for each test (an SQLite file copy, a
# PostgreSQL TEMPLATE), like the `db` fixture's migrated databases.
@pytest.fixture(scope="session")
def _sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    directory = tmp_path_factory.mktemp("world")
    with foliodb.connect(f"sqlite:///{directory}/world.db", create=True) as db:
        return directory / "world.db", build_world(db, directory)


@pytest.fixture(scope="session")
def _pg_world(
    pg_cluster: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, World]:
    name = pg_cluster.create_database()
    with foliodb.connect(pg_cluster.url(name), create=True) as db:
        return name, build_world(db, tmp_path_factory.mktemp("pg-world"))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def world_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, World]]:
    """A copy of the world's database (SQLite, then PostgreSQL) and what is in it."""
    if request.param == "sqlite":
        template, built = request.getfixturevalue("_sqlite_world")
        shutil.copyfile(template, tmp_path / "world.db")
        yield f"sqlite:///{tmp_path}/world.db", built
        return
    server: PostgresServer = request.getfixturevalue("pg_cluster")
    template_name, built = request.getfixturevalue("_pg_world")
    name = server.create_database(template=template_name)
    try:
        yield server.url(name), built
    finally:
        server.drop_database(name)


@pytest.fixture
def world(world_url: tuple[str, World], settings: Settings) -> Iterator[World]:
    url, built = world_url
    with foliodb.connect(url) as db:
        client = TestClient(create_app(db, settings), raise_server_exceptions=False)
        with client:
            yield dataclasses.replace(built, db=db, client=client)


#: Runs a test on SQLite only (what it checks does not depend on the engine).
SQLITE_ONLY = pytest.mark.parametrize("world_url", ["sqlite"], indirect=True)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
