"""Tokens: signing in with a password (rate-limited), short-lived JWT access tokens, and
rotating refresh tokens with reuse detection."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foliodb.config import Settings
from foliodb.errors import AuthenticationError, InputError, InputProblem, RateLimitedError
from foliodb.services.auth.passwords import digest, hash_password, needs_rehash, verify_password
from foliodb.services.auth.principals import Principal, Role
from foliodb.store.base import utcnow
from foliodb.store.repos import auth as auth_repo
from foliodb.store.tables import UserRow
from foliodb.store.tables_auth import RefreshTokenRow
from foliodb.store.uow import UnitOfWork


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    #: Seconds the access token is valid for.
    expires_in: int = dataclasses.field(kw_only=True)


MIN_SECRET_KEY_BYTES = 32  # HS256: a key shorter than the hash output weakens it (RFC 7518)
ALGORITHM = "HS256"
REFRESH_TOKEN_PREFIX = "fdr_"  # noqa: S105 - a marker for secret scanners, not a secret


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
        token_hash=digest(refresh_token),
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
        if stored is not None and needs_rehash(stored):
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
        row = auth_repo.refresh_token_by_hash(uow.session, digest(refresh_token))
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
        row = auth_repo.refresh_token_by_hash(uow.session, digest(refresh_token))
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
