"""Sign-in: access tokens (JWT), refresh tokens (rotated, reuse revokes the family), and the
login rate limits per account and per IP."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import jwt
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from pydantic import SecretStr

import foliodb
from foliodb.config import Settings
from foliodb.errors import AuthenticationError, InputError, RateLimitedError
from foliodb.services import auth
from foliodb.store.tables import UserRow
from foliodb.store.tables_auth import RefreshTokenRow
from tests.auth.conftest import PASSWORD, SECRET, make_user

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def claims_of(token: str) -> dict[str, object]:
    """The token's payload as sent, read without the library under test's verification."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


# --- access tokens ----------------------------------------------------------------------------
def test_a_login_issues_a_short_lived_access_token_naming_the_user(
    db: foliodb.Database, settings: Settings
) -> None:
    alice = make_user(db, "alice@example.com", "MANAGER")
    before = int(now().timestamp())
    pair = auth.login(db.engine, settings, "Alice@Example.com", PASSWORD, "10.0.0.1")
    claims = claims_of(pair.access_token)
    assert claims["sub"] == str(alice.user_id)
    assert claims["role"] == "MANAGER"
    assert claims["typ"] == "access"
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    assert isinstance(claims["iat"], int) and before <= claims["iat"] <= before + 5
    assert claims["exp"] == claims["iat"] + 15 * 60
    assert (pair.token_type, pair.expires_in) == ("bearer", 15 * 60)
    assert jwt.get_unverified_header(pair.access_token)["alg"] == "HS256"
    assert auth.principal_from_access_token(db.engine, settings, pair.access_token) == alice


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")
    db.create_portfolio("Main", owner="nopass@example.com")  # a user without a password
    messages = set()
    for email, password in [
        ("alice@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("nopass@example.com", PASSWORD),
        ("nopass@example.com", ""),
    ]:
        with pytest.raises(AuthenticationError) as caught:
            auth.login(db.engine, settings, email, password, None)
        messages.add(str(caught.value))
    assert messages == {"wrong email or password"}


def test_an_expired_access_token_is_refused(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")
    fresh = auth.login(
        db.engine,
        settings,
        "alice@example.com",
        PASSWORD,
        None,
        now=now() - dt.timedelta(minutes=14),
    )
    auth.principal_from_access_token(db.engine, settings, fresh.access_token)
    stale = auth.login(
        db.engine,
        settings,
        "alice@example.com",
        PASSWORD,
        None,
        now=now() - dt.timedelta(minutes=16),
    )
    with pytest.raises(AuthenticationError, match="expired"):
        auth.principal_from_access_token(db.engine, settings, stale.access_token)


def test_the_access_token_lifetime_follows_the_settings(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")
    short = settings.model_copy(update={"access_token_minutes": 1})
    pair = auth.login(db.engine, short, "alice@example.com", PASSWORD, None)
    claims = claims_of(pair.access_token)
    assert claims["exp"] == claims["iat"] + 60  # type: ignore[operator]
    assert pair.expires_in == 60


def _forge(claims: dict[str, object], key: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def test_tampered_forged_or_mistyped_tokens_are_refused(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    alice = make_user(db, "alice@example.com")
    admin = make_user(db, "root@example.com", "ADMIN")
    token = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None).access_token
    header, payload, signature = token.split(".")
    claims = claims_of(token)
    as_admin = dict(claims, sub=str(admin.user_id), role="ADMIN")
    raised = base64.urlsafe_b64encode(json.dumps(as_admin).encode()).rstrip(b"=").decode()
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    unsigned = jwt.encode(as_admin, None, algorithm="none")
    bad = {
        "payload swapped, signature kept": f"{header}.{raised}.{signature}",
        "signature altered": f"{header}.{payload}.{flipped}",
        "signed with another key": _forge(as_admin, "z" * 48),
        "alg none": unsigned,
        "HS512 with the right key": _forge(as_admin, alg="HS512"),
        "typ refresh": _forge(dict(claims, typ="refresh")),
        "no typ": _forge({k: v for k, v in claims.items() if k != "typ"}),
        "no exp": _forge({k: v for k, v in claims.items() if k != "exp"}),
        "sub not a user id": _forge(dict(claims, sub="alice@example.com")),
        "sub of nobody": _forge(dict(claims, sub="999999")),
        "garbage": "not.a.token",
        "empty": "",
    }
    accepted = []
    for case, forged in bad.items():
        try:
            auth.principal_from_access_token(db.engine, settings, forged)
        except AuthenticationError:
            continue
        accepted.append(case)
    assert accepted == []
    assert auth.principal_from_access_token(db.engine, settings, token) == alice


def test_a_changed_role_or_a_deleted_user_takes_effect_on_the_next_request(
    db: foliodb.Database, settings: Settings
) -> None:
    make_user(db, "alice@example.com", "USER")
    make_user(db, "admin@example.com", "ADMIN")
    token = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None).access_token
    auth.set_role(db.engine, "alice@example.com", "VIEWER")
    assert auth.principal_from_access_token(db.engine, settings, token).role is auth.Role.VIEWER
    with db.engine.begin() as connection:
        connection.execute(sa.delete(UserRow).where(UserRow.email == "alice@example.com"))
    with pytest.raises(AuthenticationError):
        auth.principal_from_access_token(db.engine, settings, token)


@pytest.mark.parametrize(("key", "problem"), [(None, "is not set"), ("short-secret", "too short")])
def test_tokens_need_a_long_enough_secret_key(
    sqlite_db: foliodb.Database, key: str | None, problem: str
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")
    weak = Settings(secret_key=SecretStr(key) if key else None)
    for call in (
        lambda: auth.check_settings(weak),
        lambda: auth.login(db.engine, weak, "alice@example.com", PASSWORD, None),
        lambda: auth.principal_from_access_token(db.engine, weak, "a.b.c"),
    ):
        with pytest.raises(InputError, match=problem) as caught:
            call()
        assert caught.value.problems[0].field == "FOLIODB_SECRET_KEY"
        assert key is None or key not in str(caught.value)


# --- refresh tokens ---------------------------------------------------------------------------
def refresh_rows(db: foliodb.Database) -> list[RefreshTokenRow]:
    with db.engine.connect() as connection:
        rows = connection.execute(sa.select(RefreshTokenRow).order_by(RefreshTokenRow.id)).all()
    return [RefreshTokenRow(**r._mapping) for r in rows]


def test_a_refresh_token_is_stored_only_as_its_sha256(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")
    pair = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None)
    (row,) = refresh_rows(db)
    assert row.token_hash == hashlib.sha256(pair.refresh_token.encode()).hexdigest()
    assert pair.refresh_token not in repr(row.__dict__)
    assert row.expires_at - row.issued_at == dt.timedelta(days=14)


def test_refreshing_rotates_the_token_and_the_old_one_stops_working(
    db: foliodb.Database, settings: Settings
) -> None:
    alice = make_user(db, "alice@example.com")
    first = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None)
    second = auth.refresh(db.engine, settings, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert auth.principal_from_access_token(db.engine, settings, second.access_token) == alice
    old, new = refresh_rows(db)
    assert old.revoked_at is not None and old.replaced_by == new.id
    assert new.revoked_at is None and new.family_id == old.family_id
    third = auth.refresh(db.engine, settings, second.refresh_token)
    assert third.refresh_token not in {first.refresh_token, second.refresh_token}


def test_reusing_a_rotated_refresh_token_revokes_its_whole_family(
    db: foliodb.Database, settings: Settings
) -> None:
    make_user(db, "alice@example.com")
    stolen = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None)
    other_device = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None)
    legit = auth.refresh(db.engine, settings, stolen.refresh_token)
    with pytest.raises(AuthenticationError, match="already used or revoked"):
        auth.refresh(db.engine, settings, stolen.refresh_token)
    with pytest.raises(AuthenticationError):  # the thief's successor is revoked too
        auth.refresh(db.engine, settings, legit.refresh_token)
    # Another sign-in (another family) is untouched.
    auth.refresh(db.engine, settings, other_device.refresh_token)


def test_a_revoked_refresh_token_is_refused(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")
    pair = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None)
    auth.revoke_refresh(db.engine, pair.refresh_token)
    with pytest.raises(AuthenticationError):
        auth.refresh(db.engine, settings, pair.refresh_token)
    auth.revoke_refresh(db.engine, "fdr_unknown")  # signing out twice is harmless


def test_an_expired_or_unknown_refresh_token_is_refused(
    db: foliodb.Database, settings: Settings
) -> None:
    make_user(db, "alice@example.com")
    old = auth.login(
        db.engine, settings, "alice@example.com", PASSWORD, None, now=now() - dt.timedelta(days=15)
    )
    with pytest.raises(AuthenticationError, match="expired"):
        auth.refresh(db.engine, settings, old.refresh_token)
    with pytest.raises(AuthenticationError, match="invalid"):
        auth.refresh(db.engine, settings, "fdr_" + "x" * 43)
    access = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None).access_token
    with pytest.raises(AuthenticationError):  # an access token is not a refresh token
        auth.refresh(db.engine, settings, access)


def test_setting_a_password_signs_the_user_out_everywhere(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")
    pair = auth.login(db.engine, settings, "alice@example.com", PASSWORD, None)
    auth.set_password(db.engine, "alice@example.com", "a brand new password")
    with pytest.raises(AuthenticationError):
        auth.refresh(db.engine, settings, pair.refresh_token)


def test_a_weakly_hashed_password_is_rehashed_with_current_parameters_at_login(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")  # hashed with the tests' cheap parameters
    stronger = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
    with auth.use_password_hasher(stronger):
        auth.login(db.engine, settings, "alice@example.com", PASSWORD, None)
    with db.engine.connect() as connection:
        stored = connection.execute(sa.select(UserRow.password_hash)).scalar_one()
    assert stored is not None and stored.startswith("$argon2id$v=19$m=1024,t=2,p=1$")
    assert auth.verify_password(stored, PASSWORD)


# --- rate limits ------------------------------------------------------------------------------
def limits(settings: Settings, per_account: int, per_ip: int) -> Settings:
    return settings.model_copy(
        update={
            "login_attempts_per_account": per_account,
            "login_attempts_per_ip": per_ip,
            "login_window_seconds": 900,
        }
    )


def fail(
    db: foliodb.Database, settings: Settings, email: str, ip: str | None, at: dt.datetime
) -> None:
    with pytest.raises(AuthenticationError):
        auth.login(db.engine, settings, email, "wrong password!", ip, now=at)


def test_failed_logins_of_an_account_are_limited_over_a_sliding_window(
    db: foliodb.Database, settings: Settings
) -> None:
    make_user(db, "alice@example.com")
    rules = limits(settings, per_account=3, per_ip=100)
    for i, seconds in enumerate((0, 10, 20)):
        fail(db, rules, "alice@example.com", f"10.0.0.{i}", T0 + dt.timedelta(seconds=seconds))
    # Past the limit even the right password is refused, unchecked, from any address.
    with pytest.raises(RateLimitedError) as caught:
        auth.login(
            db.engine,
            rules,
            "alice@example.com",
            PASSWORD,
            "10.9.9.9",
            now=T0 + dt.timedelta(seconds=30),
        )
    assert caught.value.retry_after == 900 - 30  # until the first failure leaves the window
    with pytest.raises(RateLimitedError) as again:
        auth.login(
            db.engine,
            rules,
            "alice@example.com",
            PASSWORD,
            None,
            now=T0 + dt.timedelta(seconds=899),
        )
    assert again.value.retry_after == 1
    # Refused attempts are not failures: once the first failure is 900 s old, one gets through.
    auth.login(
        db.engine, rules, "alice@example.com", PASSWORD, None, now=T0 + dt.timedelta(seconds=901)
    )


def test_a_successful_login_clears_the_account_counter(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    make_user(db, "alice@example.com")
    rules = limits(settings, per_account=3, per_ip=100)
    at = T0
    for _ in range(2):
        fail(db, rules, "alice@example.com", None, at)
    auth.login(db.engine, rules, "alice@example.com", PASSWORD, None, now=at)
    for _ in range(3):  # three more failures are allowed, not one
        fail(db, rules, "alice@example.com", None, at)
    with pytest.raises(RateLimitedError):
        auth.login(db.engine, rules, "alice@example.com", PASSWORD, None, now=at)


def test_unknown_accounts_are_limited_like_known_ones(
    sqlite_db: foliodb.Database, settings: Settings
) -> None:
    db = sqlite_db
    rules = limits(settings, per_account=2, per_ip=100)
    fail(db, rules, "ghost@example.com", None, T0)
    fail(db, rules, "ghost@example.com", None, T0)
    with pytest.raises(RateLimitedError):
        auth.login(db.engine, rules, "ghost@example.com", PASSWORD, None, now=T0)


def test_failed_logins_from_one_ip_are_limited_across_accounts(
    db: foliodb.Database, settings: Settings
) -> None:
    make_user(db, "alice@example.com")
    rules = limits(settings, per_account=100, per_ip=4)
    for i in range(4):
        fail(db, rules, f"user{i}@example.com", "203.0.113.7", T0 + dt.timedelta(seconds=i))
    with pytest.raises(RateLimitedError) as caught:
        auth.login(
            db.engine,
            rules,
            "alice@example.com",
            PASSWORD,
            "203.0.113.7",
            now=T0 + dt.timedelta(seconds=100),
        )
    assert caught.value.retry_after == 800
    # Alice, from her own address, is not held back by the attacker's.
    auth.login(
        db.engine,
        rules,
        "alice@example.com",
        PASSWORD,
        "198.51.100.1",
        now=T0 + dt.timedelta(seconds=100),
    )
    # Her success does not clear the attacker's IP counter.
    with pytest.raises(RateLimitedError):
        auth.login(
            db.engine,
            rules,
            "alice@example.com",
            PASSWORD,
            "203.0.113.7",
            now=T0 + dt.timedelta(seconds=101),
        )
