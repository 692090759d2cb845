"""The demo data set is what the issue promises, and loading it twice changes nothing."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import foliodb
from foliodb.cli.main import app
from foliodb.errors import ConflictError
from foliodb.services import demo


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[foliodb.Database, Path]]:
    directory = tmp_path_factory.mktemp("demo")
    database = foliodb.connect(f"sqlite:///{directory}/demo.db", create=True)
    demo.load(database.engine, directory / "files")
    try:
        yield database, directory / "files"
    finally:
        database.close()


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_demo_has_two_users_portfolios_in_usd_and_cad(
    loaded: tuple[foliodb.Database, Path],
) -> None:
    database, _ = loaded
    portfolios = {(p.owner, p.base_currency) for p in database.portfolios()}
    assert portfolios == {("alice@example.com", "USD"), ("bob@example.com", "CAD")}


def test_the_demo_universe_spans_three_currencies_and_a_bond_fund(
    loaded: tuple[foliodb.Database, Path],
) -> None:
    _, files = loaded
    securities = rows(files / "securities.csv")
    assert 14 <= len(securities) <= 16
    assert {s["currency"] for s in securities} == {"USD", "CAD", "EUR"}
    assert {"EQUITY", "ETF", "FUND"} <= {s["type"] for s in securities}


def test_the_demo_ledger_exercises_every_booking_method_a_split_and_cash_flows(
    loaded: tuple[foliodb.Database, Path],
) -> None:
    _, files = loaded
    transactions = [row for path in files.glob("transactions-*.csv") for row in rows(path)]
    assert 200 <= len(transactions) <= 1000
    types = Counter(row["type"] for row in transactions)
    for kind in ("DEPOSIT", "WITHDRAWAL", "DIVIDEND", "FEE", "BUY", "SELL", "SPLIT"):
        assert types[kind] > 0, kind
    assert any(row["type"] == "SPLIT" and row["ratio"] == "2" for row in transactions)
    methods = {row["method"] for row in transactions if row["type"] == "SELL"}
    assert {"FIFO", "LIFO", "HIFO", "AVERAGE", "SPECIFIC"} <= methods


def test_every_trading_day_has_a_sealed_pack_and_the_latest_values_each_portfolio(
    loaded: tuple[foliodb.Database, Path],
) -> None:
    database, _ = loaded
    packs = database.packs()
    assert len(packs) == len(demo.trading_days())
    assert {p.status for p in packs} == {"COMPLETE"}
    for name in ("Alice Growth", "Bob RRSP"):
        valuation = database.valuation(name).valuation
        assert valuation.pack_id == "PP_2025-12-31"
        assert valuation.total_value > 0
        assert sum(c.balance < 0 for c in valuation.cash) == 0  # the demo never overdraws
        assert database.rebuild(name).identical


def test_loading_the_demo_again_adds_nothing(loaded: tuple[foliodb.Database, Path]) -> None:
    database, files = loaded
    before = [(p.name, p.transaction_count) for p in database.portfolios()]
    again = demo.load(database.engine, files)
    assert again.packs_created == 0
    assert [(p.name, p.transaction_count) for p in database.portfolios()] == before


def test_the_demo_command_prints_both_valuations(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--db", f"sqlite:///{tmp_path}/demo.db"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "Alice Growth at PP_2025-12-31 (USD)" in result.stdout
    assert "Bob RRSP at PP_2025-12-31 (CAD)" in result.stdout


def test_the_demo_refuses_a_database_holding_the_users_own_portfolios(tmp_path: Path) -> None:
    database = foliodb.connect(f"sqlite:///{tmp_path}/mine.db", create=True)
    database.create_portfolio("Mine")

    with pytest.raises(ConflictError, match="'Mine'"):
        demo.load(database.engine, tmp_path / "files")

    assert [p.name for p in database.portfolios()] == ["Mine"]
    assert database.packs() == []
    database.close()


def test_the_demo_with_another_seed_loads_nothing_into_an_earlier_demo(
    loaded: tuple[foliodb.Database, Path], tmp_path: Path
) -> None:
    database, _ = loaded
    before = database.pack("PP_2025-12-31").prices

    with pytest.raises(ConflictError, match="another seed"):
        demo.load(database.engine, tmp_path / "seed8", seed=8)

    assert database.pack("PP_2025-12-31").prices == before
    with database.engine.connect() as conn:
        price = conn.exec_driver_sql(
            "select price from prices where symbol = 'AAPL' and date = '2025-12-31'"
        ).scalar()
    assert str(price) == str(next(p.price for p in before if p.symbol == "AAPL"))
