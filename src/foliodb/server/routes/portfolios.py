"""Portfolios (list those visible, create, show, rename or set the benchmark, delete), their
sharing grants and their broker accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from foliodb.errors import PermissionDeniedError
from foliodb.server.deps import (
    OwnedPortfolio,
    Principal,
    ReadablePortfolio,
    State,
    WritablePortfolio,
)
from foliodb.server.schemas.common import MAX_ID, Page, problems
from foliodb.server.schemas.identity import Email, GrantCreate, GrantPublic
from foliodb.server.schemas.portfolios import (
    AccountCreate,
    AccountPublic,
    AccountUpdate,
    PortfolioCreate,
    PortfolioPublic,
    PortfolioUpdate,
)
from foliodb.services import accounts, auth, portfolios

router = APIRouter(tags=["portfolios"])
READ = problems(401, 404, 422)
WRITE = problems(401, 403, 404, 409, 422)


@router.get("/portfolios", response_model=Page[PortfolioPublic], responses=problems(401))
def list_portfolios(principal: Principal, state: State) -> Page[PortfolioPublic]:
    """The portfolios the principal owns or that are shared with them (an ADMIN: all)."""
    engine = state.database.engine
    found = portfolios.list_records(engine, auth.visible_portfolio_ids(engine, principal))
    return Page[PortfolioPublic](
        data=[PortfolioPublic.model_validate(p) for p in found], count=len(found)
    )


@router.post(
    "/portfolios",
    response_model=PortfolioPublic,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 409, 422),
)
def create_portfolio(body: PortfolioCreate, principal: Principal, state: State) -> PortfolioPublic:
    """A new portfolio owned by the principal."""
    if not auth.can_create_portfolio(principal):
        raise PermissionDeniedError(f"a {principal.role.value} cannot own portfolios")
    state.database.create_portfolio(
        body.name, body.base_currency, body.booking_method.value, owner=principal.email
    )
    created = portfolios.find_record(state.database.engine, principal.email, body.name)
    return PortfolioPublic.model_validate(created)


@router.get("/portfolios/{portfolio_id}", response_model=PortfolioPublic, responses=READ)
def get_portfolio(portfolio: ReadablePortfolio, state: State) -> PortfolioPublic:
    return PortfolioPublic.model_validate(
        portfolios.get_record(state.database.engine, portfolio.id)
    )


@router.patch("/portfolios/{portfolio_id}", response_model=PortfolioPublic, responses=WRITE)
def update_portfolio(
    body: PortfolioUpdate, portfolio: WritablePortfolio, state: State
) -> PortfolioPublic:
    """Rename the portfolio or set its benchmark (`"benchmark": null` removes it)."""
    changes = body.model_dump(include=body.model_fields_set)
    return PortfolioPublic.model_validate(
        portfolios.update_portfolio(state.database.engine, portfolio.id, **changes)
    )


@router.delete("/portfolios/{portfolio_id}", response_model=PortfolioPublic, responses=WRITE)
def delete_portfolio(portfolio: OwnedPortfolio, state: State) -> PortfolioPublic:
    """Delete the portfolio and everything in it (its owner or an ADMIN); answers what it was."""
    return PortfolioPublic.model_validate(
        portfolios.delete_portfolio(state.database.engine, portfolio.id)
    )


# --- grants ---------------------------------------------------------------------------------
@router.get("/portfolios/{portfolio_id}/grants", response_model=list[GrantPublic], responses=READ)
def list_grants(
    portfolio: ReadablePortfolio, principal: Principal, state: State
) -> list[GrantPublic]:
    """Who the portfolio is shared with (a grantee sees only their own grant)."""
    grants = auth.list_grants(state.database.engine, principal, portfolio.id)
    return [GrantPublic.model_validate(g) for g in grants]


@router.post(
    "/portfolios/{portfolio_id}/grants",
    response_model=GrantPublic,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def grant(
    body: GrantCreate, portfolio: WritablePortfolio, principal: Principal, state: State
) -> GrantPublic:
    """Share the portfolio with a user, to read or to write (again: changes the scope)."""
    return GrantPublic.model_validate(
        auth.grant(state.database.engine, principal, portfolio.id, body.grantee_email, body.scope)
    )


@router.delete(
    "/portfolios/{portfolio_id}/grants/{grantee_email}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE,
)
def revoke_grant(
    grantee_email: Annotated[Email, Path()],
    portfolio: ReadablePortfolio,
    principal: Principal,
    state: State,
) -> None:
    """Stop sharing the portfolio with a user (a grantee may remove their own grant)."""
    auth.revoke_grant(state.database.engine, principal, portfolio.id, grantee_email)


# --- accounts -------------------------------------------------------------------------------
@router.get(
    "/portfolios/{portfolio_id}/accounts", response_model=list[AccountPublic], responses=READ
)
def list_accounts(portfolio: ReadablePortfolio, state: State) -> list[AccountPublic]:
    found = accounts.list_accounts(state.database.engine, portfolio.id)
    return [AccountPublic.model_validate(a) for a in found]


@router.post(
    "/portfolios/{portfolio_id}/accounts",
    response_model=AccountPublic,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def create_account(
    body: AccountCreate, portfolio: WritablePortfolio, state: State
) -> AccountPublic:
    return AccountPublic.model_validate(
        accounts.create_account(
            state.database.engine, portfolio.id, body.name, body.broker, body.account_number
        )
    )


@router.patch(
    "/portfolios/{portfolio_id}/accounts/{account_id}",
    response_model=AccountPublic,
    responses=WRITE,
)
def update_account(
    account_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: AccountUpdate,
    portfolio: WritablePortfolio,
    state: State,
) -> AccountPublic:
    """Change the account's broker or number (its name is what transactions refer to)."""
    changes = body.model_dump(include=body.model_fields_set)
    return AccountPublic.model_validate(
        accounts.update_account(state.database.engine, portfolio.id, account_id, **changes)
    )
