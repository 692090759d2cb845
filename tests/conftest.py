"""Shared fixtures: every storage test runs against a real SQLite and a real PostgreSQL.

Fixtures
--------
``pg_cluster`` (session)
    The PostgreSQL server for this run. With ``FOLIODB_TEST_DATABASE_URL`` set
    (any SQLAlchemy PostgreSQL URL) that server is used and per-test databases are
    created/dropped on it through its ``postgres`` maintenance database; otherwise a
    private throwaway server is started (see ``tests/pgcluster.py``), once per run and
    only if some selected test needs PostgreSQL. If PostgreSQL cannot be had, the
    PostgreSQL tests are skipped with the reason, or, when ``CI=true``, they fail.

``db_url`` (function, params ``sqlite`` / ``postgresql``)
    URL of a brand-new, empty database; every test using it runs once per engine.
    The ``postgresql`` run carries the ``postgresql`` marker.

``db`` (function, both engines)
    A ``foliodb.Database`` connected to ``db_url`` and migrated to the current schema.

``sqlite_url`` / ``pg_url`` (function)
    Same, for tests that need one engine only. Tests using ``pg_url`` or
    ``pg_cluster`` get the ``postgresql`` marker automatically, so
    ``-m "not postgresql"`` runs everything that needs no PostgreSQL server.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import foliodb

try:  # tests/ is a package (tests/__init__.py)
    from .pgcluster import PostgresCluster, PostgresError, PostgresServer
except ImportError:  # it is not: import pgcluster from beside this file
    sys.path.insert(0, str(Path(__file__).parent))
    from pgcluster import (  # type: ignore[no-redef,import-not-found,unused-ignore]
        PostgresCluster,
        PostgresError,
        PostgresServer,
    )


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this test run (external, or a private throwaway one)."""
    external = os.environ.get("FOLIODB_TEST_DATABASE_URL")
    server: PostgresServer
    try:
        if external:
            server = PostgresServer(external)
            server.check()  # connect now, so a bad URL fails here with the reason
        else:
            server = PostgresCluster().start()
    except PostgresError as exc:
        reason = f"PostgreSQL is not available: {exc}"
        if _ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


def _fresh_pg_database(request: pytest.FixtureRequest, migrated: bool = False) -> Iterator[str]:
    server: PostgresServer = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("_pg_template") if migrated else None
    name = server.create_database(template=template)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/foliodb.db"


@pytest.fixture(scope="session")
def _pg_template(pg_cluster: PostgresServer) -> str:
    """A database migrated to the head once per run; `db` tests get copies of it."""
    name = pg_cluster.create_database()
    foliodb.connect(pg_cluster.url(name), create=True).close()
    return name


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to the head once per run; `db` tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "foliodb.db"
    foliodb.connect(f"sqlite:///{path}", create=True).close()  # closing checkpoints the WAL
    return path


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a brand-new empty database, once per engine (when the test also uses `db`: a
    copy of a database migrated once per run, which `db` then finds at the head)."""
    migrated = "db" in request.fixturenames
    if request.param == "sqlite":
        # No pg_cluster here: SQLite runs never start (or wait for) PostgreSQL.
        if migrated:
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), tmp_path / "foliodb.db")
        yield _sqlite_url(tmp_path)
    else:
        yield from _fresh_pg_database(request, migrated)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a brand-new empty SQLite database file in the test's tmp_path."""
    return _sqlite_url(tmp_path)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a brand-new empty PostgreSQL database, dropped after the test."""
    yield from _fresh_pg_database(request)


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Marks can't ride on a non-parametrized fixture: tag its users here instead.
    for item in items:
        names = getattr(item, "fixturenames", ())
        if ("pg_url" in names or "pg_cluster" in names) and not item.get_closest_marker(
            "postgresql"
        ):
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture
def db(db_url: str) -> Iterator[foliodb.Database]:
    """A brand-new database at the current schema (SQLite, then PostgreSQL)."""
    database = foliodb.connect(db_url, create=True)
    try:
        yield database
    finally:
        database.close()
