"""The authorisation sweep: every route of the app, every method, tried by users of every
role on Alice's resources. It is generated from the route table, so a route added later is
swept too; a route the sweep cannot classify fails it.

- Without credentials every route but the public ones answers 401.
- A user who may not see Alice's portfolio gets 404 for every route under it, whatever the
  method (its existence is not revealed); one who may read it gets 200 on reads and 403 on
  writes; a VIEWER never writes, even with a write grant.
- Routes outside portfolios follow the role rules of GLOBAL_RULES (ADMIN-only, not VIEWER).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from tests.server.conftest import SQLITE_ONLY, World

#: Routes anyone may call, and why.
PUBLIC = {
    ("GET", "/health"): "health checks are unauthenticated",
    ("GET", "/health/database"): "health checks are unauthenticated",
    ("POST", "/api/v1/auth/token"): "signing in",
    ("POST", "/api/v1/auth/refresh"): "the refresh token is the credential",
    ("POST", "/api/v1/auth/revoke"): "the refresh token is the credential",
    ("GET", "/openapi.json"): "the API's description",
    ("GET", "/docs"): "the API's documentation",
    ("GET", "/docs/oauth2-redirect"): "the documentation's sign-in",
}

ANYONE, NOT_VIEWER, ADMIN_ONLY = "anyone", "not VIEWER", "ADMIN only"
#: Signed-in routes outside portfolios, and who may call them.
GLOBAL_RULES = {
    ("GET", "/api/v1/me"): ANYONE,
    ("GET", "/api/v1/api-keys"): ANYONE,
    ("POST", "/api/v1/api-keys"): ANYONE,
    ("GET", "/api/v1/users"): ADMIN_ONLY,
    ("POST", "/api/v1/users"): ADMIN_ONLY,
    ("GET", "/api/v1/portfolios"): ANYONE,
    ("POST", "/api/v1/portfolios"): NOT_VIEWER,
    ("GET", "/api/v1/securities"): ANYONE,
    ("POST", "/api/v1/securities"): NOT_VIEWER,
    ("GET", "/api/v1/packs"): ANYONE,
    ("GET", "/api/v1/packs/{pack_id}"): ANYONE,
    ("POST", "/api/v1/packs"): ADMIN_ONLY,
    ("GET", "/api/v1/bars/{symbol}"): ANYONE,
    ("GET", "/api/v1/bars/{symbol}/gaps"): ANYONE,
    ("GET", "/api/v1/calendars"): ANYONE,
    ("GET", "/api/v1/calendars/{exchange}/sessions"): ANYONE,
    ("GET", "/api/v1/calendars/{exchange}/status"): ANYONE,
    ("GET", "/api/v1/macro/series"): ANYONE,
    ("GET", "/api/v1/macro/series/{code}"): ANYONE,
    ("GET", "/api/v1/macro/indicators/{name}"): ANYONE,
    ("GET", "/api/v1/macro/regimes"): ANYONE,
    ("GET", "/api/v1/news"): ANYONE,
    ("GET", "/api/v1/events"): ANYONE,
    ("GET", "/api/v1/audit"): ANYONE,
}
#: Routes on a resource of Alice's outside portfolios: others get 404.
OWN = {("DELETE", "/api/v1/api-keys/{key_id}")}

#: Valid bodies, so a write that skipped its check would succeed (and fail the sweep).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/portfolios/{portfolio_id}"): {"json": {"name": "taken over"}},
    ("POST", "/api/v1/portfolios/{portfolio_id}/grants"): {
        "json": {"grantee_email": "bob_user@example.com", "scope": "write"}
    },
    ("POST", "/api/v1/portfolios/{portfolio_id}/accounts"): {"json": {"name": "mine"}},
    ("PATCH", "/api/v1/portfolios/{portfolio_id}/accounts/{account_id}"): {
        "json": {"broker": "elsewhere"}
    },
    ("POST", "/api/v1/portfolios/{portfolio_id}/transactions"): {
        "json": {
            "trade_date": "2024-01-02",
            "type": "WITHDRAWAL",
            "amount": "1",
            "currency": "USD",
        }
    },
    ("POST", "/api/v1/portfolios/{portfolio_id}/transactions/import"): {
        "files": {
            "file": (
                "t.csv",
                b"trade_date,type,amount,currency\n2024-01-02,WITHDRAWAL,2,USD\n",
                "text/csv",
            )
        }
    },
    ("PATCH", "/api/v1/portfolios/{portfolio_id}/transactions/{tx_id}"): {
        "json": {"quantity": "1"}
    },
    ("POST", "/api/v1/api-keys"): {"json": {"name": "another"}},
    ("POST", "/api/v1/users"): {"json": {"email": "new@example.com", "role": "USER"}},
    ("POST", "/api/v1/portfolios"): {"json": {"name": "new one"}},
    ("POST", "/api/v1/securities"): {"json": {"symbol": "NEW", "currency": "USD"}},
    ("POST", "/api/v1/packs"): {"json": {"date": "2024-01-02"}},
}

#: Required query parameters.
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/api/v1/portfolios/{portfolio_id}/attribution"): {
        "start": "2024-01-02",
        "end": "2024-01-03",
    },
}

OUTSIDERS = ("bob_manager", "bob_user", "bob_viewer")
READERS = ("rita", "vera")  # a USER with a read grant; a VIEWER with a write grant
READ_METHODS = {"GET"}


def operations(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, writes after reads, deletes last."""
    found = set()
    for route in iter_route_contexts(app.routes):
        if route.path is None:
            continue
        path = re.sub(r":\w+}", "}", route.path)  # {tx_id:path} is {tx_id} in OpenAPI
        for method in route.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, path))
    order = {"GET": 0, "POST": 1, "PATCH": 2, "PUT": 3, "DELETE": 4}
    yield from sorted(found, key=lambda op: (order.get(op[0], 5), op[1]))


