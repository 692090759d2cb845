"""`/health` and `/health/database`: unauthenticated, cheap, honest about the database,
and without secrets."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import foliodb
from foliodb.config import Settings
from foliodb.server import create_app
from foliodb.server.deps import ServerState
from foliodb.services import bootstrap
from tests.server.conftest import SECRET_KEY, TestClient, World


def test_health_says_ok_with_the_version_and_schema_without_signing_in(world: World) -> None:
    response = world.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    head = bootstrap.status(world.db.engine).head
    assert body == {
        "status": "ok",
        "version": foliodb.__version__,
        "database": world.db.engine.dialect.name,
        "database_reachable": True,
        "migrations_current": True,
        "schema_revision": head,
        "schema_head": head,
    }


def test_database_health_measures_a_round_trip_and_the_pool(world: World) -> None:
    body = world.client.get("/health/database").json()
    assert body["reachable"] is True
    assert 0 < body["latency_ms"] < 5000
    assert body["pool"]["size"] == Settings().pool_size
    assert 0 <= body["pool"]["checked_out"] <= body["pool"]["size"]


def test_health_names_no_secret(world: World) -> None:
    url = world.db.engine.url
    for path in ("/health", "/health/database"):
        text_ = world.client.get(path).text
        assert SECRET_KEY not in text_
        assert str(url.database) not in text_
        if url.password:
            assert url.password not in text_


def test_an_unreachable_database_answers_503(world: World) -> None:
    gone = foliodb.Database(bootstrap.open_engine("postgresql://nobody:hunter2@127.0.0.1:9/none"))
    app = world.client.app
    head = bootstrap.status(world.db.engine).head
    app.state.foliodb = ServerState(gone, Settings(secret_key=SECRET_KEY), head)  # type: ignore[attr-defined]
    try:
        for path in ("/health", "/health/database"):
            response = world.client.get(path)
            assert response.status_code == 503
            assert (
                response.json()["database_reachable" if path == "/health" else "reachable"] is False
            )
            assert "hunter2" not in response.text
        assert world.client.get("/health").json()["status"] == "unavailable"
    finally:
        gone.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_behind_the_code_answers_503_outdated(db: foliodb.Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with TestClient(create_app(db, Settings(secret_key=SECRET_KEY))) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "outdated_schema"
    assert response.json()["migrations_current"] is False
    assert response.json()["schema_revision"] == "0001"


def test_the_app_refuses_to_start_without_a_secret_key(db: foliodb.Database) -> None:
    with pytest.raises(foliodb.InputError, match="FOLIODB_SECRET_KEY"):
        create_app(db, Settings(secret_key=None))
    with pytest.raises(foliodb.InputError, match="too short"):
        create_app(db, Settings(secret_key="short"))
