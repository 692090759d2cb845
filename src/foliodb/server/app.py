"""`create_app`: the REST server (FastAPI), versioned under /api/v1, OpenAPI at
/openapi.json, docs at /docs, health at /health (docs/server.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

import foliodb
from foliodb.config import Settings
from foliodb.database import Database
from foliodb.server import context, problems
from foliodb.server.deps import ServerState
from foliodb.server.limits import BodyLimit
from foliodb.server.routes import (
    audit,
    health,
    holdings,
    market,
    performance,
    portfolios,
    reference,
    transactions,
)
from foliodb.server.routes import auth as auth_routes
from foliodb.server.schemas.common import Problem
from foliodb.server.schemas.common import problems as problems_of
from foliodb.services import auth, bootstrap

API = "/api/v1"
#: What any signed-in route may answer besides its own errors: a body that is not JSON
#: (400), no or a bad credential (401), a body too large (413), an invalid request (422).
COMMON_ERRORS = problems_of(400, 401, 413, 422)


def create_app(database: Database | str | None = None, settings: Settings | None = None) -> FastAPI:
    """The server of `database` (a Database, a URL, or the configured one). Refuses to build
    without a usable FOLIODB_SECRET_KEY, or on a database not at the current schema. A
    database it opened itself is closed when the app shuts down."""
    settings = settings or Settings()
    auth.check_settings(settings)
    owned = not isinstance(database, Database)
    db = (
        database if isinstance(database, Database) else foliodb.connect(database, settings=settings)
    )
    context.install(db.engine)
    head = bootstrap.status(db.engine).head

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            db.close()

    app = FastAPI(
        title="foliodb",
        version=foliodb.__version__,
        summary="Portfolio database: exact ledger, sealed pricing packs, valuation, analytics.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.foliodb = ServerState(db, settings, head)
    problems.install(app)
    app.add_middleware(BodyLimit)
    app.include_router(health.router)
    for module in (
        auth_routes,
        portfolios,
        transactions,
        holdings,
        performance,
        reference,
        market,
        audit,
    ):
        app.include_router(module.router, prefix=API, responses=COMMON_ERRORS)

    described = app.openapi

    def openapi() -> dict[str, Any]:
        return _problem_media_type(described())

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _problem_media_type(schema: dict[str, Any]) -> dict[str, Any]:
    """Every error answer is documented as what it is: application/problem+json with the
    Problem schema (FastAPI documents its own 422 otherwise). In place; idempotent."""
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if code.isdigit() and int(code) >= 400:
                    response["content"] = {problems.MEDIA_TYPE: problem}
                    if code == "422":
                        response["description"] = (
                            "The request is not valid; `errors` lists every bad field"
                        )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    if "Problem" not in components:
        definitions = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definitions.pop("$defs", {}))
        components["Problem"] = definitions
    return schema
