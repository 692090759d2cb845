"""Who may do what: users and passwords, tokens, API keys, portfolio sharing, the access rules
every portfolio-scoped route applies, and PostgreSQL row-level security (docs/security.md).

Functions that manage users take `actor`: the principal asking (None: the local operator at
the CLI, who holds the database itself). Every mutation writes exactly one audit entry, which
never holds a secret or a hash.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from foliodb.config import Settings
from foliodb.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    InputProblem,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.repos import auth as auth_repo
from foliodb.store.tables import PortfolioRow, UserRow
from foliodb.store.tables_auth import ApiKeyRow, PortfolioGrantRow, RefreshTokenRow
from foliodb.store.uow import UnitOfWork


class Role(StrEnum):
    ADMIN = "ADMIN"  # everything, user management included
    MANAGER = "MANAGER"  # own portfolios; those shared with them per scope; re-shares on write
    USER = "USER"  # own portfolios; those shared with them per scope
    VIEWER = "VIEWER"  # reads what is shared with them (or theirs), never writes


@dataclass(frozen=True)
class Principal:
    """Who is asking, as established by a password, an access token or an API key."""

    user_id: int
    email: str
    role: Role


@dataclass(frozen=True)
class UserInfo:
    user_id: int
    email: str
    role: Role
    display_name: str | None
    has_password: bool
    created_at: dt.datetime

    @property
    def principal(self) -> Principal:
        return Principal(self.user_id, self.email, self.role)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    #: Seconds the access token is valid for.
    expires_in: int = dataclasses.field(kw_only=True)


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


Scope = Literal["read", "write"]
Access = Literal["owner", "write", "read"]


@dataclass(frozen=True)
class GrantInfo:
    portfolio_id: int
    grantee_email: str
    scope: Scope
    granted_by: str | None  # the granter's email; None: the local operator, or a deleted user
    granted_at: dt.datetime


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MIN_SECRET_KEY_BYTES = 32  # HS256: a key shorter than the hash output weakens it (RFC 7518)
ALGORITHM = "HS256"
API_KEY_PREFIX = "fdb_"
REFRESH_TOKEN_PREFIX = "fdr_"  # noqa: S105 - a marker for secret scanners, not a secret
#: last_used_at of an API key is written at most this often (not one write per request).
API_KEY_TOUCH_INTERVAL = dt.timedelta(seconds=60)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_API_KEY = re.compile(r"fdb_([0-9]{1,18})_[A-Za-z0-9_-]{20,100}")
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# --- passwords --------------------------------------------------------------------------------
#: Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, 3 passes).
#: The test suite swaps in cheap parameters with `use_password_hasher`; nothing else should.
_hasher = PasswordHasher()
_dummy_hashes: dict[int, str] = {}
_dummy_lock = threading.Lock()


@contextlib.contextmanager
def use_password_hasher(hasher: PasswordHasher) -> Iterator[None]:
    """Hash and verify with `hasher` inside the block (tests: cheap parameters)."""
    global _hasher
    previous, _hasher = _hasher, hasher
    try:
        yield
    finally:
        _hasher = previous


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (an unknown email, a user without a password)
    a dummy hash is verified anyway, so the answer takes as long and says nothing more."""
    if password_hash is None:
        _verify(_dummy_hash(), password)
        return False
    return _verify(password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    with _dummy_lock:
        dummy = _dummy_hashes.get(id(_hasher))
        if dummy is None:
            dummy = _dummy_hashes[id(_hasher)] = _hasher.hash(secrets.token_urlsafe(16))
        return dummy


def generate_password() -> str:
    """A random password of 24 URL-safe characters (144 bits)."""
    return secrets.token_urlsafe(18)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            InputProblem(
                f"is too short ({len(password)} characters)",
                field="password",
                expected=f"at least {MIN_PASSWORD_LENGTH} characters",
            )
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(
            InputProblem(
                "is too long",
                field="password",
                expected=f"at most {MAX_PASSWORD_LENGTH} characters",
            )
        )


# --- parsing ----------------------------------------------------------------------------------
def parse_email(value: str) -> str:
    """An email address, trimmed and lower-cased; anything else is an InputError."""
    email = value.strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 320:
        raise InputError(
            InputProblem(
                "is not an email address",
                field="email",
                value=value,
                expected="an address such as alice@example.com",
            )
        )
    return email


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).upper())
    except ValueError:
        raise InputError(
            InputProblem(
                "is not a role",
                field="role",
                value=str(value),
                expected=", ".join(r.value for r in Role),
            )
        ) from None


