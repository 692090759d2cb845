"""Reference data shared by every portfolio: securities and pricing packs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from foliodb.domain.types import Security
from foliodb.server.deps import Admin, Principal, State, Writer
from foliodb.server.schemas.common import NAME_PATTERN, Page, problems
from foliodb.server.schemas.portfolios import SecurityCreate, SecurityPublic
from foliodb.server.schemas.valuation import (
    PackCreate,
    PackCreated,
    PackPublic,
    PackSummaryPublic,
)
from foliodb.services import paging, securities

router = APIRouter()
PackId = Annotated[str, Path(min_length=1, max_length=32, pattern=NAME_PATTERN)]


@router.get(
    "/securities",
    response_model=Page[SecurityPublic],
    tags=["securities"],
    responses=problems(401, 422),
)
def list_securities(
    _: Principal,
    state: State,
    search: Annotated[str | None, Query(max_length=200, pattern=NAME_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=paging.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Page[SecurityPublic]:
    """Securities by symbol; `search` matches part of the symbol or the name."""
    found, count = securities.list_securities(state.database.engine, search, limit, offset)
    return Page[SecurityPublic](data=[SecurityPublic.model_validate(s) for s in found], count=count)


@router.post(
    "/securities",
    response_model=SecurityPublic,
    status_code=status.HTTP_201_CREATED,
    tags=["securities"],
    responses=problems(401, 403, 409, 422),
)
def create_security(body: SecurityCreate, _: Writer, state: State) -> SecurityPublic:
    """Add a security (any role but VIEWER: securities are shared reference data)."""
    created = securities.create_security(state.database.engine, Security(**body.model_dump()))
    return SecurityPublic.model_validate(created)


@router.get(
    "/packs",
    response_model=list[PackSummaryPublic],
    tags=["packs"],
    responses=problems(401, 422),
)
def list_packs(
    _: Principal,
    state: State,
    limit: Annotated[int, Query(ge=0, le=100_000, description="Newest N (0: all)")] = 20,
) -> list[PackSummaryPublic]:
    """Pricing packs, newest first."""
    packs = state.database.packs()
    return [PackSummaryPublic.model_validate(p) for p in (packs[:limit] if limit else packs)]


@router.get(
    "/packs/{pack_id}", response_model=PackPublic, tags=["packs"], responses=problems(401, 404)
)
def get_pack(pack_id: PackId, _: Principal, state: State) -> PackPublic:
    """A pack's status, hash, prices and FX rates."""
    return PackPublic.model_validate(state.database.pack(pack_id))


@router.post(
    "/packs",
    response_model=PackCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["packs"],
    responses={
        **problems(401, 403, 409, 422),
        200: {"model": PackCreated, "description": "Already sealed, or not restated"},
    },
)
def create_pack(body: PackCreate, _: Admin, state: State, response: Response) -> PackCreated:
    """Build and seal the pack of a date (ADMIN: a pack changes every portfolio's history
    from its date on). A pack that cannot be complete is stored FAILED with its reason."""
    result = state.database.create_pack(body.date, body.carry_forward, body.from_bars)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    pack = result.pack
    return PackCreated(
        pack_id=pack.pack_id,
        date=pack.date,
        status=pack.status,
        created=result.created,
        content_hash=pack.content_hash,
        supersedes=pack.supersedes,
        reason=pack.reason,
        failure=result.failure,
        carried=list(result.carried),
    )
