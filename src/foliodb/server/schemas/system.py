"""The audit trail and the health checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from foliodb.server.schemas.common import Schema


class AuditEntryPublic(Schema):
    id: int
    at: dt.datetime
    user_id: int | None
    user: str | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    ip: str | None
    user_agent: str | None


class HealthPublic(Schema):
    """`status` is "ok" when the database answers at the schema this server needs."""

    status: str
    version: str
    database: str
    database_reachable: bool
    migrations_current: bool | None
    schema_revision: str | None
    schema_head: str


class PoolPublic(Schema):
    size: int | None
    checked_out: int | None
    overflow: int | None


class DatabaseHealthPublic(Schema):
    engine: str
    reachable: bool
    latency_ms: float | None
    pool: PoolPublic
