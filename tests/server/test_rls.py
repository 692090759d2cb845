"""The server on PostgreSQL as the app role (not the tables' owner, no BYPASSRLS): every
transaction of a request runs with the requester's row-level security settings, so the
database itself keeps other users' rows out, behind the application's checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import foliodb
from foliodb.config import Settings
from foliodb.server import create_app
from foliodb.services import auth, portfolios
from tests.server.conftest import TestClient, World

pytestmark = pytest.mark.parametrize("world_url", ["postgresql"], indirect=True)


@pytest.fixture
def app_world(world: World, settings: Settings) -> Iterator[World]:
    """The world's server, connected as a fresh app role."""
    name, password = f"foliodb_app_{uuid.uuid4().hex[:12]}", auth.generate_password()
    auth.create_app_role(world.db.engine, name, password)
    url = world.db.engine.url.set(username=name, password=password)
    try:
        with foliodb.connect(url.render_as_string(hide_password=False)) as db:
            client = TestClient(create_app(db, settings), raise_server_exceptions=False)
            with client:
                yield World(**{**world.__dict__, "db": db, "client": client})
    finally:
        with world.db.engine.begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{name}"')
            connection.exec_driver_sql(f'DROP ROLE "{name}"')


def test_outside_a_request_the_app_role_sees_no_portfolio(app_world: World) -> None:
    assert portfolios.list_records(app_world.db.engine) == []


def test_each_user_reads_and_writes_what_they_may_as_the_app_role(app_world: World) -> None:
    w = app_world
    url = f"/api/v1/portfolios/{w.pid}"
    assert w.get("alice", f"{url}/report").status_code == 200  # computes the derived figures
    for who in ("alice", "rita", "vera", "ada"):
        for path in ("", "/valuation", "/lots", "/transactions", "/nav", "/performance"):
            response = w.get(who, url + path)
            assert response.status_code == 200, (who, path, response.text)
    assert {p["id"] for p in w.get("rita", "/api/v1/portfolios").json()["data"]} == {w.pid}
    assert w.get("bob_manager", url).status_code == 404
    added = w.post(
        "alice",
        f"{url}/transactions",
        json={"trade_date": "2024-01-03", "type": "DIVIDEND", "amount": "3", "currency": "USD"},
    )
    assert added.status_code == 201
    upload = {"file": ("t.csv", b"trade_date,type,amount,currency\n2024-01-03,FEE,1,USD\n")}
    assert w.post("alice", f"{url}/transactions/import", files=upload).json()["added"] == 1
    amended = w.patch("alice", f"{url}/transactions/buy-1", json={"quantity": "9"})
    assert amended.status_code == 200, amended.text
    assert w.patch("rita", url, json={"name": "x"}).status_code == 403
    mine = w.post("bob_user", "/api/v1/portfolios", json={"name": "new"}).json()
    assert w.delete("bob_user", f"/api/v1/portfolios/{mine['id']}").status_code == 200
    assert (
        w.post(
            "ada", "/api/v1/packs", json={"date": "2024-01-04", "carry_forward": True}
        ).status_code
        == 201
    )


def test_a_reader_asking_first_computes_the_derived_figures(app_world: World) -> None:
    for path in ("/nav", "/performance", "/attribution?start=2024-01-02&end=2024-01-03"):
        response = app_world.get("rita", f"/api/v1/portfolios/{app_world.pid}{path}")
        assert response.status_code == 200, (path, response.text)


def test_a_reversal_goes_through_row_level_security_like_any_write(app_world: World) -> None:
    w = app_world
    url = f"/api/v1/portfolios/{w.pid}/transactions"
    assert w.delete("bob_manager", f"{url}/buy-1").status_code == 404  # not shared with him
    assert w.delete("rita", f"{url}/buy-1").status_code == 403  # read-only grant
    reversed_ = w.delete("alice", f"{url}/buy-1", params={"reason": "wrong portfolio"})
    assert reversed_.status_code == 200, reversed_.text
    assert reversed_.json()["tx_id"] == "buy-1~reversal"
    for who in ("alice", "rita"):
        entries = w.get(who, url, params={"status": "reversal"}).json()["data"]
        assert [e["reverses"] for e in entries] == ["buy-1"]
    assert w.get("bob_manager", f"{url}/buy-1~reversal").status_code == 404
    assert w.get("alice", f"/api/v1/portfolios/{w.pid}/lots").json() == []
