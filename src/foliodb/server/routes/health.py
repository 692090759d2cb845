"""`/health` and `/health/database`: unauthenticated, cheap, no secrets."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

import foliodb
from foliodb.server.deps import State
from foliodb.server.schemas.system import DatabaseHealthPublic, HealthPublic, PoolPublic

router = APIRouter(tags=["health"])


def _ping(engine: Engine) -> float | None:
    """Milliseconds of one round trip, or None when the database does not answer."""
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return None
    return (time.perf_counter() - started) * 1000


@router.get(
    "/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database is not usable"}},
)
def health(state: State, response: Response) -> HealthPublic:
    """Whether the server can serve: the database answers, at the schema it needs."""
    engine = state.database.engine
    reachable = _ping(engine) is not None
    status = None
    if reachable:
        try:
            status = state.schema_check.current(engine)
        except (SQLAlchemyError, foliodb.FoliodbError):
            reachable = False
    current = status is not None and status.is_current
    if not current:
        response.status_code = 503
    return HealthPublic(
        status="ok" if current else ("outdated_schema" if reachable else "unavailable"),
        version=foliodb.__version__,
        database=engine.dialect.name,
        database_reachable=reachable,
        migrations_current=None if status is None else status.is_current,
        schema_revision=None if status is None else status.current,
        schema_head=state.schema_head,
    )


@router.get(
    "/health/database",
    response_model=DatabaseHealthPublic,
    responses={503: {"model": DatabaseHealthPublic, "description": "No answer"}},
)
def database_health(state: State, response: Response) -> DatabaseHealthPublic:
    """One round trip's latency and the connection pool's use."""
    engine = state.database.engine
    latency = _ping(engine)
    if latency is None:
        response.status_code = 503
    pool = engine.pool
    usage = (
        PoolPublic(size=pool.size(), checked_out=pool.checkedout(), overflow=pool.overflow())
        if isinstance(pool, QueuePool)
        else PoolPublic(size=None, checked_out=None, overflow=None)
    )
    return DatabaseHealthPublic(
        engine=engine.dialect.name,
        reachable=latency is not None,
        latency_ms=None if latency is None else round(latency, 3),
        pool=usage,
    )
