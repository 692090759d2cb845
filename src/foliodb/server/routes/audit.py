"""`GET /audit`: the audit trail (an ADMIN: everything; others: changes to the portfolios
they own, and their own actions)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from foliodb.errors import InputError, InputProblem
from foliodb.server.deps import Principal, State
from foliodb.server.schemas.common import NAME_PATTERN, Page, problems
from foliodb.server.schemas.system import AuditEntryPublic
from foliodb.services import auth, paging
from foliodb.services.audit import list_audit

router = APIRouter(tags=["audit"])


def _utc(moment: dt.datetime) -> dt.datetime:
    """An instant in UTC (a time without offset is UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise InputError(
            InputProblem("is out of range", field="since", value=moment.isoformat())
        ) from None


@router.get("/audit", response_model=Page[AuditEntryPublic], responses=problems(401, 422))
def audit(
    principal: Principal,
    state: State,
    entity_type: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN)] = None,
    entity_id: Annotated[str | None, Query(max_length=128, pattern=NAME_PATTERN)] = None,
    since: Annotated[dt.datetime | None, Query(description="At or after this time")] = None,
    limit: Annotated[int, Query(ge=1, le=paging.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Page[AuditEntryPublic]:
    """Audit entries, newest first: who did what to which entity, before and after, from
    which IP and user agent."""
    if since is not None:
        since = _utc(since)
    entries, count = list_audit(
        state.database.engine,
        user_id=None if principal.role is auth.Role.ADMIN else principal.user_id,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        limit=limit,
        offset=offset,
    )
    return Page[AuditEntryPublic](
        data=[AuditEntryPublic.model_validate(e) for e in entries], count=count
    )