def fill(world: World, path: str) -> str:
    """A route's path with Alice's resources in it."""
    return path.format(
        portfolio_id=world.pid,
        tx_id=world.tx_id,
        account_id=world.account_id,
        grantee_email="gina@example.com",
        key_id=world.key_ids["alice"],
        pack_id="PP_2024-01-02",
        symbol="AAPL",
        exchange="XXXX",  # unknown: refused as input, without seeding a calendar
        code="GDPC1",
        name="yoy",
    )


def call(world: World, who: str | None, method: str, path: str) -> Any:
    headers = world.headers(who) if who else {}
    kwargs = BODIES.get((method, path), {"json": {}} if method != "GET" else {})
    params = QUERIES.get((method, path))
    return world.client.request(method, fill(world, path), headers=headers, params=params, **kwargs)


def sweep(
    world: World, app: FastAPI, only: Callable[[str], bool] = lambda _path: True
) -> list[str]:
    """Every way a user reaches what they should not, or is refused what they may do (on the
    routes whose path `only` accepts)."""
    failures: list[str] = []

    def expect(ok: Callable[[int], bool], want: str, who: str, method: str, path: str) -> None:
        status = call(world, who, method, path).status_code
        if not ok(status):
            failures.append(f"{who} {method} {path}: {status}, expected {want}")

    for method, path in operations(app):
        if (method, path) in PUBLIC or not only(path):
            continue
        if "{portfolio_id}" in path:
            if method in READ_METHODS:  # the owner reads it: refusals are not missing data
                expect(lambda s: s == 200, "200 (owner)", "alice", method, path)
            for who in OUTSIDERS:
                expect(lambda s: s == 404, "404", who, method, path)
            for who in READERS:
                if method in READ_METHODS:
                    expect(lambda s: s == 200, "200 (may read)", who, method, path)
                else:
                    expect(lambda s: s == 403, "403 (read only)", who, method, path)
        elif (method, path) in OWN:
            for who in (*OUTSIDERS, *READERS):
                expect(lambda s: s == 404, "404", who, method, path)
        elif (method, path) in GLOBAL_RULES:
            rule = GLOBAL_RULES[method, path]
            for who in (*OUTSIDERS, *READERS):
                role = world.users[who].role.value
                refused = (rule == ADMIN_ONLY) or (rule == NOT_VIEWER and role == "VIEWER")
                if refused:
                    expect(lambda s: s == 403, f"403 ({rule})", who, method, path)
                else:
                    expect(
                        lambda s: s not in (401, 403), f"not refused ({rule})", who, method, path
                    )
        else:
            failures.append(
                f"{method} {path}: unclassified; add it to PUBLIC, OWN or GLOBAL_RULES, or put "
                "it under /portfolios/{portfolio_id}"
            )
    return failures


