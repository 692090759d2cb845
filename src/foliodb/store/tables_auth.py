"""Sign-in and sharing: refresh tokens, API keys, login attempts, portfolio grants (0010).

Secrets are never stored: refresh tokens and API keys keep only the SHA-256 of the secret,
passwords (in `users`) only their argon2 hash.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from foliodb.store.base import Base, UtcDateTime


class RefreshTokenRow(Base):
    """One refresh token. Each use revokes it and issues its successor (`replaced_by`) in the
    same `family_id`; a revoked token presented again revokes the whole family."""

    __tablename__ = "refresh_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    replaced_by: Mapped[int | None] = mapped_column(
        ForeignKey("refresh_tokens.id", ondelete="SET NULL")
    )


class ApiKeyRow(Base):
    """An API key for scripts: the secret `fdb_<id>_<random>` is shown once; we keep its hash."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class LoginAttemptRow(Base):
    """A failed (or still running) login, counted per account and per client IP over a
    sliding window; a successful login deletes its account's rows."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )


class PortfolioGrantRow(Base):
    """A portfolio shared with another user, to read or to write."""

    __tablename__ = "portfolio_grants"
    portfolio_id: Mapped[int] = mapped_column(
        ForeignKey("portfolios.id", ondelete="CASCADE"), primary_key=True
    )
    grantee_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    scope: Mapped[str] = mapped_column(String(5))
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    __table_args__ = (CheckConstraint("scope IN ('read','write')", name="scope"),)