def parse_scope(value: str) -> Scope:
    scope = value.strip().lower()
    if scope == "read":
        return "read"
    if scope == "write":
        return "write"
    raise InputError(
        InputProblem("is not a scope", field="scope", value=value, expected="read or write")
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- users ------------------------------------------------------------------------------------
def _user_info(row: UserRow) -> UserInfo:
    return UserInfo(
        row.id,
        row.email,
        Role(row.role),
        row.display_name,
        row.password_hash is not None,
        row.created_at,
    )


def _require_admin(actor: Principal | None) -> None:
    if actor is not None and actor.role is not Role.ADMIN:
        raise PermissionDeniedError("only an ADMIN manages users")


def _load_user(session: Session, email: str) -> UserRow:
    row = auth_repo.user_by_email(session, parse_email(email))
    if row is None:
        raise NotFoundError(f"no user {email.strip()!r}")
    return row


def create_user(
    engine: Engine,
    email: str,
    role: Role | str,
    password: str | None = None,
    *,
    display_name: str | None = None,
    actor: Principal | None = None,
) -> tuple[Principal, str | None]:
    """Create a user; without `password` one is generated and returned (show it once: only
    its hash is kept). Returns the principal and the generated password, if any."""
    _require_admin(actor)
    address, kind = parse_email(email), parse_role(role)
    secret = generate_password() if password is None else password
    _check_password(secret)
    password_hash = hash_password(secret)
    with UnitOfWork(engine) as uow:
        existing = auth_repo.user_by_email(uow.session, address)
        if existing is not None:
            hint = (
                ""
                if existing.password_hash
                else f" (it has no password: set one with `foliodb user passwd {address}`)"
            )
            raise ConflictError(f"user {address} already exists{hint}")
        row = UserRow(
            email=address,
            role=kind.value,
            display_name=display_name,
            password_hash=password_hash,
            created_at=utcnow(),
        )
        uow.session.add(row)
        uow.session.flush()
        repos.audit(
            uow.session,
            "create",
            "user",
            str(row.id),
            user_id=actor.user_id if actor else None,
            after={"email": address, "role": kind.value, "display_name": display_name},
        )
        uow.commit()
        return Principal(row.id, address, kind), secret if password is None else None


def get_user(engine: Engine, user: str | int, *, actor: Principal | None = None) -> UserInfo:
    """One user, by email or id (an ADMIN sees anyone, others only themselves)."""
    with UnitOfWork(engine) as uow:
        row = uow.session.get(UserRow, user) if isinstance(user, int) else None
        if isinstance(user, str):
            row = _load_user(uow.session, user)
        if row is None or (
            actor is not None and actor.role is not Role.ADMIN and actor.user_id != row.id
        ):
            raise NotFoundError(f"no user {str(user).strip()!r}")
        return _user_info(row)


def list_users(engine: Engine, *, actor: Principal | None = None) -> list[UserInfo]:
    _require_admin(actor)
    with UnitOfWork(engine) as uow:
        return [_user_info(row) for row in auth_repo.list_users(uow.session)]


def set_role(
    engine: Engine, email: str, role: Role | str, *, actor: Principal | None = None
) -> UserInfo:
    """Change a user's role; it takes effect on their next request (tokens re-read it). The
    last ADMIN cannot be demoted."""
    _require_admin(actor)
    kind = parse_role(role)
    with UnitOfWork(engine) as uow:
        row = _load_user(uow.session, email)
        before = row.role
        if before == kind.value:
            return _user_info(row)
        if before == Role.ADMIN and auth_repo.count_admins(uow.session) <= 1:
            raise ConflictError(f"{row.email} is the last ADMIN; make another ADMIN first")
        row.role = kind.value
        repos.audit(
            uow.session,
            "set_role",
            "user",
            str(row.id),
            user_id=actor.user_id if actor else None,
            before={"role": before},
            after={"role": kind.value},
        )
        info = _user_info(row)
        uow.commit()
        return info


def set_password(
    engine: Engine, email: str, password: str | None = None, *, actor: Principal | None = None
) -> str | None:
    """Set a user's password (an ADMIN for anyone, a user for themselves); without one a
    password is generated and returned. Every refresh token of the user is revoked."""
    with UnitOfWork(engine) as uow:
        row = _load_user(uow.session, email)
        if actor is not None and actor.role is not Role.ADMIN and actor.user_id != row.id:
            raise PermissionDeniedError("only an ADMIN sets another user's password")
    secret = generate_password() if password is None else password
    _check_password(secret)
    password_hash = hash_password(secret)
    with UnitOfWork(engine) as uow:
        row = _load_user(uow.session, email)
        had_password = row.password_hash is not None
        row.password_hash = password_hash
        auth_repo.revoke_user_refresh_tokens(uow.session, row.id, utcnow())
        repos.audit(
            uow.session,
            "set_password",
            "user",
            str(row.id),
            user_id=actor.user_id if actor else None,
            before={"has_password": had_password},
            after={"has_password": True},
        )
        uow.commit()
    return secret if password is None else None


def change_password(
    engine: Engine, principal: Principal, current_password: str, new_password: str
) -> None:
    """A user changes their own password, proving they know the current one."""
    with UnitOfWork(engine) as uow:
        row = uow.session.get(UserRow, principal.user_id)
        stored = row.password_hash if row is not None else None
    if not verify_password(stored, current_password):
        raise AuthenticationError("the current password is wrong")
    set_password(engine, principal.email, new_password, actor=principal)


# --- tokens -----------------------------------------------------------------------------------
def check_settings(settings: Settings) -> None:
    """Refuse to start a server that could not issue tokens (call it at start-up)."""
    _signing_key(settings)


def _signing_key(settings: Settings) -> str:
    if settings.secret_key is None:
        raise InputError(
            InputProblem(
                "is not set: tokens cannot be issued or checked",
                field="FOLIODB_SECRET_KEY",
                expected='a random secret, e.g. python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"',
            )
        )
    key = settings.secret_key.get_secret_value()
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise InputError(
            InputProblem(
                f"is too short ({len(key.encode())} bytes)",
                field="FOLIODB_SECRET_KEY",
                expected=f"at least {MIN_SECRET_KEY_BYTES} bytes of random text",
            )
        )
    return key


def _issue(
    session: Session,
    settings: Settings,
    user: UserRow,
    now: dt.datetime,
    family_id: str | None = None,
) -> tuple[TokenPair, int]:
    """A new access token and a new refresh token (in `family_id`, else a new family)."""
    lifetime = dt.timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": secrets.token_hex(16),
        "typ": "access",
    }
    access_token = jwt.encode(claims, _signing_key(settings), algorithm=ALGORITHM)
    refresh_token = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = RefreshTokenRow(
        user_id=user.id,
        family_id=family_id or secrets.token_hex(16),
        token_hash=_digest(refresh_token),
        issued_at=now,
        expires_at=now + dt.timedelta(days=settings.refresh_token_days),
    )
    session.add(row)
    session.flush()
    pair = TokenPair(access_token, refresh_token, expires_in=int(lifetime.total_seconds()))
    return pair, row.id


