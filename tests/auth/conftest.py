"""Fixtures of the sign-in and sharing tests.

Passwords are hashed with cheap argon2 parameters here (`auth.use_password_hasher`): the
production parameters cost ~0.1 s per hash by design, and these tests hash a few hundred
times. One test (test_users.py) checks the production parameters themselves.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from pydantic import SecretStr

import foliodb
from foliodb.config import Settings
from foliodb.services import auth
from foliodb.store.tables import AuditLogRow

PASSWORD = "correct horse battery staple"
SECRET = "k" * 64


@pytest.fixture(autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    with auth.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)):
        yield


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key=SecretStr(SECRET))


def make_user(db: foliodb.Database, email: str, role: str = "USER") -> auth.Principal:
    principal, _ = auth.create_user(db.engine, email, role, PASSWORD)
    return principal


def audit_entries(db: foliodb.Database) -> list[AuditLogRow]:
    with db.engine.connect() as connection:
        rows = connection.execute(sa.select(AuditLogRow).order_by(AuditLogRow.id)).all()
    return [AuditLogRow(**row._mapping) for row in rows]


@pytest.fixture
def sqlite_db(_sqlite_template: Path, tmp_path: Path) -> Iterator[foliodb.Database]:
    """A migrated SQLite database, for rules that do not depend on the engine (`db` runs a
    test on both engines)."""
    shutil.copyfile(_sqlite_template, tmp_path / "foliodb.db")
    with foliodb.connect(f"sqlite:///{tmp_path}/foliodb.db") as database:
        yield database


@pytest.fixture
def pg_db(pg_cluster: Any, _pg_template: str) -> Iterator[foliodb.Database]:
    """A migrated PostgreSQL database (for what exists on PostgreSQL only)."""
    name = pg_cluster.create_database(template=_pg_template)
    database = foliodb.connect(pg_cluster.url(name), create=True)
    try:
        yield database
    finally:
        database.close()
        pg_cluster.drop_database(name)


@pytest.fixture
def app_role(pg_db: foliodb.Database) -> Iterator[tuple[str, str]]:
    """A server role made by `create_app_role` on `pg_db`: its name and password. Roles
    belong to the whole server, so it is dropped afterwards."""
    name, password = f"foliodb_app_{uuid.uuid4().hex[:12]}", auth.generate_password()
    auth.create_app_role(pg_db.engine, name, password)
    try:
        yield name, password
    finally:
        with pg_db.engine.begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{name}"')
            connection.exec_driver_sql(f'DROP ROLE "{name}"')


@pytest.fixture
def app_db(pg_db: foliodb.Database, app_role: tuple[str, str]) -> Iterator[foliodb.Database]:
    """The same database, connected as the server's role."""
    name, password = app_role
    url = pg_db.engine.url.set(username=name, password=password)
    database = foliodb.connect(url.render_as_string(hide_password=False))
    try:
        yield database
    finally:
        database.close()
