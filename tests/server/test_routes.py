"""What the routes answer for an authorised user: the use cases' figures, exact, under the
CLI's field names; the token and API-key lifecycles; paging and filters."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from foliodb.cli import render
from foliodb.services.results import PortfolioInfo
from tests.server.conftest import PASSWORD, SQLITE_ONLY, World


def test_a_portfolio_is_created_shown_renamed_and_deleted(world: World) -> None:
    created = world.post(
        "bob_user", "/api/v1/portfolios", json={"name": "RRSP", "base_currency": "cad"}
    )
    assert created.status_code == 201
    body = created.json()
    # the CLI's JSON fields (portfolio show --format json), plus the id and creation time
    assert set(body) == {f.name for f in dataclasses.fields(PortfolioInfo)} | {"id", "created_at"}
    assert (body["owner"], body["base_currency"], body["booking_method"]) == (
        "bob_user@example.com",
        "CAD",
        "FIFO",
    )
    url = f"/api/v1/portfolios/{body['id']}"
    renamed = world.patch("bob_user", url, json={"name": "TFSA", "benchmark": "AAPL"}).json()
    assert (renamed["name"], renamed["benchmark"]) == ("TFSA", "AAPL")
    cleared = world.patch("bob_user", url, json={"benchmark": None}).json()
    assert (cleared["name"], cleared["benchmark"]) == ("TFSA", None)
    assert world.patch("bob_user", url, json={"name": None}).status_code == 422
    unknown = world.patch("bob_user", url, json={"benchmark": "NOPE"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "benchmark"
    assert world.delete("bob_user", url).json()["name"] == "TFSA"
    assert world.get("bob_user", url).status_code == 404


def test_the_valuation_is_the_use_cases_figures_exactly(world: World) -> None:
    url = f"/api/v1/portfolios/{world.pid}"
    answer = world.get("alice", f"{url}/valuation").json()
    result = world.db.valuation("alice's", owner="alice@example.com")
    # the same document as `foliodb holdings --format json`, plus later_transactions
    expected = {k: render.plain(v) for k, v in result.totals().items()}
    assert {k: answer[k] for k in expected} == expected
    assert answer["positions"] == [
        {k: render.plain(v) for k, v in dataclasses.asdict(p).items()} for p in result.positions
    ]
    assert answer["total_value"] == "10100"  # 9,000 cash + 10 AAPL at 110
    at_pack = world.get("alice", f"{url}/holdings", params={"pack": "PP_2024-01-02"}).json()
    assert (at_pack["date"], at_pack["total_value"]) == ("2024-01-02", "10000")
    by_date = world.get("alice", f"{url}/valuation", params={"date": "2024-01-02"}).json()
    assert by_date == at_pack
    both = world.get("alice", f"{url}/valuation", params={"date": "2024-01-02", "pack": "x"})
    assert both.status_code == 422
    assert (
        world.get("alice", f"{url}/valuation", params={"pack": "PP_1999-01-01"}).status_code == 404
    )


def test_transactions_are_paged_filtered_amended_and_reversed(world: World) -> None:
    url = f"/api/v1/portfolios/{world.pid}/transactions"
    for day in ("2024-01-03", "2024-01-04", "2024-01-05"):
        added = world.post(
            "alice",
            url,
            json={
                "trade_date": day,
                "type": "DIVIDEND",
                "symbol": "AAPL",
                "amount": 2.5,
                "currency": "USD",
            },
        )
        assert added.status_code == 201 and added.json()["created"] is True
    again = world.post(
        "alice",
        url,
        json={
            "trade_date": "2024-01-05",
            "type": "DIVIDEND",
            "symbol": "AAPL",
            "amount": "2.50",
            "currency": "USD",
        },
    )
    assert again.status_code == 200 and again.json()["created"] is False  # same content
    page = world.get("alice", url, params={"limit": 2}).json()
    assert page["count"] == 5 and len(page["data"]) == 2
    rest = world.get("alice", url, params={"limit": 10, "cursor": page["next_cursor"]}).json()
    assert len(rest["data"]) == 3 and rest["next_cursor"] is None
    dividends = world.get("alice", url, params={"type": "DIVIDEND", "start": "2024-01-04"}).json()
    assert [t["trade_date"] for t in dividends["data"]] == ["2024-01-04", "2024-01-05"]
    assert dividends["data"][0]["amount"] == "2.5"
    assert world.get("alice", url, params={"symbol": "msft"}).json()["count"] == 0
    amended = world.patch("alice", f"{url}/buy-1", json={"quantity": "12", "price": "99.5"})
    assert amended.json()["quantity"] == "12" and amended.json()["tx_id"] == "buy-1"
    lots = world.get("alice", f"/api/v1/portfolios/{world.pid}/lots").json()
    assert [(lot["open_quantity"], lot["cost_basis"]) for lot in lots] == [("12", "1194")]
    reversal = world.delete("alice", f"{url}/buy-1", params={"reason": "wrong account"})
    assert reversal.status_code == 200
    assert {k: reversal.json()[k] for k in ("tx_id", "status", "reverses", "quantity")} == {
        "tx_id": "buy-1~reversal",
        "status": "reversal",
        "reverses": "buy-1",
        "quantity": "12",
    }
    assert reversal.json()["note"] == "wrong account"
    assert world.get("alice", f"/api/v1/portfolios/{world.pid}/lots").json() == []
    # the reversed transaction stays listed, linked to its reversal
    original = world.get("alice", f"{url}/buy-1").json()
    assert (original["status"], original["reversed_by"]) == ("reversed", "buy-1~reversal")
    active = world.get("alice", url, params={"status": "active", "limit": 10}).json()
    assert "buy-1" not in [t["tx_id"] for t in active["data"]]
    assert world.get("alice", url, params={"status": "reversal"}).json()["count"] == 1
    again = world.delete("alice", f"{url}/buy-1")
    assert again.status_code == 409 and "reversed by" in again.json()["detail"]
    assert world.patch("alice", f"{url}/buy-1", json={"quantity": "1"}).status_code == 409
    assert world.get("alice", url, params={"status": "deleted"}).status_code == 422
    slashed = world.post(
        "alice",
        url,
        json={"external_id": "2024/01/05-7", "trade_date": "2024-01-05", "type": "FEE",
              "amount": "1", "currency": "USD"},
    )  # fmt: skip
    assert slashed.json()["transaction"]["tx_id"] == "2024/01/05-7"
    assert world.get("alice", f"{url}/2024/01/05-7").json()["amount"] == "1"
    assert world.delete("alice", f"{url}/2024/01/05-7").status_code == 200


def test_an_uploaded_csv_is_imported_once(world: World) -> None:
    url = f"/api/v1/portfolios/{world.pid}/transactions/import"
    csv = (
        b"external_id,trade_date,type,symbol,quantity,price,currency\n"
        b"s-1,2024-01-03,SELL,AAPL,4,110,USD\n"
    )
    first = world.post("alice", url, files={"file": ("trades.csv", csv, "text/csv")}).json()
    assert (first["file"], first["rows"], first["added"], first["skipped"]) == (
        "trades.csv",
        1,
        1,
        0,
    )
    second = world.post("alice", url, files={"file": ("trades.csv", csv, "text/csv")}).json()
    assert (second["added"], second["skipped"]) == (0, 1)
    gains = world.get("alice", f"/api/v1/portfolios/{world.pid}/realized-gains").json()
    assert [(g["quantity"], g["proceeds"], g["cost_basis"], g["gain"]) for g in gains] == [
        ("4", "440", "400", "40")
    ]
    assert (
        world.get(
            "alice", f"/api/v1/portfolios/{world.pid}/realized-gains", params={"year": 2023}
        ).json()
        == []
    )


def test_performance_nav_attribution_and_report(world: World) -> None:
    url = f"/api/v1/portfolios/{world.pid}"
    perf = world.get("alice", f"{url}/performance", params={"benchmark": "AAPL"}).json()
    expected = world.db.performance("alice's", "alice@example.com", benchmark="AAPL")
    assert perf["as_of"] == expected.as_of.isoformat() == "2024-01-03"
    periods = {p["period"]: p for p in perf["periods"]}
    assert periods["1D"]["total_return"] == pytest.approx(0.01)  # 10,000 -> 10,100
    assert periods["1D"]["benchmark_return"] == pytest.approx(0.1)  # AAPL 100 -> 110
    metrics = {m["metric"] for m in perf["metrics"]}
    assert {"money_weighted_return", "modified_dietz"} <= metrics
    nav = world.get("alice", f"{url}/nav").json()
    assert [(d["date"], d["nav"]) for d in nav] == [
        ("2024-01-02", "10000"),
        ("2024-01-03", "10100"),
    ]
    attribution = world.get(
        "alice", f"{url}/attribution", params={"start": "2024-01-02", "end": "2024-01-03"}
    ).json()
    assert attribution["currencies"][0]["currency"] == "USD"
    assert attribution["fx"] == 0.0
    report = world.get("alice", f"{url}/report")
    assert report.headers["content-type"].startswith("text/html")
    assert "<!DOCTYPE html>" in report.text and "alice&#x27;s" in report.text


def test_packs_are_listed_shown_and_created_by_an_admin(world: World) -> None:
    packs = world.get("alice", "/api/v1/packs").json()
    assert [p["pack_id"] for p in packs] == ["PP_2024-01-03", "PP_2024-01-02"]
    shown = world.get("alice", "/api/v1/packs/PP_2024-01-03").json()
    assert shown["prices"] == [
        {"symbol": "AAPL", "price": "110", "currency": "USD", "price_date": "2024-01-03"}
    ]
    created = world.post("ada", "/api/v1/packs", json={"date": "2024-01-04", "carry_forward": True})
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["carried"]) == ("COMPLETE", ["AAPL"])
    again = world.post("ada", "/api/v1/packs", json={"date": "2024-01-04", "carry_forward": True})
    assert again.status_code == 200 and again.json()["created"] is False
    failed = world.post("ada", "/api/v1/packs", json={"date": "2024-01-05"})
    assert failed.json()["status"] == "FAILED" and "no price" in failed.json()["reason"]
    future = world.post("ada", "/api/v1/packs", json={"date": "2999-01-01"})
    assert future.status_code == 422


def test_securities_and_accounts(world: World) -> None:
    made = world.post(
        "bob_user", "/api/v1/securities", json={"symbol": "vti", "currency": "usd", "type": "ETF"}
    )
    assert made.json() == {
        "symbol": "VTI",
        "currency": "USD",
        "name": "VTI",
        "type": "ETF",
        "exchange": None,
        "sector": None,
        "country": None,
    }
    found = world.get("bob_user", "/api/v1/securities", params={"search": "vt"}).json()
    assert [s["symbol"] for s in found["data"]] == ["VTI"] and found["count"] == 1
    url = f"/api/v1/portfolios/{world.pid}/accounts"
    made = world.post("alice", url, json={"name": "ira", "broker": "IB"}).json()
    changed = world.patch("alice", f"{url}/{made['id']}", json={"account_number": "U-7"}).json()
    assert changed == {"id": made["id"], "name": "ira", "broker": "IB", "account_number": "U-7"}
    assert [a["name"] for a in world.get("alice", url).json()] == ["broker-1", "ira"]
    assert world.post("alice", url, json={"name": "ira"}).status_code == 409


def test_tokens_refresh_once_and_sign_out(world: World) -> None:
    tokens = world.client.post(
        "/api/v1/auth/token", data={"username": "alice@example.com", "password": PASSWORD}
    ).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert world.client.get("/api/v1/me", headers=bearer).json()["role"] == "USER"
    renewed = world.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert renewed.status_code == 200
    reused = world.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert reused.status_code == 401  # spent
    latest = renewed.json()["refresh_token"]
    assert (
        world.client.post("/api/v1/auth/revoke", json={"refresh_token": latest}).status_code == 204
    )
    assert (
        world.client.post("/api/v1/auth/refresh", json={"refresh_token": latest}).status_code == 401
    )
    wrong = world.client.post(
        "/api/v1/auth/token", data={"username": "alice@example.com", "password": "not it at all"}
    )
    assert wrong.status_code == 401


def made_by(world: World) -> str:
    return world.users["bob_viewer"].email


def test_api_keys_are_shown_once_used_and_revoked(world: World) -> None:
    made = world.post("bob_viewer", "/api/v1/api-keys", json={"name": "cron"}).json()
    secret = made.pop("secret")
    assert made["name"] == "cron" and made["revoked_at"] is None
    listed = world.get("bob_viewer", "/api/v1/api-keys").json()
    assert made["id"] in {k["id"] for k in listed} and all("secret" not in k for k in listed)
    assert world.client.get("/api/v1/me", headers={"X-API-Key": secret}).status_code == 200
    as_bearer = {"Authorization": f"Bearer {secret}"}  # docs/security.md's way to send it
    assert world.client.get("/api/v1/me", headers=as_bearer).json()["email"] == made_by(world)
    assert world.delete("bob_viewer", f"/api/v1/api-keys/{made['id']}").json()["revoked_at"]
    assert world.client.get("/api/v1/me", headers={"X-API-Key": secret}).status_code == 401
    assert world.client.get("/api/v1/me", headers=as_bearer).status_code == 401


def test_an_admin_creates_users_with_a_password_shown_once(world: World) -> None:
    created = world.post(
        "ada", "/api/v1/users", json={"email": "Nina@Example.com", "role": "VIEWER"}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["email"], body["role"]) == ("nina@example.com", "VIEWER")
    signed_in = world.client.post(
        "/api/v1/auth/token", data={"username": "nina@example.com", "password": body["password"]}
    )
    assert signed_in.status_code == 200
    users = world.get("ada", "/api/v1/users").json()
    assert "nina@example.com" in {u["email"] for u in users["data"]}
    assert all("password" not in u for u in users["data"])


@SQLITE_ONLY
def test_market_data_calendars_macro_news_and_events(world: World, tmp_path: Path) -> None:
    db = world.db
    bars = tmp_path / "bars.csv"
    bars.write_text(
        "symbol,ts,open,high,low,close,volume\n"
        "AAPL,2024-01-02,187.15,188.44,183.89,185.64,82488700\n"
        "AAPL,2024-01-03,184.22,185.88,183.43,184.25,58414500\n"
    )
    db.bars.import_files([bars], "1d", source="test")
    db.calendars.seed(["XNYS"], "2024-01-01", "2024-01-31")
    rates = tmp_path / "rates.csv"
    rates.write_text("observation_date,DGS10,DGS2\n2024-01-02,3.95,4.33\n2024-01-03,3.91,4.33\n")
    db.macro.import_files([rates], source="test", known_since="2024-01-04")
    news = tmp_path / "news.json"
    news.write_text(
        json.dumps(
            [
                {
                    "url": "https://news.example.com/a",
                    "title": "Apple results",
                    "source": "Wire",
                    "published_at": "2024-01-03T16:35:00Z",
                    "symbols": ["AAPL"],
                }
            ]
        )
    )
    db.news.import_articles([news])
    events = tmp_path / "events.json"
    events.write_text(
        json.dumps(
            [
                {
                    "ts": "2024-01-05T13:30:00Z",
                    "name": "Non-Farm Payrolls",
                    "country": "US",
                    "currency": "USD",
                    "impact": "high",
                    "actual": "216K",
                    "forecast": "170K",
                }
            ]
        )
    )
    db.news.import_events([events])

    got = world.get("vera", "/api/v1/bars/aapl", params={"start": "2024-01-03"}).json()
    assert got == [
        {
            "ts": "2024-01-03T00:00:00Z",
            "open": 184.22,
            "high": 185.88,
            "low": 183.43,
            "close": 184.25,
            "volume": 58414500.0,
            "vwap": None,
            "trades": None,
            "source": "test",
        }
    ]
    gaps = world.get(
        "vera",
        "/api/v1/bars/AAPL/gaps",
        params={"start": "2024-01-02", "end": "2024-01-05", "exchange": "XNYS"},
    ).json()
    assert (gaps["expected"], gaps["present"], gaps["missing"]) == (4, 2, 2)
    assert gaps["gaps"] == [
        {"first_missing": "2024-01-04", "last_missing": "2024-01-05", "count": 2}
    ]
    sessions = world.get(
        "vera",
        "/api/v1/calendars/XNYS/sessions",
        params={"start": "2024-01-12", "end": "2024-01-16"},
    ).json()
    assert [s["session"] for s in sessions] == ["2024-01-12", "2024-01-16"]  # MLK day closed
    assert sessions[0]["open_local"] == "2024-01-12T09:30:00-05:00"
    assert sessions[0]["open_utc"] == "2024-01-12T14:30:00Z"
    status = world.get(
        "vera", "/api/v1/calendars/XNYS/status", params={"at": "2024-01-12T15:00"}
    ).json()
    assert (status["is_open"], status["state"], status["session"]) == (True, "OPEN", "2024-01-12")
    assert [e["code"] for e in world.get("vera", "/api/v1/calendars").json()] == ["XNYS"]
    assert world.get("vera", "/api/v1/macro/series/DGS10").json() == [
        {"date": "2024-01-02", "value": 3.95},
        {"date": "2024-01-03", "value": 3.91},
    ]
    assert (
        world.get("vera", "/api/v1/macro/series/DGS10", params={"as_of": "2024-01-03"}).json() == []
    )
    spread = world.get("vera", "/api/v1/macro/indicators/term-spread").json()
    assert [round(p["value"], 2) for p in spread] == [-0.38, -0.42]
    assert {s["code"] for s in world.get("vera", "/api/v1/macro/series").json()} == {
        "DGS10",
        "DGS2",
    }
    articles = world.get("vera", "/api/v1/news", params={"symbol": "aapl"}).json()
    assert [a["title"] for a in articles] == ["Apple results"]
    (event,) = world.get("vera", "/api/v1/events", params={"min_impact": "high"}).json()
    assert (event["actual_value"], event["forecast_value"], event["surprise"]) == (
        "216000",
        "170000",
        "46000",
    )
    regimes = world.get("vera", "/api/v1/macro/regimes")
    assert regimes.status_code in (404, 422)  # no growth or inflation series: refused, not failed