def _retry_after(
    times: list[dt.datetime], limit: int, window: dt.timedelta, now: dt.datetime
) -> int:
    """Seconds until fewer than `limit` of the attempts at `times` (oldest first) remain in
    the window: when the one that must leave it does."""
    leaving = times[len(times) - limit]
    return max(1, math.ceil((leaving + window - now).total_seconds()))


def login(
    engine: Engine,
    settings: Settings,
    email: str,
    password: str,
    ip: str | None,
    *,
    now: dt.datetime | None = None,
) -> TokenPair:
    """Tokens for a correct email and password. Failed attempts are counted per account and
    per IP over a sliding window (in the database, so every server worker shares them);
    past the limit the attempt is refused unchecked. A wrong email and a wrong password get
    the same answer, in the same time. `now` is for tests."""
    _signing_key(settings)
    now = now or utcnow()
    account = email.strip().lower()[:320]
    ip = ip[:64] if ip else None
    window = dt.timedelta(seconds=settings.login_window_seconds)
    # The attempt is recorded (committed) before it is checked, so attempts running at the
    # same time in other workers count against each other: at most `limit` get through.
    with UnitOfWork(engine) as uow:
        attempt = auth_repo.add_login_attempt(uow.session, account, ip, now)
        uow.commit()
    with UnitOfWork(engine) as uow:
        since = now - window
        waits = []
        by_account = auth_repo.login_attempt_times(
            uow.session, since, email=account, excluding=attempt
        )
        if len(by_account) >= settings.login_attempts_per_account:
            waits.append(_retry_after(by_account, settings.login_attempts_per_account, window, now))
        if ip is not None:
            by_ip = auth_repo.login_attempt_times(uow.session, since, ip=ip, excluding=attempt)
            if len(by_ip) >= settings.login_attempts_per_ip:
                waits.append(_retry_after(by_ip, settings.login_attempts_per_ip, window, now))
        if waits:
            auth_repo.delete_login_attempt(uow.session, attempt)  # refused, not a failure
            auth_repo.prune_login_attempts(uow.session, since)
            uow.commit()
            wait = max(waits)
            raise RateLimitedError(
                f"too many failed sign-ins; try again in {wait} seconds", retry_after=wait
            )
        user = auth_repo.user_by_email(uow.session, account)
        user_id, stored = (user.id, user.password_hash) if user else (None, None)
    matches = verify_password(stored, password)  # a dummy check for an unknown email
    if user_id is None or not matches:
        raise AuthenticationError("wrong email or password")
    with UnitOfWork(engine) as uow:
        row = uow.session.get(UserRow, user_id)
        if row is None:
            raise AuthenticationError("wrong email or password")
        auth_repo.clear_login_attempts(uow.session, account)
        if stored is not None and _hasher.check_needs_rehash(stored):
            # The same password under today's parameters: not a change, so not audited.
            row.password_hash = hash_password(password)
        pair, _ = _issue(uow.session, settings, row, now)
        uow.commit()
        return pair


