"""Every mutation route writes exactly one audit entry: who (the signed-in user), what
(action, entity type and id), the entity before and after, from which IP and user agent.
A route added later without a scenario here fails `test_every_mutation_route_has_a_scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from foliodb.services import audit
from tests.server.conftest import PASSWORD, World
from tests.server.test_authorization import operations

WRITES = {"POST", "PATCH", "PUT", "DELETE"}
BUY = {
    "external_id": "buy-2",
    "trade_date": "2024-01-03",
    "type": "BUY",
    "symbol": "AAPL",
    "quantity": "2",
    "price": "110",
    "currency": "USD",
}


def tx(**fields: Any) -> dict[str, Any]:
    """A transaction as the audit keeps it (every field, exact decimals as text)."""
    blank: dict[str, Any] = {
        "tx_id": None,
        "trade_date": None,
        "type": None,
        "currency": None,
        "symbol": None,
        "quantity": None,
        "price": None,
        "amount": None,
        "fee": "0",
        "fx_rate": "1",
        "counter_currency": None,
        "counter_amount": None,
        "ratio": None,
        "lot_ids": [],
        "method": None,
        "acquired_date": None,
        "account": None,
        "external_id": None,
        "note": None,
    }
    return blank | fields


ORIGINAL_BUY = tx(
    tx_id="buy-1",
    external_id="buy-1",
    trade_date="2024-01-02",
    type="BUY",
    currency="USD",
    symbol="AAPL",
    quantity="10",
    price="100",
    account="broker-1",
)
AMENDED_BUY = ORIGINAL_BUY | {"quantity": "4", "note": "typo"}


@dataclass(frozen=True)
class Scenario:
    """A request sent by `who`'s client, and the one entry it must leave: (action, entity
    type, entity id, before, after) computed from the world, by `who` (or by nobody known:
    signing out names no user)."""

    who: str
    send: Callable[[World], Any]
    entry: Callable[[World], tuple[str, str, str, Any, Any]]
    anonymous: bool = False


def _token(world: World) -> Any:
    return world.client.post(
        "/api/v1/auth/token",
        data={"username": "alice@example.com", "password": PASSWORD},
        headers={"User-Agent": "tests/alice"},
    )


def _portfolio(world: World) -> str:
    return f"/api/v1/portfolios/{world.pid}"


def _user(world: World, name: str) -> str:
    return str(world.users[name].user_id)


SCENARIOS: dict[tuple[str, str], Scenario] = {
    ("POST", "/api/v1/auth/token"): Scenario(
        "alice",
        _token,
        lambda w: ("sign_in", "user", _user(w, "alice"), None, {"email": "alice@example.com"}),
    ),
    ("POST", "/api/v1/auth/refresh"): Scenario(
        "alice",
        lambda w: w.post("alice", "/api/v1/auth/refresh", json={"refresh_token": w.refresh_token}),
        lambda w: (
            "refresh_token",
            "user",
            _user(w, "alice"),
            None,
            {"email": "alice@example.com"},
        ),
    ),
    ("POST", "/api/v1/auth/revoke"): Scenario(
        "alice",
        lambda w: w.post("alice", "/api/v1/auth/revoke", json={"refresh_token": w.refresh_token}),
        lambda w: ("sign_out", "refresh_token", "revoked", None, None),
        anonymous=True,
    ),
    ("POST", "/api/v1/api-keys"): Scenario(
        "alice",
        lambda w: w.post("alice", "/api/v1/api-keys", json={"name": "cron"}),
        lambda w: (
            "create",
            "api_key",
            str(w.last["id"]),
            None,
            {"name": "cron", "user_id": w.users["alice"].user_id},
        ),
    ),
    ("DELETE", "/api/v1/api-keys/{key_id}"): Scenario(
        "alice",
        lambda w: w.delete("alice", f"/api/v1/api-keys/{w.spare_key}"),
        lambda w: (
            "revoke",
            "api_key",
            str(w.spare_key),
            {"revoked_at": None},
            {"revoked_at": w.last["revoked_at"].replace("Z", "+00:00")},
        ),
    ),
    ("POST", "/api/v1/users"): Scenario(
        "ada",
        lambda w: w.post("ada", "/api/v1/users", json={"email": "nina@example.com"}),
        lambda w: (
            "create",
            "user",
            str(w.last["user_id"]),
            None,
            {"email": "nina@example.com", "role": "USER", "display_name": None},
        ),
    ),
    ("POST", "/api/v1/portfolios"): Scenario(
        "alice",
        lambda w: w.post("alice", "/api/v1/portfolios", json={"name": "Pension"}),
        lambda w: (
            "create",
            "portfolio",
            str(w.last["id"]),
            None,
            {"name": "Pension", "base_currency": "USD", "booking_method": "FIFO"},
        ),
    ),
    ("PATCH", "/api/v1/portfolios/{portfolio_id}"): Scenario(
        "alice",
        lambda w: w.patch("alice", _portfolio(w), json={"name": "Main", "benchmark": "aapl"}),
        lambda w: (
            "update",
            "portfolio",
            str(w.pid),
            {"name": "alice's", "benchmark": None},
            {"name": "Main", "benchmark": "AAPL"},
        ),
    ),
    ("DELETE", "/api/v1/portfolios/{portfolio_id}"): Scenario(
        "alice",
        lambda w: w.delete("alice", _portfolio(w)),
        lambda w: (
            "delete",
            "portfolio",
            str(w.pid),
            {  # after every scenario before it: renamed, a benchmark, buy-2 and d-2 added,
                # buy-1 amended then reversed (4 more ledger versions)
                "name": "Main",
                "owner": "alice@example.com",
                "base_currency": "USD",
                "booking_method": "FIFO",
                "transaction_count": 3,
                "ledger_version": 6,
                "benchmark": "AAPL",
            },
            None,
        ),
    ),
    ("POST", "/api/v1/portfolios/{portfolio_id}/grants"): Scenario(
        "alice",
        lambda w: w.post(
            "alice",
            f"{_portfolio(w)}/grants",
            json={"grantee_email": "bob_user@example.com", "scope": "write"},
        ),
        lambda w: (
            "grant",
            "portfolio_grant",
            f"{w.pid}:{_user(w, 'bob_user')}",
            None,
            {"portfolio_id": w.pid, "grantee": "bob_user@example.com", "scope": "write"},
        ),
    ),
    ("DELETE", "/api/v1/portfolios/{portfolio_id}/grants/{grantee_email}"): Scenario(
        "alice",
        lambda w: w.delete("alice", f"{_portfolio(w)}/grants/gina@example.com"),
        lambda w: (
            "revoke",
            "portfolio_grant",
            f"{w.pid}:{_user(w, 'gina')}",
            {"portfolio_id": w.pid, "grantee": "gina@example.com", "scope": "read"},
            None,
        ),
    ),
    ("POST", "/api/v1/portfolios/{portfolio_id}/accounts"): Scenario(
        "alice",
        lambda w: w.post(
            "alice", f"{_portfolio(w)}/accounts", json={"name": "ira", "broker": "IB"}
        ),
        lambda w: (
            "create_account",
            "portfolio",
            str(w.pid),
            None,
            {"account": "ira", "broker": "IB", "account_number": None},
        ),
    ),
    ("PATCH", "/api/v1/portfolios/{portfolio_id}/accounts/{account_id}"): Scenario(
        "alice",
        lambda w: w.patch(
            "alice", f"{_portfolio(w)}/accounts/{w.account_id}", json={"account_number": "U-1"}
        ),
        lambda w: (
            "update_account",
            "portfolio",
            str(w.pid),
            {"account": "broker-1", "account_number": None},
            {"account": "broker-1", "account_number": "U-1"},
        ),
    ),
    ("POST", "/api/v1/portfolios/{portfolio_id}/transactions"): Scenario(
        "alice",
        lambda w: w.post("alice", f"{_portfolio(w)}/transactions", json=BUY),
        lambda w: (
            "create_transaction",
            "portfolio",
            str(w.pid),
            None,
            tx(**BUY, tx_id="buy-2"),
        ),
    ),
    ("POST", "/api/v1/portfolios/{portfolio_id}/transactions/import"): Scenario(
        "alice",
        lambda w: w.post(
            "alice",
            f"{_portfolio(w)}/transactions/import",
            files={
                "file": (
                    "more.csv",
                    b"external_id,trade_date,type,amount,currency\n"
                    b"d-2,2024-01-03,DEPOSIT,500,USD\n",
                    "text/csv",
                )
            },
        ),
        lambda w: ("import_transactions", "portfolio", str(w.pid), None, {"added": 1}),
    ),
    ("PATCH", "/api/v1/portfolios/{portfolio_id}/transactions/{tx_id}"): Scenario(
        "alice",
        lambda w: w.patch(
            "alice", f"{_portfolio(w)}/transactions/buy-1", json={"quantity": 4, "note": "typo"}
        ),
        lambda w: (
            "amend_transaction",
            "portfolio",
            str(w.pid),
            ORIGINAL_BUY,
            AMENDED_BUY,
        ),
    ),
    ("DELETE", "/api/v1/portfolios/{portfolio_id}/transactions/{tx_id}"): Scenario(
        "alice",
        lambda w: w.delete("alice", f"{_portfolio(w)}/transactions/buy-1?reason=typo"),
        # after the amendment above
        lambda w: (
            "reverse_transaction",
            "portfolio",
            str(w.pid),
            AMENDED_BUY,
            {"reversal": "buy-1~reversal", "reverses": "buy-1", "reason": "typo"},
        ),
    ),
    ("POST", "/api/v1/securities"): Scenario(
        "alice",
        lambda w: w.post(
            "alice", "/api/v1/securities", json={"symbol": "vti", "currency": "usd", "type": "ETF"}
        ),
        lambda w: (
            "create",
            "security",
            "VTI",
            None,
            {
                "symbol": "VTI",
                "currency": "USD",
                "name": "VTI",
                "type": "ETF",
                "exchange": None,
                "sector": None,
                "country": None,
            },
        ),
    ),
    ("POST", "/api/v1/packs"): Scenario(
        "ada",
        lambda w: w.post(
            "ada", "/api/v1/packs", json={"date": "2024-01-05", "carry_forward": True}
        ),
        lambda w: (
            "create",
            "pricing_pack",
            "PP_2024-01-05",
            None,
            {
                "status": "COMPLETE",
                "content_hash": w.last["content_hash"],
                "supersedes": None,
                "reason": None,
            },
        ),
    ),
}


def _mutations(app: FastAPI) -> set[tuple[str, str]]:
    return {(m, p) for m, p in operations(app) if m in WRITES}


def test_every_mutation_route_has_a_scenario(world: World) -> None:
    app = world.client.app
    assert isinstance(app, FastAPI)
    assert _mutations(app) == set(SCENARIOS)


def test_each_mutation_route_writes_exactly_one_entry_with_before_and_after(
    world: World,
) -> None:
    engine = world.db.engine
    world.refresh_token = _token(world).json()["refresh_token"]
    key = world.post("alice", "/api/v1/api-keys", json={"name": "spare"}).json()
    world.spare_key = key["id"]
    last = ("DELETE", "/api/v1/portfolios/{portfolio_id}")
    order = sorted(SCENARIOS, key=lambda op: op == last)  # the portfolio goes last
    failures = []
    for operation in order:
        scenario = SCENARIOS[operation]
        _, before = audit.list_audit(engine, limit=1)
        response = scenario.send(world)
        assert response.status_code < 300, (operation, response.text)
        world.last = response.json() if response.content else None
        entries, after = audit.list_audit(engine, limit=1)
        if after - before != 1:
            failures.append(f"{operation}: {after - before} entries")
            continue
        entry = entries[0]
        expected = scenario.entry(world)
        got = (entry.action, entry.entity_type, entry.entity_id, entry.before, entry.after)
        if operation[1].endswith("/import"):  # the use case also records where it read from
            got = (*got[:4], {"added": entry.after["added"]})
        if got != expected:
            failures.append(f"{operation}: {got} != {expected}")
        by = None if scenario.anonymous else world.users[scenario.who].user_id
        if (entry.user_id, entry.ip, entry.user_agent) != (
            by,
            "testclient",
            f"tests/{scenario.who}",
        ):
            failures.append(f"{operation}: by {entry.user_id} {entry.ip} {entry.user_agent}")
    assert failures == [], "\n".join(failures)


def test_a_refused_request_writes_nothing_and_a_repeated_import_one_entry(world: World) -> None:
    engine = world.db.engine
    url = f"/api/v1/portfolios/{world.pid}/transactions/import"
    _, start = audit.list_audit(engine, limit=1)
    refused = world.post(
        "alice", f"/api/v1/portfolios/{world.pid}/transactions", json=BUY | {"quantity": "-1"}
    )
    assert refused.status_code == 422
    assert (
        world.patch("rita", f"/api/v1/portfolios/{world.pid}", json={"name": "x"}).status_code
        == 403
    )
    assert audit.list_audit(engine, limit=1)[1] == start
    upload = {"file": ("same.csv", b"trade_date,type,amount,currency\n2024-01-03,DEPOSIT,5,USD\n")}
    assert world.post("alice", url, files=upload).json()["added"] == 1
    assert world.post("alice", url, files=upload).json()["added"] == 0
    entries, end = audit.list_audit(engine, limit=2)
    assert end == start + 2
    assert [e.after for e in entries] == [{"file": "same.csv", "added": 0}, entries[1].after]
    assert entries[1].after["added"] == 1


def test_owners_read_their_entries_and_admins_all(world: World) -> None:
    world.patch("alice", f"/api/v1/portfolios/{world.pid}", json={"name": "Renamed"})
    # Rita leaves the share: an entry of Alice's portfolio made by someone else
    world.delete("rita", f"/api/v1/portfolios/{world.pid}/grants/rita@example.com")
    grants = world.get("alice", "/api/v1/audit", params={"entity_type": "portfolio_grant"})
    newest = grants.json()["data"][0]
    assert (newest["action"], newest["user"]) == ("revoke", "rita@example.com")
    mine = world.get("alice", "/api/v1/audit", params={"entity_type": "portfolio"}).json()
    assert mine["data"][0]["action"] == "update"
    assert mine["data"][0]["after"] == {"name": "Renamed"}
    everything = world.get("ada", "/api/v1/audit").json()
    assert everything["count"] > mine["count"]
    theirs = world.get("bob_user", "/api/v1/audit", params={"entity_id": str(world.pid)}).json()
    assert theirs["count"] == 0
