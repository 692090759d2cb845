"""Users and passwords: argon2 hashes, generated passwords, validation, roles."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

import foliodb
from foliodb.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from foliodb.services import auth
from foliodb.store.tables import UserRow
from tests.auth.conftest import PASSWORD, audit_entries, make_user


def stored_hash(db: foliodb.Database, email: str) -> str | None:
    with db.engine.connect() as connection:
        return connection.execute(
            sa.select(UserRow.password_hash).where(UserRow.email == email)
        ).scalar_one()


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_it(
    sqlite_db: foliodb.Database,
) -> None:
    make_user(sqlite_db, "alice@example.com")
    stored = stored_hash(sqlite_db, "alice@example.com")
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert auth.verify_password(stored, PASSWORD)
    assert not auth.verify_password(stored, PASSWORD + "!")
    assert not auth.verify_password(None, PASSWORD)  # no hash never verifies
    assert not auth.verify_password("not a hash", PASSWORD)


def test_production_hashing_uses_argon2_cffi_default_parameters() -> None:
    default = PasswordHasher()
    with auth.use_password_hasher(default):
        stored = auth.hash_password(PASSWORD)
        assert auth.verify_password(stored, PASSWORD)
    assert stored.startswith(
        f"$argon2id$v=19$m={default.memory_cost},t={default.time_cost},p={default.parallelism}$"
    )
    assert (default.memory_cost, default.time_cost) == (65536, 3)  # RFC 9106 low-memory profile


def test_without_a_password_a_strong_one_is_generated_and_returned_once(
    sqlite_db: foliodb.Database,
) -> None:
    db = sqlite_db
    principal, generated = auth.create_user(db.engine, "Bob@Example.COM ", "viewer")
    assert principal.email == "bob@example.com"
    assert principal.role is auth.Role.VIEWER
    assert generated is not None and len(generated) >= 20
    stored = stored_hash(db, "bob@example.com")
    assert auth.verify_password(stored, generated)
    _, other = auth.create_user(db.engine, "carol@example.com", "USER")
    assert other != generated


def test_given_a_password_nothing_is_generated(sqlite_db: foliodb.Database) -> None:
    _, generated = auth.create_user(sqlite_db.engine, "dan@example.com", "USER", PASSWORD)
    assert generated is None


@pytest.mark.parametrize(
    ("email", "role", "password", "field"),
    [
        ("not-an-address", "USER", PASSWORD, "email"),
        ("two@@example.com", "USER", PASSWORD, "email"),
        ("eve@example.com", "ROOT", PASSWORD, "role"),
        ("eve@example.com", "USER", "short pass", "password"),  # 10 characters
        ("eve@example.com", "USER", "x" * 11, "password"),
    ],
)
def test_bad_user_input_is_refused_naming_the_field(
    sqlite_db: foliodb.Database, email: str, role: str, password: str, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        auth.create_user(sqlite_db.engine, email, role, password)
    assert caught.value.problems[0].field == field
    assert auth.list_users(sqlite_db.engine) == []


def test_a_password_of_exactly_twelve_characters_is_accepted(sqlite_db: foliodb.Database) -> None:
    auth.create_user(sqlite_db.engine, "eve@example.com", "USER", "x" * 12)


def test_a_duplicate_email_in_any_case_is_a_conflict(db: foliodb.Database) -> None:
    make_user(db, "alice@example.com")
    with pytest.raises(ConflictError, match="already exists"):
        auth.create_user(db.engine, "ALICE@example.com", "ADMIN", PASSWORD)


def test_a_portfolio_owner_without_a_password_is_told_how_to_set_one(
    sqlite_db: foliodb.Database,
) -> None:
    db = sqlite_db
    db.create_portfolio("Main", owner="owner@example.com")
    with pytest.raises(ConflictError, match=r"foliodb user passwd owner@example\.com"):
        auth.create_user(db.engine, "owner@example.com", "USER", PASSWORD)
    auth.set_password(db.engine, "owner@example.com", PASSWORD)
    assert auth.get_user(db.engine, "owner@example.com").has_password


def test_users_are_listed_with_role_and_whether_they_have_a_password(
    sqlite_db: foliodb.Database,
) -> None:
    db = sqlite_db
    make_user(db, "b@example.com", "MANAGER")
    make_user(db, "a@example.com", "ADMIN")
    listed = [(u.email, u.role, u.has_password) for u in auth.list_users(db.engine)]
    assert listed == [("a@example.com", "ADMIN", True), ("b@example.com", "MANAGER", True)]


def test_only_an_admin_manages_users(sqlite_db: foliodb.Database) -> None:
    db = sqlite_db
    admin = make_user(db, "admin@example.com", "ADMIN")
    manager = make_user(db, "manager@example.com", "MANAGER")
    for call in (
        lambda: auth.create_user(db.engine, "x@example.com", "USER", PASSWORD, actor=manager),
        lambda: auth.set_role(db.engine, "admin@example.com", "USER", actor=manager),
        lambda: auth.list_users(db.engine, actor=manager),
        lambda: auth.set_password(db.engine, "admin@example.com", PASSWORD, actor=manager),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    with pytest.raises(NotFoundError):  # another user is not even found
        auth.get_user(db.engine, "admin@example.com", actor=manager)
    assert auth.get_user(db.engine, "manager@example.com", actor=manager).role == "MANAGER"
    assert auth.get_user(db.engine, manager.user_id, actor=manager).email == manager.email
    with pytest.raises(NotFoundError):
        auth.get_user(db.engine, admin.user_id, actor=manager)
    auth.create_user(db.engine, "x@example.com", "USER", PASSWORD, actor=admin)
    assert len(auth.list_users(db.engine, actor=admin)) == 3


def test_a_user_changes_their_own_password_only_with_the_current_one(
    sqlite_db: foliodb.Database,
) -> None:
    db = sqlite_db
    alice = make_user(db, "alice@example.com")
    with pytest.raises(AuthenticationError):
        auth.change_password(db.engine, alice, "wrong password!", "a new password here")
    auth.change_password(db.engine, alice, PASSWORD, "a new password here")
    assert auth.verify_password(stored_hash(db, "alice@example.com"), "a new password here")


def test_the_last_admin_cannot_be_demoted(sqlite_db: foliodb.Database) -> None:
    db = sqlite_db
    make_user(db, "root@example.com", "ADMIN")
    with pytest.raises(ConflictError, match="last ADMIN"):
        auth.set_role(db.engine, "root@example.com", "USER")
    make_user(db, "second@example.com", "ADMIN")
    assert auth.set_role(db.engine, "root@example.com", "user").role is auth.Role.USER


def test_managing_an_unknown_user_says_not_found(sqlite_db: foliodb.Database) -> None:
    db = sqlite_db
    with pytest.raises(NotFoundError, match=r"nobody@example\.com"):
        auth.set_role(db.engine, "nobody@example.com", "USER")
    with pytest.raises(NotFoundError):
        auth.set_password(db.engine, "nobody@example.com", PASSWORD)


def test_no_secret_or_hash_reaches_the_audit_trail(db: foliodb.Database) -> None:
    _, generated = auth.create_user(db.engine, "alice@example.com", "USER")
    auth.set_password(db.engine, "alice@example.com", PASSWORD)
    trail = repr([(e.before, e.after) for e in audit_entries(db)])
    assert generated is not None and generated not in trail
    assert PASSWORD not in trail
    assert "argon2" not in trail