def refresh(
    engine: Engine, settings: Settings, refresh_token: str, *, now: dt.datetime | None = None
) -> TokenPair:
    """New tokens for a refresh token, which is revoked (rotation). A revoked token presented
    again means it was copied: every token of its family is revoked, and the answer is no."""
    _signing_key(settings)
    now = now or utcnow()
    with UnitOfWork(engine) as uow:
        row = auth_repo.refresh_token_by_hash(uow.session, _digest(refresh_token))
        if row is None:
            raise AuthenticationError("invalid refresh token")
        reused = row.revoked_at is not None or not auth_repo.revoke_refresh_token(
            uow.session, row.id, now
        )
        if reused:
            auth_repo.revoke_refresh_family(uow.session, row.family_id, now)
            uow.commit()
            raise AuthenticationError(
                "refresh token already used or revoked: this sign-in is revoked; sign in again"
            )
        if row.expires_at <= now:
            uow.commit()  # it stays revoked
            raise AuthenticationError("refresh token expired; sign in again")
        user = uow.session.get(UserRow, row.user_id)
        if user is None:  # pragma: no cover - tokens cascade with their user
            raise AuthenticationError("invalid refresh token")
        pair, successor = _issue(uow.session, settings, user, now, row.family_id)
        auth_repo.set_replaced_by(uow.session, row.id, successor)
        uow.commit()
        return pair


