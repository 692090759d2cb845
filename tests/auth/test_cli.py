"""`foliodb user ...` as an operator types it (the lead registers the app as `foliodb user`)."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from typer.testing import CliRunner, Result

import foliodb
from foliodb.cli.users import app
from foliodb.config import Settings
from foliodb.errors import AuthenticationError
from foliodb.services import auth
from tests.auth.conftest import PASSWORD

runner = CliRunner(env={"COLUMNS": "250"})


def user(db: foliodb.Database, *args: str, stdin: str | None = None) -> Result:
    url = db.engine.url.render_as_string(hide_password=False)
    return runner.invoke(app, [*args, "--db", url], input=stdin)


def ok(db: foliodb.Database, *args: str, stdin: str | None = None) -> Result:
    result = user(db, *args, stdin=stdin)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result


def shown_secret(result: Result, label: str) -> str:
    match = re.search(rf"{label}: (\S+) \(shown once", result.stdout)
    assert match, result.stdout
    return match.group(1)


def test_create_generates_a_password_printed_once_that_signs_in(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    result = ok(sqlite_db, "create", "Alice@Example.com", "--role", "manager", "--generate")
    assert "created user alice@example.com (MANAGER)" in result.stdout
    password = shown_secret(result, "password")
    auth.login(sqlite_db.engine, settings, "alice@example.com", password, None)
    listed = json.loads(ok(sqlite_db, "list", "--format", "json").stdout)
    assert [(u["email"], u["role"], u["has_password"]) for u in listed] == [
        ("alice@example.com", "MANAGER", True)
    ]
    assert password not in json.dumps(listed)


def test_create_reads_the_password_from_stdin(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    result = ok(
        sqlite_db,
        "create",
        "bob@example.com",
        "--role",
        "USER",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert PASSWORD not in result.output
    auth.login(sqlite_db.engine, settings, "bob@example.com", PASSWORD, None)


def test_there_is_no_default_password(sqlite_db: foliodb.Database) -> None:
    # Not a terminal and neither --password-stdin nor --generate: refused, nobody created.
    result = user(sqlite_db, "create", "carol@example.com", "--role", "USER")
    assert result.exit_code == 2
    assert "--password-stdin or --generate" in result.stderr
    weak = user(
        sqlite_db,
        "create",
        "carol@example.com",
        "--role",
        "USER",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.exit_code == 2
    assert "at least 12 characters" in weak.stderr
    assert auth.list_users(sqlite_db.engine) == []


def test_set_role_and_passwd(sqlite_db: foliodb.Database, settings: Settings) -> None:
    ok(sqlite_db, "create", "dan@example.com", "--role", "USER", "--password-stdin", stdin=PASSWORD)
    assert (
        "dan@example.com is now VIEWER"
        in ok(sqlite_db, "set-role", "dan@example.com", "viewer").stdout
    )
    password = shown_secret(ok(sqlite_db, "passwd", "dan@example.com", "--generate"), "password")
    pair = auth.login(sqlite_db.engine, settings, "dan@example.com", password, None)
    assert (
        auth.principal_from_access_token(sqlite_db.engine, settings, pair.access_token).role
        == "VIEWER"
    )
    bad = user(sqlite_db, "set-role", "dan@example.com", "GOD")
    assert bad.exit_code == 2 and "ADMIN, MANAGER, USER, VIEWER" in bad.stderr


def test_api_keys_are_created_listed_and_revoked(sqlite_db: foliodb.Database) -> None:
    ok(sqlite_db, "create", "eve@example.com", "--role", "USER", "--generate")
    created = ok(sqlite_db, "api-key", "create", "nightly", "--user", "eve@example.com")
    secret = shown_secret(created, r"API key \d+ 'nightly' of eve@example\.com")
    assert auth.principal_from_api_key(sqlite_db.engine, secret).email == "eve@example.com"
    (key,) = json.loads(
        ok(sqlite_db, "api-key", "list", "--user", "eve@example.com", "-f", "json").stdout
    )
    assert key["name"] == "nightly" and key["last_used_at"] and key["revoked_at"] is None
    ok(sqlite_db, "api-key", "revoke", str(key["id"]), "--user", "eve@example.com")
    with pytest.raises(AuthenticationError):
        auth.principal_from_api_key(sqlite_db.engine, secret)
    other = user(sqlite_db, "api-key", "revoke", str(key["id"] + 1), "--user", "eve@example.com")
    assert other.exit_code == 1 and "no API key" in other.stderr


def test_share_shares_and_unshare(sqlite_db: foliodb.Database) -> None:
    sqlite_db.create_portfolio("Family", owner="owner@example.com")
    ok(sqlite_db, "create", "kid@example.com", "--role", "VIEWER", "--generate")
    ok(sqlite_db, "share", "Family", "kid@example.com", "--scope", "read")
    grants = json.loads(ok(sqlite_db, "shares", "Family", "-f", "json").stdout)
    assert [(g["grantee_email"], g["scope"], g["granted_by"]) for g in grants] == [
        ("kid@example.com", "read", "owner@example.com")
    ]
    kid = auth.get_user(sqlite_db.engine, "kid@example.com").principal
    pid, _ = auth.find_portfolio(sqlite_db.engine, "Family")
    assert auth.access(sqlite_db.engine, kid, pid) == "read"
    ok(sqlite_db, "unshare", "Family", "kid@example.com")
    assert auth.access(sqlite_db.engine, kid, pid) is None
    bad = user(sqlite_db, "share", "Family", "kid@example.com", "--scope", "all")
    assert bad.exit_code == 2 and "read or write" in bad.stderr


def test_create_app_role_is_for_postgresql(sqlite_db: foliodb.Database) -> None:
    result = user(sqlite_db, "create-app-role", "foliodb_app", "--no-password")
    assert result.exit_code == 2
    assert "PostgreSQL only" in result.stderr


def test_create_app_role_on_postgresql_prints_its_generated_password_once(
    pg_db: foliodb.Database,
) -> None:
    name = f"foliodb_app_{uuid.uuid4().hex[:12]}"
    try:
        result = ok(pg_db, "create-app-role", name, "--generate")
        assert f"created database role {name}" in result.stdout
        password = shown_secret(result, "password")
        url = pg_db.engine.url.set(username=name, password=password)
        with foliodb.connect(url.render_as_string(hide_password=False)) as app_db:
            assert app_db.portfolios() == []
    finally:
        with pg_db.engine.begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{name}"')
            connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')
