"""The per-request context: who is asking (row-level security on PostgreSQL) and who is
acting (the audit trail).

The use cases open their own transactions, several per request. On PostgreSQL every one of
them starts with the requester's row-level security settings (`auth.bind_rls_context` hooks
the engine; `auth.acting_as` names the requester), so the database enforces the same isolation
as the application's checks, whichever use case runs. Audit entries written meanwhile name
the requester, their IP and user agent. Both live in context variables of the request's task,
copied into the worker thread that runs the route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine

from foliodb.services import audit, auth


def install(engine: Engine) -> None:
    """Start every transaction with the requester's row-level security settings."""
    auth.bind_rls_context(engine)


@asynccontextmanager
async def requested_by(
    principal: auth.Principal, ip: str | None, user_agent: str | None
) -> AsyncIterator[None]:
    """Within the block, queries run as `principal` and audit entries name them."""
    with (
        auth.acting_as(principal),
        audit.acting_as(audit.Actor(principal.user_id, ip, user_agent)),
    ):
        yield


@asynccontextmanager
async def anonymous(ip: str | None, user_agent: str | None) -> AsyncIterator[None]:
    """A request before sign-in (the token routes): audit entries name its IP and agent."""
    with audit.acting_as(audit.Actor(None, ip, user_agent)):
        yield
