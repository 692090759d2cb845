"""Schemathesis against the app's own OpenAPI: generated requests (valid ones, then invalid
ones) signed in as the owner of a portfolio, with its id in the path so they reach the
handlers. No answer may be a 5xx, and every answer must match the schema: its documented
status codes, content types and body schemas. Bounded and deterministic (derandomized)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.conftest import SQLITE_ONLY, World

#: Examples per operation and mode: enough to reach every handler with odd values, few
#: enough for the whole directory to run in seconds.
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 6, schemathesis.GenerationMode.NEGATIVE: 3}
#: PostgreSQL runs the valid requests again with fewer: what differs there is how values
#: reach the database (NUL bytes, widths, integer ranges), not the handlers' logic.
POSTGRESQL_EXAMPLES = 4
#: Expensive operations (an HTML report with charts) get fewer.
FEWER = {"GET /api/v1/portfolios/{portfolio_id}/report": 2}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _aim(case: Any, world: World, scratch: int) -> None:
    """Point generated path parameters at real resources: Alice's portfolio and its
    transaction; a deletion of the portfolio at a scratch one the other cases do not need."""
    parameters = case.path_parameters or {}
    label = f"{case.method} {case.path}"
    if "portfolio_id" in parameters:
        deleting = label == "DELETE /api/v1/portfolios/{portfolio_id}"
        parameters["portfolio_id"] = scratch if deleting else world.pid
    if "tx_id" in parameters and case.method != "DELETE":
        parameters["tx_id"] = world.tx_id


#: Operations only an ADMIN may call are fuzzed as Ada (ADMIN); the others as Alice.
AS_ADMIN = {"POST /api/v1/packs", "GET /api/v1/users", "POST /api/v1/users"}


def check(
    operation: Any,
    mode: schemathesis.GenerationMode,
    world: World,
    scratch: int,
    headers: dict[str, str],
) -> None:
    """Send the operation's generated requests; raise what a check finds."""
    label = f"{operation.method.upper()} {operation.path}"

    examples = EXAMPLES[mode]
    if world.db.engine.dialect.name == "postgresql":
        examples = min(examples, POSTGRESQL_EXAMPLES)

    @settings(
        max_examples=FEWER.get(label, examples),
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        _aim(case, world, scratch)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def fuzz(world: World, mode: schemathesis.GenerationMode) -> list[str]:
    """Every operation's failures (5xx, or an answer the schema does not describe)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    scratch = world.post("alice", "/api/v1/portfolios", json={"name": "scratch"}).json()["id"]
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err raises here: good
        operations += 1
        label = f"{operation.method.upper()} {operation.path}"
        headers = world.headers("ada" if label in AS_ADMIN else "alice")
        try:
            check(operation, mode, world, scratch, headers)
        except Unsatisfiable:  # nothing invalid to send (no parameters, no body)
            assert mode is schemathesis.GenerationMode.NEGATIVE, label
        except Exception as exc:  # every operation's failure, reported together
            failures.append(f"{label}: {exc}")
    assert operations >= 40
    return failures


def test_valid_requests_get_no_server_error_and_answers_match_the_schema(world: World) -> None:
    failures = fuzz(world, schemathesis.GenerationMode.POSITIVE)
    assert not failures, "\n\n".join(failures)


@SQLITE_ONLY  # refused before any query
def test_invalid_requests_are_refused_with_a_4xx_that_matches_the_schema(world: World) -> None:
    failures = fuzz(world, schemathesis.GenerationMode.NEGATIVE)
    assert not failures, "\n\n".join(failures)
