"""`foliodb serve`: refuses to start without a secret key; otherwise runs uvicorn on the
app factory, for the database given."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import foliodb
from foliodb.cli.serve import APP_FACTORY, serve
from tests.server.conftest import SECRET_KEY

app = typer.Typer()
app.command()(serve)
app.command("noop")(lambda: None)  # two commands: `serve` is named on the command line


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/served.db"
    foliodb.connect(url, create=True).close()
    return url


def test_serve_refuses_to_start_without_a_secret_key(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOLIODB_SECRET_KEY", raising=False)
    started: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(a))
    result = CliRunner().invoke(app, ["serve", "--db", database])
    assert result.exit_code == 2
    assert "FOLIODB_SECRET_KEY" in result.output
    assert started == []


def test_serve_runs_uvicorn_on_the_app_factory(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOLIODB_SECRET_KEY", SECRET_KEY)
    monkeypatch.delenv("FOLIODB_DATABASE_URL", raising=False)
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: calls.append((a, k)))
    result = CliRunner().invoke(
        app, ["serve", "--db", database, "--port", "8123", "--workers", "3"]
    )
    assert result.exit_code == 0, result.output
    ((args, kwargs),) = calls
    assert args == (APP_FACTORY,)
    assert kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("127.0.0.1", 8123, 3)
    assert os.environ["FOLIODB_DATABASE_URL"] == database  # what the workers open


def test_serve_refuses_a_database_that_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOLIODB_SECRET_KEY", SECRET_KEY)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("started"))
    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path}/none.db"])
    assert result.exit_code == 1
    assert "foliodb init" in result.output
