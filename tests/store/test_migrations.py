"""The schema: created at head by `connect(create=True)`, matching the models, exact money."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import foliodb
from foliodb.cli.main import app
from foliodb.services.bootstrap import SchemaNotCurrentError
from foliodb.store import tables
from foliodb.store.base import Base
from tests.builders import CsvFiles, deposit

#: Every table of the migrations, listed by hand from their upgrade().
ALL_TABLES = {
    "accounts",
    "alembic_version",
    "api_keys",
    "audit_log",
    "cache_counters",
    "bar_rollup_watermarks",
    "cash_balances",
    "currency_attribution",
    "economic_events",
    "economic_observations",
    "economic_series",
    "exchanges",
    "market_hours",
    "news_articles",
    "news_symbols",
    "ohlcv_bars",
    "regime_history",
    "trading_holidays",
    "fx_rates",
    "login_attempts",
    "lots",
    "pack_fx_rates",
    "pack_prices",
    "portfolio_cash_flows",
    "portfolio_daily_values",
    "portfolio_grants",
    "portfolio_metrics",
    "portfolios",
    "prices",
    "pricing_packs",
    "realized_gains",
    "refresh_tokens",
    "securities",
    "transactions",
    "users",
}

#: Exact values a float would spoil: 0.1 and long tails, huge and tiny magnitudes, negatives,
#: trailing zeros (whose scale must survive as written).
EXACT_VALUES = [
    "0.1",
    "0.1000000000000000000000000000000000000001",
    "0.30000000000000000000000000000000000004",
    "123456789012345678901234567890.123456789012345678901234567890",
    "-98765.4321098765432109876543210",
    "0.000000000000000000000000000000000001",
    "1.10",
    "100",
]


def _head_revision() -> str:
    """The newest revision, read from the migration scripts by Alembic itself."""
    config = Config()
    config.set_main_option("script_location", "foliodb.store:migrations")
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def db(db_url: str) -> Iterator[foliodb.Database]:
    database = foliodb.connect(db_url, create=True)
    try:
        yield database
    finally:
        database.close()


def test_connect_with_create_builds_every_table_at_the_head_revision(
    db: foliodb.Database,
) -> None:
    with db.engine.connect() as connection:
        names = set(sa.inspect(connection).get_table_names())
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert revision.scalar_one() == _head_revision()
    # PostgreSQL lists ohlcv_bars' partitions as tables too
    assert {n for n in names if not n.startswith("ohlcv_bars_")} == ALL_TABLES
    status = db.status()
    assert status.current == status.head == _head_revision()
    assert status.is_current


def test_connect_with_create_on_a_current_database_changes_nothing(db_url: str) -> None:
    with foliodb.connect(db_url, create=True) as first:
        first.create_portfolio("Kept", base_currency="EUR")
    with foliodb.connect(db_url, create=True) as again:
        assert again.status().is_current
        assert [p.name for p in again.portfolios()] == ["Kept"]


def test_db_status_says_a_migrated_database_is_up_to_date(
    db: foliodb.Database, db_url: str
) -> None:
    result = CliRunner().invoke(app, ["db", "status", "--db", db_url])
    assert result.exit_code == 0, result.output
    head = _head_revision()
    assert f"current {head}, head {head}: up to date" in result.stdout


def test_db_status_on_an_empty_database_says_it_needs_an_upgrade(sqlite_url: str) -> None:
    sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).close()  # an empty database file
    result = CliRunner().invoke(app, ["db", "status", "--db", sqlite_url])
    assert result.exit_code == 1
    assert "current none" in result.stdout
    assert "foliodb db upgrade" in result.stdout


def test_db_status_on_a_missing_sqlite_file_names_foliodb_init_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "absent" / "foliodb.db"
    result = CliRunner().invoke(app, ["db", "status", "--db", f"sqlite:///{path}"])
    assert result.exit_code == 1
    assert "foliodb init" in result.stderr
    assert not path.parent.exists()


def test_connecting_to_an_empty_database_without_create_is_refused_naming_foliodb_init(
    db_url: str,
) -> None:
    with pytest.raises(SchemaNotCurrentError, match="foliodb init"):
        foliodb.connect(db_url)


def _not_storage_layout(
    item: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    """Skip what only the PostgreSQL storage layout adds: ohlcv_bars' partitions and their
    indexes, and its BRIN index (the models describe the logical table)."""
    if kind == "table":
        return not (name or "").startswith("ohlcv_bars_")
    if kind == "index":
        table = getattr(getattr(item, "table", None), "name", "")
        return not (table.startswith("ohlcv_bars_") or name == "ix_ohlcv_bars_ts_brin")
    return True


def test_the_migrated_schema_matches_the_models(db: foliodb.Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "target_metadata": Base.metadata,
                "include_object": _not_storage_layout,
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _read_back_price(connection: sa.Connection, value: Decimal) -> tuple[Decimal, object]:
    """Store `value` as a price through the ORM table, read it back typed and raw."""
    connection.execute(sa.delete(tables.PriceRow))
    connection.execute(
        sa.insert(tables.PriceRow).values(
            symbol="EXACT", date=dt.date(2024, 1, 2), price=value, currency="USD"
        )
    )
    typed = connection.execute(sa.select(tables.PriceRow.price)).scalar_one()
    raw = connection.exec_driver_sql("SELECT price FROM prices").scalar_one()
    return typed, raw


@pytest.fixture
def money_connection(db: foliodb.Database) -> Iterator[sa.Connection]:
    with db.engine.begin() as connection:
        connection.execute(
            sa.insert(tables.SecurityRow).values(
                symbol="EXACT", currency="USD", name="Exact", type="EQUITY"
            )
        )
        yield connection


def test_money_columns_return_exactly_the_decimals_stored(
    money_connection: sa.Connection,
) -> None:
    wrong = []
    for text in EXACT_VALUES:
        typed, raw = _read_back_price(money_connection, Decimal(text))
        # as_tuple: the same digits and the same scale, not merely an equal value.
        if not isinstance(typed, Decimal) or typed.as_tuple() != Decimal(text).as_tuple():
            wrong.append(f"{text} came back as {typed!r}")
        if money_connection.dialect.name == "sqlite" and not isinstance(raw, str):
            # SQLite's NUMERIC affinity would store a float: the column must hold the text.
            wrong.append(f"{text} is stored as {type(raw).__name__} {raw!r}")
    assert wrong == []


def test_money_columns_are_text_on_sqlite_and_numeric_on_postgresql(
    money_connection: sa.Connection,
) -> None:
    _read_back_price(money_connection, Decimal("0.1"))
    if money_connection.dialect.name == "sqlite":
        kind = money_connection.exec_driver_sql("SELECT typeof(price) FROM prices").scalar_one()
        assert kind == "text"
    else:
        kind = money_connection.exec_driver_sql(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'prices' AND column_name = 'price'"
        ).scalar_one()
        assert kind == "numeric"


def test_money_columns_refuse_floats(money_connection: sa.Connection) -> None:
    with pytest.raises(sa.exc.StatementError, match="refuse floats"):
        _read_back_price(money_connection, 0.1)  # type: ignore[arg-type]


#: Built from text, so no decimal context rounds them on the way in.
exact_decimals = st.builds(
    lambda digits, places: Decimal(f"{digits}E-{places}"),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=0, max_value=40),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=exact_decimals)
def test_any_decimal_survives_a_round_trip_through_a_money_column(
    money_connection: sa.Connection, value: Decimal
) -> None:
    typed, _ = _read_back_price(money_connection, value)
    assert typed == value


def _migrate(engine: sa.Engine, verb: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", "foliodb.store:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, verb)(config, revision)


def test_0011_keeps_existing_transactions_active_and_its_downgrade_drops_reversed_ones(
    db: foliodb.Database, tmp_path: Path
) -> None:
    files = CsvFiles(tmp_path)
    db.create_portfolio("Main")
    db.import_transactions(
        "Main",
        files.transactions(
            [deposit("D1", "2024-01-02", "100", "USD"), deposit("D2", "2024-01-03", "5", "USD")]
        ),
    )
    db.reverse_transaction("Main", "D2", "typo")
    engine = db.engine

    _migrate(engine, "downgrade", "0010")  # the reversed transaction leaves, as deleting did
    with engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT tx_id FROM transactions")).scalars().all()
    assert kept == ["D1"]

    _migrate(engine, "upgrade", "head")  # rows stored before 0011 are active, reverse nothing
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT tx_id, active, reverses FROM transactions")).all()
    assert [(r.tx_id, bool(r.active), r.reverses) for r in rows] == [("D1", True, None)]
    assert db.transactions("Main").count == 1
