"""Sign-in (OAuth2 password flow), token refresh and sign-out, the principal, API keys and
users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, status

from foliodb.server.deps import Admin, Anonymous, Principal, State, client_ip
from foliodb.server.schemas.common import MAX_ID, NAME_PATTERN, TEXT_PATTERN, Page, problems
from foliodb.server.schemas.identity import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    PrincipalPublic,
    RefreshRequest,
    TokenPublic,
    UserCreate,
    UserCreated,
    UserPublic,
)
from foliodb.services import audit, auth

router = APIRouter(tags=["auth"])
TOKEN_ERRORS = problems(401, 422, 429)


def _signed_in(state: State, pair: auth.TokenPair, action: str) -> TokenPublic:
    """The audit entry of a sign-in (the user is the token's)."""
    engine = state.database.engine
    principal = auth.principal_from_access_token(engine, state.settings, pair.access_token)
    audit.record(
        engine,
        action,
        "user",
        str(principal.user_id),
        user_id=principal.user_id,
        after={"email": principal.email},
    )
    return TokenPublic.model_validate(pair)


@router.post("/auth/token", response_model=TokenPublic, responses=TOKEN_ERRORS)
def sign_in(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=320, pattern=NAME_PATTERN)],
    password: Annotated[str, Form(min_length=1, max_length=1024, pattern=TEXT_PATTERN)],
    state: State,
    _: Anonymous,
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    scope: Annotated[str, Form(max_length=200)] = "",
) -> TokenPublic:
    """OAuth2 password flow: `username` (the email) and `password` as a form. Failed
    attempts are limited per account and per IP (429 with Retry-After)."""
    pair = auth.login(state.database.engine, state.settings, username, password, client_ip(request))
    return _signed_in(state, pair, "sign_in")


@router.post("/auth/refresh", response_model=TokenPublic, responses=TOKEN_ERRORS)
def refresh(body: RefreshRequest, state: State, _: Anonymous) -> TokenPublic:
    """New tokens for a refresh token (which is spent: each is used once)."""
    pair = auth.refresh(state.database.engine, state.settings, body.refresh_token)
    return _signed_in(state, pair, "refresh_token")


@router.post("/auth/revoke", status_code=status.HTTP_204_NO_CONTENT, responses=problems(422))
def revoke(body: RefreshRequest, state: State, _: Anonymous) -> None:
    """Sign out: revoke a refresh token and every token renewed from it."""
    auth.revoke_refresh(state.database.engine, body.refresh_token)
    audit.record(state.database.engine, "sign_out", "refresh_token", "revoked")


@router.get("/me", response_model=PrincipalPublic, responses=problems(401))
def me(principal: Principal) -> PrincipalPublic:
    return PrincipalPublic.model_validate(principal)


# --- API keys -------------------------------------------------------------------------------
@router.get("/api-keys", response_model=list[ApiKeyPublic], responses=problems(401))
def list_api_keys(principal: Principal, state: State) -> list[ApiKeyPublic]:
    """The principal's API keys (never their secrets)."""
    return [
        ApiKeyPublic.model_validate(k) for k in auth.list_api_keys(state.database.engine, principal)
    ]


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 422),
)
def create_api_key(body: ApiKeyCreate, principal: Principal, state: State) -> ApiKeyCreated:
    """A new API key; its `secret` is shown in this answer only."""
    info, secret = auth.create_api_key(state.database.engine, principal, body.name)
    return ApiKeyCreated.model_validate(
        {**ApiKeyPublic.model_validate(info).model_dump(), "secret": secret}
    )


@router.delete("/api-keys/{key_id}", response_model=ApiKeyPublic, responses=problems(401, 404))
def revoke_api_key(
    key_id: Annotated[int, Path(ge=1, le=MAX_ID)], principal: Principal, state: State
) -> ApiKeyPublic:
    """Revoke one of the principal's keys (an ADMIN: anyone's)."""
    return ApiKeyPublic.model_validate(
        auth.revoke_api_key(state.database.engine, principal, key_id)
    )


# --- users (ADMIN) --------------------------------------------------------------------------
@router.get("/users", response_model=Page[UserPublic], responses=problems(401, 403))
def list_users(principal: Admin, state: State) -> Page[UserPublic]:
    users = auth.list_users(state.database.engine, actor=principal)
    return Page[UserPublic](data=[UserPublic.model_validate(u) for u in users], count=len(users))


@router.post(
    "/users",
    response_model=UserCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 409, 422),
)
def create_user(body: UserCreate, principal: Admin, state: State) -> UserCreated:
    """A new user; without a password one is generated and shown in this answer only."""
    created, password = auth.create_user(
        state.database.engine,
        body.email,
        body.role,
        body.password,
        display_name=body.display_name,
        actor=principal,
    )
    return UserCreated(
        user_id=created.user_id, email=created.email, role=created.role, password=password
    )
