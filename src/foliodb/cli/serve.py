"""`foliodb serve`: the REST server (docs/server.md), run by uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

import foliodb
from foliodb.cli import common, render
from foliodb.cli.common import DbOption, handles_errors
from foliodb.config import Settings
from foliodb.errors import InputError, InputProblem
from foliodb.services import auth

#: The app factory each worker imports (the server package is the CLI's sibling, not below
#: it, so it is named here rather than imported).
APP_FACTORY = "foliodb.server:create_app"


@handles_errors
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (0.0.0.0: every one).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", help="Worker processes (each with its own pool).", min=1)
    ] = 1,
    db: DbOption = None,
) -> None:
    """Run the REST server: API under /api/v1, docs at /docs, health at /health.

    Needs FOLIODB_SECRET_KEY (signs access tokens; at least 32 bytes). The database must be
    at the current schema; on PostgreSQL connect as the app role (docs/server.md).
    """
    import uvicorn

    try:
        settings = Settings()
    except ValueError as exc:  # pydantic's ValidationError: a malformed FOLIODB_* variable
        raise InputError(InputProblem(str(exc), field="FOLIODB_*")) from None
    auth.check_settings(settings)
    url = common.url(db)
    with foliodb.connect(url, settings=settings) as database:  # reachable, at the schema
        shown = database.url
    if url:
        os.environ["FOLIODB_DATABASE_URL"] = url  # the workers build their app from it
    render.err_console.print(
        f"serving {shown} on http://{host}:{port} ({workers} worker{'s' * (workers > 1)})",
        highlight=False,
    )
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )
