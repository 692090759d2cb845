"""API keys: shown once, stored hashed, used (last-used time), revoked."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

import foliodb
from foliodb.errors import AuthenticationError, InputError, NotFoundError
from foliodb.services import auth
from foliodb.store.tables_auth import ApiKeyRow
from tests.auth.conftest import make_user


def key_rows(db: foliodb.Database) -> list[ApiKeyRow]:
    with db.engine.connect() as connection:
        rows = connection.execute(sa.select(ApiKeyRow).order_by(ApiKeyRow.id)).all()
    return [ApiKeyRow(**r._mapping) for r in rows]


def test_an_api_key_is_shown_once_and_stored_only_as_its_sha256(db: foliodb.Database) -> None:
    alice = make_user(db, "alice@example.com")
    info, secret = auth.create_api_key(db.engine, alice, "  nightly import ")
    assert re.fullmatch(rf"fdb_{info.id}_[A-Za-z0-9_-]{{43}}", secret)
    assert info.name == "nightly import"
    assert (info.last_used_at, info.revoked_at) == (None, None)
    (row,) = key_rows(db)
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row.__dict__)
    listed = auth.list_api_keys(db.engine, alice)
    assert listed == [info]  # the listing has no secret to show
    _, another = auth.create_api_key(db.engine, alice, "nightly import")
    assert another != secret


def test_a_key_authenticates_its_user_and_records_when_it_was_used(
    db: foliodb.Database,
) -> None:
    alice = make_user(db, "alice@example.com", "VIEWER")
    info, secret = auth.create_api_key(db.engine, alice, "script")
    assert auth.principal_from_api_key(db.engine, secret) == alice
    (used,) = auth.list_api_keys(db.engine, alice)
    assert used.last_used_at is not None and used.last_used_at >= info.created_at


def test_a_revoked_key_is_refused(sqlite_db: foliodb.Database) -> None:
    db = sqlite_db
    alice = make_user(db, "alice@example.com")
    info, secret = auth.create_api_key(db.engine, alice, "script")
    revoked = auth.revoke_api_key(db.engine, alice, info.id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError, match="invalid API key"):
        auth.principal_from_api_key(db.engine, secret)
    assert auth.revoke_api_key(db.engine, alice, info.id) == revoked  # again: no change


def test_unknown_malformed_or_altered_keys_are_refused(sqlite_db: foliodb.Database) -> None:
    db = sqlite_db
    alice = make_user(db, "alice@example.com")
    info, secret = auth.create_api_key(db.engine, alice, "script")
    last = secret[-1]
    altered = secret[:-1] + ("A" if last != "A" else "B")
    other_id = secret.replace(f"fdb_{info.id}_", f"fdb_{info.id + 1}_")
    for bad in (altered, other_id, "fdb_1_short", "", "Bearer " + secret, secret + " "):
        with pytest.raises(AuthenticationError):
            auth.principal_from_api_key(db.engine, bad)


def test_a_user_revokes_only_their_own_keys_and_an_admin_anyones(
    sqlite_db: foliodb.Database,
) -> None:
    db = sqlite_db
    alice = make_user(db, "alice@example.com")
    mallory = make_user(db, "mallory@example.com", "MANAGER")
    admin = make_user(db, "admin@example.com", "ADMIN")
    info, secret = auth.create_api_key(db.engine, alice, "script")
    with pytest.raises(NotFoundError, match=f"no API key {info.id}"):
        auth.revoke_api_key(db.engine, mallory, info.id)
    assert auth.list_api_keys(db.engine, mallory) == []
    auth.principal_from_api_key(db.engine, secret)  # still valid
    auth.revoke_api_key(db.engine, admin, info.id)
    with pytest.raises(AuthenticationError):
        auth.principal_from_api_key(db.engine, secret)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_key_needs_a_name(sqlite_db: foliodb.Database, name: str) -> None:
    alice = make_user(sqlite_db, "alice@example.com")
    with pytest.raises(InputError):
        auth.create_api_key(sqlite_db.engine, alice, name)