def revoke_refresh(engine: Engine, refresh_token: str) -> None:
    """Sign out: revoke the token and every token of its family. An unknown token is ignored."""
    with UnitOfWork(engine) as uow:
        row = auth_repo.refresh_token_by_hash(uow.session, _digest(refresh_token))
        if row is not None:
            auth_repo.revoke_refresh_family(uow.session, row.family_id, utcnow())
            uow.commit()


def principal_from_access_token(engine: Engine, settings: Settings, token: str) -> Principal:
    """The principal of a valid access token: signature, expiry and type checked, then the
    user re-read, so a deleted user or a changed role takes effect at once."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["sub", "role", "iat", "exp", "jti", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("access token expired") from None
    except jwt.InvalidTokenError:
        raise AuthenticationError("invalid access token") from None
    subject = str(claims["sub"])
    if claims["typ"] != "access" or not subject.isdigit():
        raise AuthenticationError("invalid access token")
    with UnitOfWork(engine) as uow:
        row = uow.session.get(UserRow, int(subject))
        if row is None:
            raise AuthenticationError("invalid access token")
        return Principal(row.id, row.email, Role(row.role))


# --- API keys ---------------------------------------------------------------------------------
def _key_info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.name, row.created_at, row.last_used_at, row.revoked_at)


def create_api_key(engine: Engine, principal: Principal, name: str) -> tuple[ApiKeyInfo, str]:
    """A new API key of the principal's; the secret is returned once and kept only hashed."""
    label = name.strip()
    if not label or len(label) > 100:
        raise InputError(
            InputProblem(
                "must be 1 to 100 characters", field="name", value=name, expected="a label"
            )
        )
    with UnitOfWork(engine) as uow:
        row = ApiKeyRow(user_id=principal.user_id, name=label, key_hash="", created_at=utcnow())
        uow.session.add(row)
        uow.session.flush()
        secret = f"{API_KEY_PREFIX}{row.id}_{secrets.token_urlsafe(32)}"
        row.key_hash = _digest(secret)
        repos.audit(
            uow.session,
            "create",
            "api_key",
            str(row.id),
            user_id=principal.user_id,
            after={"name": label, "user_id": principal.user_id},
        )
        info = _key_info(row)
        uow.commit()
        return info, secret


def list_api_keys(engine: Engine, principal: Principal) -> list[ApiKeyInfo]:
    with UnitOfWork(engine) as uow:
        return [_key_info(r) for r in auth_repo.list_api_keys(uow.session, principal.user_id)]


def revoke_api_key(engine: Engine, principal: Principal, key_id: int) -> ApiKeyInfo:
    """Revoke one of the principal's keys (an ADMIN: anyone's). Revoking twice changes
    nothing; someone else's key is not found."""
    with UnitOfWork(engine) as uow:
        row = uow.session.get(ApiKeyRow, key_id)
        if row is None or (principal.role is not Role.ADMIN and row.user_id != principal.user_id):
            raise NotFoundError(f"no API key {key_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            repos.audit(
                uow.session,
                "revoke",
                "api_key",
                str(row.id),
                user_id=principal.user_id,
                before={"revoked_at": None},
                after={"revoked_at": row.revoked_at.isoformat()},
            )
        info = _key_info(row)
        uow.commit()
        return info


