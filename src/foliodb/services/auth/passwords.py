"""Passwords: argon2id hashing and verification, generation and the length rules; and the
plain digest kept of random secrets (refresh tokens, API keys)."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
from collections.abc import Iterator

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from foliodb.errors import InputError, InputProblem

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

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


def check_password(password: str) -> None:
    """Refuse a password shorter or longer than the limits (an InputError on `password`)."""
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


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with other parameters than the current hasher's."""
    return _hasher.check_needs_rehash(password_hash)


def digest(secret: str) -> str:
    """The SHA-256 hex digest kept of a random secret (a refresh token, an API key)."""
    return hashlib.sha256(secret.encode()).hexdigest()
