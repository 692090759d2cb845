"""The one place that builds engines and checks the schema."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from foliodb.config import Settings
from foliodb.errors import FoliodbError, InputError, InputProblem
from foliodb.store import migrate
from foliodb.store.engine import make_engine
from foliodb.store.migrate import SchemaStatus as SchemaStatus  # re-exported for the edges


class SchemaNotCurrentError(FoliodbError):
    """The database has not been created or migrated to this version of foliodb."""


class DatabaseUnavailableError(FoliodbError):
    """The database cannot be opened: server down or refusing us, or a file that is not one."""


def load_settings(settings: Settings | None = None) -> Settings:
    """`settings`, or those of the environment; a bad FOLIODB_* value is an InputError
    naming the variable."""
    if settings is not None:
        return settings
    try:
        return Settings()
    except ValidationError as exc:
        raise InputError(
            InputProblem(
                error["msg"],
                field="FOLIODB_" + "_".join(str(part) for part in error["loc"]).upper(),
                value=str(error.get("input")),
            )
            for error in exc.errors()
        ) from None


def open_engine(
    url: str | None = None, settings: Settings | None = None, *, create: bool = False
) -> Engine:
    """An engine for `url` (or the configured default). An SQLite file is made, with its
    directory, only when `create` is set; otherwise a missing file is refused untouched."""
    settings = load_settings(settings)
    resolved = settings.resolved_database_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError:
        raise InputError(
            f"{resolved!r} is not a database URL (expected sqlite:///PATH or "
            f"postgresql://USER@HOST/DATABASE)"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()  # sqlite:///~/x.db is in the home directory
        parsed = parsed.set(database=str(path))
        resolved = parsed.render_as_string(hide_password=False)
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise SchemaNotCurrentError(
                f"no database at {path}: run `foliodb init` to create it, or pass --db / set "
                f"FOLIODB_DATABASE_URL (from Python: foliodb.connect(url, create=True))"
            )
    try:
        return make_engine(
            resolved, pool_size=settings.pool_size, max_overflow=settings.max_overflow
        )
    except ValueError:  # an engine foliodb does not support
        raise InputError(
            f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
            f"use sqlite:/// or postgresql://"
        ) from None


def _reachable(engine: Engine) -> None:
    """Open one connection; failing to is a message for people, not a traceback."""
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailableError(f"cannot open database {where}: {exc.orig}") from exc


def upgrade(engine: Engine) -> SchemaStatus:
    _reachable(engine)
    migrate.upgrade(engine)
    return migrate.status(engine)


def status(engine: Engine) -> SchemaStatus:
    _reachable(engine)
    return migrate.status(engine)


def require_current(engine: Engine) -> None:
    current = status(engine)
    if not current.is_current:
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaNotCurrentError(
            f"database {where} is at schema {current.current or 'none'}, foliodb needs "
            f"{current.head}: run `foliodb init` (new) or `foliodb db upgrade`"
        )
