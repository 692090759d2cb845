"""The one place that builds engines and checks the schema."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from foliodb.config import Settings
from foliodb.errors import FoliodbError
from foliodb.store import migrate
from foliodb.store.engine import make_engine
from foliodb.store.migrate import SchemaStatus


class SchemaNotCurrentError(FoliodbError):
    """The database has not been created or migrated to this version of foliodb."""


def open_engine(
    url: str | None = None, settings: Settings | None = None, *, create: bool = False
) -> Engine:
    """An engine for `url` (or the configured default). An SQLite file is made, with its
    directory, only when `create` is set; otherwise a missing file is refused untouched."""
    settings = settings or Settings()
    resolved = settings.resolved_database_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise SchemaNotCurrentError(
                f"no database at {path}: run `foliodb init` to create it (or pass --db / set "
                f"FOLIODB_DATABASE_URL)"
            )
    return make_engine(resolved, pool_size=settings.pool_size, max_overflow=settings.max_overflow)


def upgrade(engine: Engine) -> SchemaStatus:
    migrate.upgrade(engine)
    return migrate.status(engine)


def status(engine: Engine) -> SchemaStatus:
    return migrate.status(engine)


def require_current(engine: Engine) -> None:
    current = migrate.status(engine)
    if not current.is_current:
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaNotCurrentError(
            f"database {where} is at schema {current.current or 'none'}, foliodb needs "
            f"{current.head}: run `foliodb init` (new) or `foliodb db upgrade`"
        )
