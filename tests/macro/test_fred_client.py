"""The FRED client against a local HTTP server serving canned FRED JSON (no network)."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine

import foliodb
from foliodb.config import Settings
from foliodb.errors import InputError
from foliodb.ingest.fred import SeriesInfo, Vintage
from foliodb.ingest.fred_api import FredClient, FredUnavailableError
from foliodb.services.macro import Macro
from tests.macro.fred_server import Canned, FakeFred, fake_fred, observations_json, series_json

KEY = "abcdef0123456789abcdef0123456789"
D = dt.date.fromisoformat
GDP = series_json("GDPC1", "Real Gross Domestic Product", "Q", "Billions of Chained 2017 Dollars")
GDP_VINTAGES = observations_json(
    [
        ("2024-01-25", "2024-02-27", "2023-10-01", "22672.9"),
        ("2024-02-28", "9999-12-31", "2023-10-01", "22679.3"),
        ("2024-02-28", "9999-12-31", "2024-01-01", "."),
    ],
    realtime=("1776-07-04", "9999-12-31"),
)


@pytest.fixture
def server() -> Iterator[FakeFred]:
    with fake_fred() as fake:
        yield fake


class Waits(list[float]):
    """Records the client's back-off waits instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(server: FakeFred, waits: Waits | None = None, **options: float) -> FredClient:
    return FredClient(KEY, server.url, sleep=waits if waits is not None else Waits(), **options)  # type: ignore[arg-type]