def principal_from_api_key(engine: Engine, secret: str) -> Principal:
    """The principal of a valid, unrevoked API key; its last use is recorded (to the minute)."""
    match = _API_KEY.fullmatch(secret)
    if match is None:
        raise AuthenticationError("invalid API key")
    with UnitOfWork(engine) as uow:
        row = uow.session.get(ApiKeyRow, int(match.group(1)))
        if (
            row is None
            or row.revoked_at is not None
            or not hmac.compare_digest(row.key_hash, _digest(secret))
        ):
            raise AuthenticationError("invalid API key")
        user = uow.session.get(UserRow, row.user_id)
        if user is None:  # pragma: no cover - keys cascade with their user
            raise AuthenticationError("invalid API key")
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= API_KEY_TOUCH_INTERVAL:
            row.last_used_at = now
            uow.commit()
        return Principal(user.id, user.email, Role(user.role))


# --- access rules -----------------------------------------------------------------------------
def access_level(role: Role, is_owner: bool, scope: str | None) -> Access | None:
    """What a role may do with a portfolio it owns (or not) and holds a grant on (or not):
    "owner" (everything: write, share, delete), "write", "read", or None (not even see it).

    ADMIN: "owner" of every portfolio. VIEWER: "read" at most, whatever it owns or was
    granted. MANAGER and USER: "owner" of their own, else the grant's scope. A MANAGER with
    a write grant may also share the portfolio (see `may_share`).
    """
    if role is Role.ADMIN:
        return "owner"
    if not is_owner and scope is None:
        return None
    if role is Role.VIEWER:
        return "read"
    if is_owner:
        return "owner"
    return "write" if scope == "write" else "read"


def may_share(role: Role, level: Access | None) -> bool:
    """Whether a principal with this role and access may grant and revoke access to others."""
    return level == "owner" or (role is Role.MANAGER and level == "write")


def _access(session: Session, principal: Principal, portfolio_id: int) -> Access | None:
    found = auth_repo.portfolio_owner_and_scope(session, portfolio_id, principal.user_id)
    if found is None:
        return None
    owner_id, scope = found
    return access_level(principal.role, owner_id == principal.user_id, scope)


def access(engine: Engine, principal: Principal, portfolio_id: int) -> Access | None:
    """The principal's access to a portfolio; None when it may not see it or it does not exist."""
    with UnitOfWork(engine) as uow:
        return _access(uow.session, principal, portfolio_id)


def require_portfolio(engine: Engine, principal: Principal, portfolio_id: int, write: bool) -> int:
    """The portfolio id, when the principal may read it (and write it, if `write`). One the
    principal cannot see is "not found", exactly like one that does not exist."""
    level = access(engine, principal, portfolio_id)
    if level is None:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    if write and level == "read":
        raise PermissionDeniedError(f"read-only access to portfolio {portfolio_id}")
    return portfolio_id


def visible_portfolio_ids(engine: Engine, principal: Principal) -> set[int] | None:
    """Ids of the portfolios the principal may see; None means all of them (ADMIN)."""
    if principal.role is Role.ADMIN:
        return None
    with UnitOfWork(engine) as uow:
        owned = auth_repo.owned_portfolio_ids(uow.session, principal.user_id)
        return owned | auth_repo.granted_portfolio_ids(uow.session, principal.user_id)


def can_create_portfolio(principal: Principal) -> bool:
    return principal.role is not Role.VIEWER


# --- sharing ----------------------------------------------------------------------------------
_NOT_A_SHARER = "only the owner, an ADMIN or a MANAGER with write access shares portfolio {}"


def _grant_info(row: PortfolioGrantRow, grantee: str, granter: str | None) -> GrantInfo:
    return GrantInfo(row.portfolio_id, grantee, parse_scope(row.scope), granter, row.granted_at)


def _require_sharer(session: Session, actor: Principal, portfolio_id: int) -> PortfolioRow:
    level = _access(session, actor, portfolio_id)
    portfolio = session.get(PortfolioRow, portfolio_id)
    if level is None or portfolio is None:
        raise NotFoundError(f"no portfolio {portfolio_id}")
    if not may_share(actor.role, level):
        raise PermissionDeniedError(_NOT_A_SHARER.format(portfolio_id))
    return portfolio