def test_every_route_refuses_other_users_and_read_only_writers(world: World) -> None:
    app = world.client.app
    assert isinstance(app, FastAPI)
    assert sweep(world, app) == []


@SQLITE_ONLY  # what the route table says, whatever the engine
def test_every_route_but_the_public_ones_needs_credentials(world: World) -> None:
    app = world.client.app
    assert isinstance(app, FastAPI)
    failures = []
    for method, path in operations(app):
        response = call(world, None, method, path)
        public = (method, path) in PUBLIC
        if public and response.status_code == 401 and path != "/api/v1/auth/token":
            failures.append(f"{method} {path}: 401 but it is public")
        if not public and (
            response.status_code != 401 or "Bearer" not in response.headers["www-authenticate"]
        ):
            failures.append(f"{method} {path}: {response.status_code} without credentials")
    assert failures == []


@SQLITE_ONLY
def test_a_route_added_without_an_authorisation_check_fails_the_sweep(world: World) -> None:
    app = world.client.app
    assert isinstance(app, FastAPI)

    @app.get("/api/v1/portfolios/{portfolio_id}/leak")
    def leak(portfolio_id: int) -> dict[str, int]:
        return {"portfolio_id": portfolio_id}

    @app.get("/api/v1/everyone")
    def everyone() -> dict[str, str]:
        return {}

    failures = sweep(world, app, only=lambda path: path.endswith(("/leak", "/everyone")))
    leaked = [f for f in failures if "/leak" in f]
    assert len(leaked) == len(OUTSIDERS)  # each outsider read it (200, expected 404)
    assert all(": 200, expected 404" in f for f in leaked)
    assert any("GET /api/v1/everyone: unclassified" in f for f in failures)


def test_an_admin_reaches_every_portfolio(world: World) -> None:
    for pid in world.portfolios.values():
        assert world.get("ada", f"/api/v1/portfolios/{pid}/valuation").status_code == 200
        assert world.get("ada", f"/api/v1/portfolios/{pid}").json()["id"] == pid


def test_lists_show_only_what_the_user_may_see(world: World) -> None:
    for who in OUTSIDERS:
        listed = {p["id"] for p in world.get(who, "/api/v1/portfolios").json()["data"]}
        assert world.pid not in listed
        keys = {k["id"] for k in world.get(who, "/api/v1/api-keys").json()}
        assert world.key_ids["alice"] not in keys
        entries = world.get(who, "/api/v1/audit").json()["data"]
        assert not any(
            e["entity_type"] == "portfolio" and e["entity_id"] == str(world.pid) for e in entries
        )
    for who in READERS:
        listed = {p["id"] for p in world.get(who, "/api/v1/portfolios").json()["data"]}
        assert world.pid in listed
    everything = {p["id"] for p in world.get("ada", "/api/v1/portfolios").json()["data"]}
    assert everything == set(world.portfolios.values())
    alices = world.get("alice", "/api/v1/audit").json()["data"]
    assert any(e["entity_id"] == str(world.pid) for e in alices)


def test_a_viewer_cannot_write_even_its_own_shares(world: World) -> None:
    response = world.post(
        "vera",
        f"/api/v1/portfolios/{world.pid}/transactions",
        **BODIES[("POST", "/api/v1/portfolios/{portfolio_id}/transactions")],
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert world.post("vera", "/api/v1/portfolios", json={"name": "v"}).status_code == 403
