"""PostgreSQL row-level security: the principal each transaction acts as, and the database
role the server logs in with (docs/security.md)."""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from foliodb.errors import ConflictError, InputError, InputProblem
from foliodb.services.auth.passwords import check_password
from foliodb.services.auth.principals import Principal
from foliodb.store import repos
from foliodb.store.repos import auth as auth_repo
from foliodb.store.uow import UnitOfWork

_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def set_rls_context(connection: Connection | Session, principal: Principal | None) -> None:
    """Make the current transaction act as `principal` for row-level security (None: as
    nobody, seeing nothing). Transaction-local: it ends with the transaction. SQLite: no-op."""
    if principal is None:
        auth_repo.set_rls_context(connection, None, "")
    else:
        auth_repo.set_rls_context(connection, principal.user_id, principal.role.value)


_acting_as: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "foliodb_acting_as", default=None
)


@contextlib.contextmanager
def acting_as(principal: Principal) -> Iterator[None]:
    """Inside the block, every transaction on an engine prepared by `bind_rls_context` acts
    as `principal` (the server wraps each request's service calls in it)."""
    token = _acting_as.set(principal)
    try:
        yield
    finally:
        _acting_as.reset(token)


def bind_rls_context(engine: Engine) -> None:
    """Start every transaction of `engine` with the row-level security settings of the
    principal of the enclosing `acting_as` block (outside one: nobody, who sees nothing)."""
    if engine.dialect.name != "postgresql" or event.contains(engine, "begin", _begin):
        return
    event.listen(engine, "begin", _begin)


def _begin(connection: Connection) -> None:
    principal = _acting_as.get()
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('foliodb.user_id', %s, true), "
            "set_config('foliodb.user_role', %s, true)",
            ("", "") if principal is None else (str(principal.user_id), principal.role.value),
        )


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def app_role_sql(name: str, schema: str = "public") -> list[str]:
    """SQL creating the server's database role: it logs in, uses the tables, does not own
    them and does not bypass row-level security; it cannot rewrite the audit trail or the
    schema version. Run it as the tables' owner (grants on tables made later follow)."""
    if not _ROLE_NAME.fullmatch(name):
        raise InputError(
            InputProblem(
                "is not a role name",
                field="name",
                value=name,
                expected="lower-case letters, digits and _, starting with a letter or _",
            )
        )
    role, where = _quote_identifier(name), _quote_identifier(schema)
    return [
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        f"GRANT USAGE ON SCHEMA {where} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {where} TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON {where}.alembic_version FROM {role}",
        f"REVOKE UPDATE, DELETE ON {where}.audit_log FROM {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]


def create_app_role(engine: Engine, name: str, password: str | None = None) -> None:
    """Create the server's database role (`app_role_sql`) with `password` (sent as a SCRAM
    verifier, never in clear). PostgreSQL only; run as the owner of the tables."""
    if engine.dialect.name != "postgresql":
        raise InputError("database roles and row-level security exist on PostgreSQL only")
    if password is not None:
        check_password(password)
    with UnitOfWork(engine) as uow:
        connection = uow.session.connection()
        schema = auth_repo.current_schema(connection)
        statements = app_role_sql(name, schema)
        if auth_repo.role_exists(connection, name):
            raise ConflictError(f"database role {name} already exists")
        auth_repo.run_ddl(connection, statements)
        if password is not None:
            auth_repo.set_role_password(connection, name, _quote_identifier(name), password)
        repos.audit(
            uow.session,
            "create",
            "database_role",
            name,
            after={"name": name, "schema": schema, "bypass_rls": False},
        )
        uow.commit()
