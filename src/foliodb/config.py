"""Settings from the environment (FOLIODB_*), built once at start-up and passed down."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """An SQLite file in the user's data directory (~/.local/share/foliodb on Linux)."""
    path: Path = user_data_path("foliodb", appauthor=False) / "foliodb.db"
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FOLIODB_", extra="ignore")

    database_url: str | None = None
    pool_size: int = 5
    max_overflow: int = 5
    log_level: str = "WARNING"
    #: FRED API key for `foliodb macro fetch` (free at fred.stlouisfed.org); never printed.
    fred_api_key: SecretStr | None = None
    #: FRED API base URL (another one serves tests or a mirror).
    fred_url: str = "https://api.stlouisfed.org/fred"
    #: Signs access tokens (HS256): at least 32 bytes, e.g. `python -c "import secrets;
    #: print(secrets.token_urlsafe(48))"`. Required to issue or check tokens; never printed.
    secret_key: SecretStr | None = None
    #: Lifetime of an access token (a signed JWT, not revocable: keep it short) and of a
    #: refresh token (stored hashed, rotated on every use, revocable).
    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=14, ge=1)
    #: Failed logins allowed per account and per client IP within the sliding window.
    login_attempts_per_account: int = Field(default=5, ge=1)
    login_attempts_per_ip: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    #: Valuations each process keeps in memory (docs/server.md); 0 keeps none.
    valuation_cache: int = Field(default=256, ge=0)

    def resolved_database_url(self, override: str | None = None) -> str:
        """The URL to use: an explicit override, else FOLIODB_DATABASE_URL, else the default."""
        return normalize_database_url(override or self.database_url or default_database_url())


def normalize_database_url(value: str) -> str:
    """A plain path means an SQLite file (`my.db`, `~/books.db`); `postgres://` is taken as
    `postgresql://`, as libpq and most hosting providers write it."""
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    if value.startswith("postgres://"):
        return "postgresql://" + value.removeprefix("postgres://")
    return value