def test_a_series_comes_with_its_metadata_and_the_key_is_in_no_log_or_error(
    server: FakeFred, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.answer("series", "GDPC1", Canned(200, GDP))
    server.answer(
        "series/observations",
        "GDPC1",
        Canned(200, observations_json([("2024-04-01", "2024-04-01", "2023-10-01", "22679.2")])),
    )
    server.answer(
        "series",
        "NOPE",
        Canned(
            400, {"error_code": 400, "error_message": "Bad Request.  The series does not exist."}
        ),
    )

    with client(server) as fred:
        data = fred.fetch("GDPC1", start=D("2023-01-01"))
        with pytest.raises(InputError) as refused:
            fred.fetch("NOPE")

    assert data.info == SeriesInfo(
        "GDPC1",
        "Real Gross Domestic Product",
        "Q",
        "Billions of Chained 2017 Dollars",
        "SAAR",
        "FRED",
    )
    assert (data.has_vintages, data.known_since) == (False, D("2024-04-01"))
    assert data.observations == (Vintage(D("2023-10-01"), 22679.2),)
    [observations] = server.calls("series/observations")
    assert observations == {
        "series_id": "GDPC1",
        "api_key": KEY,
        "file_type": "json",
        "observation_start": "2023-01-01",
        "limit": "100000",
        "offset": "0",
    }
    [problem] = refused.value.problems
    assert (problem.field, problem.value) == ("code", "NOPE")
    assert "The series does not exist" in problem.message
    assert len(server.calls("series")) == 2  # a 400 is not retried
    assert "HTTP Request: GET http://127.0.0.1" in caplog.text  # httpx logs its URLs...
    assert KEY not in caplog.text and KEY not in str(refused.value)  # ...without the key


def test_vintages_are_asked_from_fred_s_first_day_and_their_ends_made_exclusive(
    server: FakeFred,
) -> None:
    server.answer("series", "GDPC1", Canned(200, GDP))
    server.answer("series/observations", "GDPC1", Canned(200, GDP_VINTAGES))

    with client(server) as fred:
        data = fred.fetch("GDPC1", vintages=True)

    [params] = server.calls("series/observations")
    assert (params["realtime_start"], params["realtime_end"]) == ("1776-07-04", "9999-12-31")
    assert data.has_vintages
    assert data.observations == (
        Vintage(D("2023-10-01"), 22672.9, D("2024-01-25"), D("2024-02-28")),
        Vintage(D("2023-10-01"), 22679.3, D("2024-02-28"), None),
        Vintage(D("2024-01-01"), None, D("2024-02-28"), None),
    )


def test_long_answers_are_read_page_by_page(server: FakeFred) -> None:
    rows = [("2024-04-01", "2024-04-01", f"2023-{m:02d}-01", str(m)) for m in (1, 2, 3)]
    server.answer("series", "X", Canned(200, GDP))
    server.answer(
        "series/observations",
        "X",
        Canned(200, observations_json(rows[:2], count=3)),
        Canned(200, observations_json(rows[2:], count=3, offset=2)),
    )

    with client(server) as fred:
        data = fred.fetch("X")

    assert [v.value for v in data.observations] == [1.0, 2.0, 3.0]
    assert [p["offset"] for p in server.calls("series/observations")] == ["0", "2"]


def test_429_and_5xx_are_retried_with_growing_bounded_waits(server: FakeFred) -> None:
    server.answer(
        "series",
        "GDPC1",
        Canned(503, "unavailable"),
        Canned(429, {"error_code": 429}, headers={"Retry-After": "60"}),
        Canned(502, "bad gateway"),
        Canned(200, GDP),
    )
    waits = Waits()

    with client(server, waits, backoff=0.5, max_wait=5.0) as fred:
        info = fred.series_info("GDPC1")

    assert info.title == "Real Gross Domestic Product"
    assert len(server.calls("series")) == 4
    assert waits == [0.5, 5.0, 2.0]  # backoff, Retry-After capped at max_wait, 4 x backoff


def test_a_server_that_keeps_failing_is_reported_after_the_last_attempt(server: FakeFred) -> None:
    server.answer("series", "GDPC1", Canned(500, "oops"))
    waits = Waits()

    with (
        client(server, waits, attempts=3, backoff=0.1) as fred,
        pytest.raises(FredUnavailableError, match=r"after 3 attempts: HTTP 500"),
    ):
        fred.series_info("GDPC1")

    assert len(server.calls("series")) == 3 and waits == [0.1, 0.2]


def test_a_timeout_is_retried_then_reported(server: FakeFred) -> None:
    server.answer("series", "SLOW", Canned(200, GDP, delay=1.0))

    with (
        client(server, attempts=2, timeout=0.2) as fred,
        pytest.raises(FredUnavailableError, match="timed out"),
    ):
        fred.series_info("SLOW")

    assert len(server.calls("series")) == 2


def test_a_refused_key_names_the_setting_and_never_the_key(server: FakeFred) -> None:
    message = "Bad Request.  The value for variable api_key is not registered."
    server.answer("series", "GDPC1", Canned(400, {"error_code": 400, "error_message": message}))

    with client(server) as fred, pytest.raises(InputError) as refused:
        fred.series_info("GDPC1")

    [problem] = refused.value.problems
    assert problem.field == "FOLIODB_FRED_API_KEY" and "not registered" in problem.message
    assert KEY not in str(refused.value)


def test_answers_that_are_not_fred_json_and_closed_ports_are_reported(server: FakeFred) -> None:
    server.answer("series", "GDPC1", Canned(200, "<html>maintenance</html>"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/fred"

    with client(server) as fred, pytest.raises(FredUnavailableError, match="does not document"):
        fred.series_info("GDPC1")
    with (
        FredClient(KEY, closed, attempts=2, sleep=Waits()) as fred,
        pytest.raises(FredUnavailableError, match="after 2 attempts: cannot connect"),
    ):
        fred.series_info("GDPC1")


def test_fetching_without_a_key_is_refused_naming_the_setting() -> None:
    macro = Macro(create_engine("sqlite://"), Settings(fred_api_key=None, fred_url="http://x"))

    with pytest.raises(InputError) as refused:
        macro.fetch("GDPC1")

    assert refused.value.problems[0].field == "FOLIODB_FRED_API_KEY"
    assert KEY not in repr(Settings(fred_api_key=SecretStr(KEY)))


def test_fetched_vintages_are_stored_and_a_second_fetch_adds_nothing(
    db: foliodb.Database, server: FakeFred
) -> None:
    server.answer("series", "GDPC1", Canned(200, GDP))
    server.answer("series/observations", "GDPC1", Canned(200, GDP_VINTAGES))

    with client(server) as fred:
        [first] = db.macro.fetch(["gdpc1"], vintages=True, client=fred)
        [second] = db.macro.fetch("GDPC1", vintages=True, client=fred)

    assert (first.code, first.added, second.added, second.updated) == ("GDPC1", 3, 0, 0)
    assert db.macro.series("GDPC1", as_of="2024-02-27").to_dict() == {
        pd.Timestamp("2023-10-01"): 22672.9
    }
    latest = db.macro.series("GDPC1")
    assert latest.iloc[0] == 22679.3 and latest.isna().iloc[1]  # 2024 Q1 published missing
    [listed] = db.macro.list_series()
    assert (listed.title, listed.units, listed.seasonal_adjustment, listed.source) == (
        "Real Gross Domestic Product",
        "Billions of Chained 2017 Dollars",
        "SAAR",
        "FRED",
    )
