"""One error shape everywhere (RFC 9457 problem details), with the right status for each
kind of failure, and nothing internal in it. The mapping does not depend on the engine, so
these run on SQLite (the fuzz test covers both)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from foliodb.server.limits import MAX_BODY_BYTES, MAX_UPLOAD_BYTES
from tests.server.conftest import PASSWORD, SQLITE_ONLY, World

pytestmark = SQLITE_ONLY

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:foliodb:problem:{code}"
    return body


def test_a_request_the_schema_refuses_lists_every_bad_field(world: World) -> None:
    response = world.post(
        "alice",
        "/api/v1/portfolios",
        json={"name": "", "base_currency": 12, "booking_method": "RANDOM", "colour": "red"},
    )
    body = assert_problem(response, 422, "invalid_input")
    fields = sorted(e["field"] for e in body["errors"])
    assert fields == ["base_currency", "booking_method", "colour", "name"]
    assert body["detail"] == "4 problems in the request"


def test_unknown_fields_are_refused(world: World) -> None:
    response = world.patch(
        "alice", f"/api/v1/portfolios/{world.pid}", json={"name": "x", "owner": "me@example.com"}
    )
    body = assert_problem(response, 422, "invalid_input")
    assert body["errors"] == [
        {"field": "owner", "message": "Extra inputs are not permitted", "value": "me@example.com"}
    ]


def test_the_ledger_refusing_a_transaction_names_its_field(world: World) -> None:
    response = world.post(
        "alice",
        f"/api/v1/portfolios/{world.pid}/transactions",
        json={
            "trade_date": "2024-01-03",
            "type": "SELL",
            "symbol": "AAPL",
            "quantity": "11",
            "price": "110",
            "currency": "USD",
        },
    )
    body = assert_problem(response, 422, "invalid_input")
    (error,) = body["errors"]
    assert error["field"] == "quantity"
    assert "only 10 held" in error["message"]


def test_a_bad_csv_upload_reports_every_row_naming_the_uploaded_file(world: World) -> None:
    csv = (
        "trade_date,type,symbol,quantity,price,currency\n"
        "2024-13-01,BUY,AAPL,1,100,USD\n"
        "2024-01-03,BUY,AAPL,-1,100,USD\n"
        "2024-01-03,BUY,AAPL,1,100,XXX\n"
    )
    response = world.post(
        "alice",
        f"/api/v1/portfolios/{world.pid}/transactions/import",
        files={"file": ("../../etc/trades.csv", csv.encode(), "text/csv")},
    )
    body = assert_problem(response, 422, "invalid_input")
    errors = body["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [
        (2, "trade_date"),
        (3, "quantity"),
        (4, "currency"),
    ]
    assert errors[0]["value"] == "2024-13-01"
    assert errors[0]["expected"] == "YYYY-MM-DD"
    assert "foliodb-upload" not in response.text  # where the server kept it
    assert "etc" not in response.text  # the path the client gave
    lots = world.get("alice", f"/api/v1/portfolios/{world.pid}/lots").json()
    assert len(lots) == 1  # nothing of the file was written


def test_unknown_routes_and_methods_answer_problems(world: World) -> None:
    assert_problem(world.get("alice", "/api/v1/nothing-here"), 404, "not_found")
    response = world.client.put("/api/v1/me", headers=world.headers("alice"))
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


def test_missing_and_bad_credentials_answer_401_with_a_challenge(world: World) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"X-API-Key": "fdb_1_" + "x" * 40},
        {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="},
    ):
        response = world.client.get("/api/v1/me", headers=headers)
        assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_tampered_token_is_refused(world: World) -> None:
    token = world.client.post(
        "/api/v1/auth/token", data={"username": "alice@example.com", "password": PASSWORD}
    ).json()["access_token"]
    head, claims, signature = token.split(".")
    forged = f"{head}.{claims}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    response = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401, "unauthenticated")
    ok = world.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert ok.json()["email"] == "alice@example.com"


def test_read_only_writes_answer_403_and_conflicts_409(world: World) -> None:
    assert_problem(
        world.patch("rita", f"/api/v1/portfolios/{world.pid}", json={"name": "mine"}),
        403,
        "forbidden",
    )
    assert_problem(
        world.post("alice", "/api/v1/portfolios", json={"name": "alice's"}), 409, "conflict"
    )
    assert_problem(
        world.post("alice", "/api/v1/securities", json={"symbol": "AAPL", "currency": "USD"}),
        409,
        "conflict",
    )


def test_too_many_failed_sign_ins_answer_429_with_retry_after(world: World) -> None:
    attempts = [
        world.client.post(
            "/api/v1/auth/token", data={"username": "gina@example.com", "password": "wrong" * 3}
        )
        for _ in range(6)
    ]
    assert [a.status_code for a in attempts[:5]] == [401] * 5
    assert_problem(attempts[5], 429, "rate_limited")
    assert 1 <= int(attempts[5].headers["retry-after"]) <= 900


def test_bodies_past_their_limit_answer_413(world: World) -> None:
    url = f"/api/v1/portfolios/{world.pid}/accounts"
    too_big = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    declared = world.client.post(
        url, content=too_big, headers={**world.headers("alice"), "content-type": "application/json"}
    )
    assert_problem(declared, 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        yield b'{"name": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    streamed = world.client.post(
        url,
        content=chunks(),
        headers={**world.headers("alice"), "content-type": "application/json"},
    )
    assert_problem(streamed, 413, "payload_too_large")
    upload = world.post(
        "alice",
        f"/api/v1/portfolios/{world.pid}/transactions/import",
        files={"file": ("big.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "text/csv")},
    )
    assert_problem(upload, 413, "payload_too_large")
    assert world.get("alice", url).json()[0]["name"] == "broker-1"  # nothing was added


def test_an_unexpected_failure_answers_500_without_internals(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = world.client.app
    assert isinstance(app, FastAPI)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("SELECT password_hash FROM users WHERE email = 'alice@example.com'")

    with caplog.at_level(logging.ERROR, logger="foliodb.server"):
        response = world.client.get("/api/v1/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "SELECT" not in response.text and "Traceback" not in response.text
    assert body["errors"] == []
    assert "SELECT password_hash" in caplog.text  # the server log keeps it


def test_errors_never_echo_a_password_or_token(world: World) -> None:
    short = world.post(
        "ada", "/api/v1/users", json={"email": "x@example.com", "password": "hunter2"}
    )
    body = assert_problem(short, 422, "invalid_input")
    assert body["errors"][0]["field"] == "password"
    assert "hunter2" not in short.text
    bad = world.client.post("/api/v1/auth/refresh", json={"refresh_token": "fdr_\x01secret"})
    assert_problem(bad, 422, "invalid_input")
    assert "secret" not in bad.text
    wrong = world.client.post(
        "/api/v1/auth/token", data={"username": "alice@example.com", "password": "bad\x01pass"}
    )
    assert_problem(wrong, 422, "invalid_input")
    assert "pass" not in wrong.json()["errors"][0].get("value", "")