def _grant_audit(portfolio_id: int, grantee: str, scope: str) -> dict[str, Any]:
    return {"portfolio_id": portfolio_id, "grantee": grantee, "scope": scope}


def grant(
    engine: Engine, actor: Principal, portfolio_id: int, grantee_email: str, scope: str
) -> GrantInfo:
    """Share a portfolio with a user, to read or to write; granting again changes the scope."""
    wanted = parse_scope(scope)
    with UnitOfWork(engine) as uow:
        portfolio = _require_sharer(uow.session, actor, portfolio_id)
        grantee = _load_user(uow.session, grantee_email)
        if grantee.id == portfolio.owner_id:
            raise ConflictError(f"{grantee.email} owns portfolio {portfolio_id}")
        row = auth_repo.get_grant(uow.session, portfolio_id, grantee.id)
        if row is not None and row.scope == wanted:
            granter = uow.session.get(UserRow, row.granted_by) if row.granted_by else None
            return _grant_info(row, grantee.email, granter.email if granter else None)
        before = None if row is None else _grant_audit(portfolio_id, grantee.email, row.scope)
        if row is None:
            row = PortfolioGrantRow(portfolio_id=portfolio_id, grantee_id=grantee.id)
            uow.session.add(row)
        row.scope, row.granted_by, row.granted_at = wanted, actor.user_id, utcnow()
        repos.audit(
            uow.session,
            "grant" if before is None else "set_scope",
            "portfolio_grant",
            f"{portfolio_id}:{grantee.id}",
            user_id=actor.user_id,
            before=before,
            after=_grant_audit(portfolio_id, grantee.email, wanted),
        )
        uow.session.flush()
        info = _grant_info(row, grantee.email, actor.email)
        uow.commit()
        return info


def revoke_grant(engine: Engine, actor: Principal, portfolio_id: int, grantee_email: str) -> None:
    """Stop sharing a portfolio with a user (those who may share it; or the grantee, leaving)."""
    address = parse_email(grantee_email)
    with UnitOfWork(engine) as uow:
        level = _access(uow.session, actor, portfolio_id)
        if level is None:
            raise NotFoundError(f"no portfolio {portfolio_id}")
        if address != actor.email.lower() and not may_share(actor.role, level):
            raise PermissionDeniedError(_NOT_A_SHARER.format(portfolio_id))
        grantee = _load_user(uow.session, address)
        row = auth_repo.get_grant(uow.session, portfolio_id, grantee.id)
        if row is None:
            raise NotFoundError(f"portfolio {portfolio_id} is not shared with {grantee.email}")
        repos.audit(
            uow.session,
            "revoke",
            "portfolio_grant",
            f"{portfolio_id}:{grantee.id}",
            user_id=actor.user_id,
            before=_grant_audit(portfolio_id, grantee.email, row.scope),
        )
        uow.session.delete(row)
        uow.commit()


def list_grants(engine: Engine, actor: Principal, portfolio_id: int) -> list[GrantInfo]:
    """Who a portfolio is shared with: all of them for those who may share it, else only the
    actor's own grant."""
    with UnitOfWork(engine) as uow:
        level = _access(uow.session, actor, portfolio_id)
        if level is None:
            raise NotFoundError(f"no portfolio {portfolio_id}")
        only = None if may_share(actor.role, level) else actor.user_id
        return [
            _grant_info(row, email, by)
            for row, email, by in auth_repo.list_grants(uow.session, portfolio_id, only)
        ]


def find_portfolio(engine: Engine, name: str, owner: str | None = None) -> tuple[int, Principal]:
    """A portfolio's id and its owner, by name (for the operator's CLI)."""
    with UnitOfWork(engine) as uow:
        portfolio = repos.load_portfolio(uow.session, name, owner)
        row = uow.session.get(UserRow, portfolio.owner_id)
        assert row is not None
        return portfolio.id, Principal(row.id, row.email, Role(row.role))


# --- row-level security (PostgreSQL) ----------------------------------------------------------
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
        _check_password(password)
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
