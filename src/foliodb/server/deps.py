"""Dependencies of the routes, as `Annotated` aliases: the server's state, the signed-in
principal, and portfolios the principal may read or write."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from foliodb.config import Settings
from foliodb.database import Database
from foliodb.errors import AuthenticationError, PermissionDeniedError
from foliodb.server import context
from foliodb.server.schemas.common import MAX_ID
from foliodb.services import auth, bootstrap
from foliodb.services.results import PortfolioRef

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105  (a route, not a password)


#: Seconds a schema check is reused: reading the migration scripts costs milliseconds and a
#: health check must stay cheap (its database round trip is made every time).
SCHEMA_CHECK_SECONDS = 10.0


@dataclass
class SchemaCheck:
    """The last schema status seen, and when (shared by the requests of one app)."""

    status: bootstrap.SchemaStatus | None = None
    at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self, engine: Engine) -> bootstrap.SchemaStatus:
        with self.lock:
            if self.status is None or time.monotonic() - self.at > SCHEMA_CHECK_SECONDS:
                self.status, self.at = bootstrap.status(engine), time.monotonic()
            return self.status


@dataclass(frozen=True)
class ServerState:
    """What `create_app` builds once: the database, the settings, the schema the code needs."""

    database: Database
    settings: Settings
    schema_head: str
    schema_check: SchemaCheck = field(default_factory=SchemaCheck)


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.foliodb
    return state


State = Annotated[ServerState, Depends(get_state)]

bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (POST /api/v1/api-keys)"
)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


async def current_principal(
    request: Request,
    state: State,
    token: Annotated[str | None, Depends(bearer)],
    key: Annotated[str | None, Depends(api_key)],
) -> AsyncIterator[auth.Principal]:
    """The principal of the request's access token (`Authorization: Bearer <JWT>`) or API
    key (`X-API-Key: <key>`, or `Authorization: Bearer fdb_...`); 401 without a valid one.
    The rest of the request queries the database as them and audits in their name."""
    engine = state.database.engine
    if token and token.startswith(auth.API_KEY_PREFIX):  # an API key sent as a bearer token
        token, key = None, token
    if token:
        principal = await run_in_threadpool(
            auth.principal_from_access_token, engine, state.settings, token
        )
    elif key:
        principal = await run_in_threadpool(auth.principal_from_api_key, engine, key)
    else:
        raise AuthenticationError(
            "sign in first: send Authorization: Bearer <access token> or X-API-Key: <key>"
        )
    async with context.requested_by(principal, client_ip(request), user_agent(request)):
        yield principal


async def anonymous_request(request: Request) -> AsyncIterator[None]:
    """A request of the token routes: audit entries name its IP and user agent."""
    async with context.anonymous(client_ip(request), user_agent(request)):
        yield


Principal = Annotated[auth.Principal, Depends(current_principal)]
Anonymous = Annotated[None, Depends(anonymous_request)]

PortfolioId = Annotated[int, Path(ge=1, le=MAX_ID, description="A portfolio's id")]


def readable_portfolio(
    portfolio_id: PortfolioId, principal: Principal, state: State
) -> PortfolioRef:
    """The portfolio, when the principal may see it (404 otherwise, as if it did not exist)."""
    return auth.require_portfolio(state.database.engine, principal, portfolio_id, "read")


def writable_portfolio(
    portfolio_id: PortfolioId, principal: Principal, state: State
) -> PortfolioRef:
    """The portfolio, when the principal may change it (403 when it may only read it)."""
    return auth.require_portfolio(state.database.engine, principal, portfolio_id, "write")


def owned_portfolio(portfolio_id: PortfolioId, principal: Principal, state: State) -> PortfolioRef:
    """The portfolio, when the principal owns it (or is ADMIN): deleting it."""
    return auth.require_portfolio(state.database.engine, principal, portfolio_id, "owner")


ReadablePortfolio = Annotated[PortfolioRef, Depends(readable_portfolio)]
WritablePortfolio = Annotated[PortfolioRef, Depends(writable_portfolio)]
OwnedPortfolio = Annotated[PortfolioRef, Depends(owned_portfolio)]


def writer(principal: Principal) -> auth.Principal:
    """A principal who may change shared reference data (VIEWER may not)."""
    if principal.role is auth.Role.VIEWER:
        raise PermissionDeniedError("a VIEWER reads, never writes")
    return principal


def admin(principal: Principal) -> auth.Principal:
    if principal.role is not auth.Role.ADMIN:
        raise PermissionDeniedError("only an ADMIN may do this")
    return principal


Writer = Annotated[auth.Principal, Depends(writer)]
Admin = Annotated[auth.Principal, Depends(admin)]
