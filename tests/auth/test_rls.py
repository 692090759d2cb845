"""Row-level security on PostgreSQL: connected as the server's role (made by
`create_app_role`: not the owner, NOBYPASSRLS), raw SQL with user A's context sees none of
user B's rows in any portfolio-owned table and cannot write them; without a context nothing
is visible; and the database agrees with the Python access rules for every role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

import foliodb
from foliodb.errors import ConflictError, InputError, NotFoundError
from foliodb.services import auth
from foliodb.store import tables  # noqa: F401 - registers every table on the metadata
from foliodb.store.base import Base
from tests.auth.conftest import make_user
from tests.auth.test_access import EXPECTED, set_up_case
from tests.builders import write_csv

D = Decimal
DAY = dt.date(2024, 1, 2)
NOW = dt.datetime(2024, 1, 2, 12, tzinfo=dt.UTC)
PACK = "PP_2024-01-02"

#: Every table holding a portfolio's rows (portfolios itself aside), by hand.
PORTFOLIO_TABLES = (
    "accounts",
    "transactions",
    "lots",
    "realized_gains",
    "cash_balances",
    "portfolio_daily_values",
    "portfolio_cash_flows",
    "portfolio_metrics",
    "currency_attribution",
    "portfolio_grants",
)


def row_for(table: str, portfolio_id: int, n: int, grantee_id: int) -> dict[str, Any]:
    """A valid row of `table` in the portfolio; `n` makes its key differ from other rows'."""
    tag, day, currency = f"r{n}", DAY + dt.timedelta(days=n), ("USD", "EUR", "GBP")[n]
    money = {"fee": D(0), "fx_rate": D(1)}
    rows: dict[str, dict[str, Any]] = {
        "accounts": {"name": tag},
        "transactions": {
            "tx_id": tag,
            "content_hash": "0" * 64,
            "trade_date": day,
            "type": "DEPOSIT",
            "currency": "USD",
            "amount": D(100),
            "created_at": NOW,
            **money,
        },
        "lots": {
            "lot_id": tag,
            "symbol": "AAA",
            "currency": "USD",
            "acquired_date": day,
            "original_quantity": D(1),
            "open_quantity": D(1),
            "cost_basis": D(10),
            "cost_basis_base": D(10),
        },
        "realized_gains": {
            "lot_id": tag,
            "symbol": "AAA",
            "currency": "USD",
            "tx_id": tag,
            "acquired_date": day,
            "disposed_date": day,
            "quantity": D(1),
            "proceeds": D(11),
            "cost_basis": D(10),
            "gain": D(1),
            "proceeds_base": D(11),
            "cost_basis_base": D(10),
            "gain_base": D(1),
            "term": "SHORT",
            "is_short": False,
        },
        "cash_balances": {"currency": currency, "balance": D(5)},
        "portfolio_daily_values": {
            "date": day,
            "pack_id": PACK,
            **{
                k: D(1)
                for k in (
                    "nav",
                    "nav_at_prior_fx",
                    "securities_value",
                    "cash_value",
                    "external_flows",
                    "income",
                    "fees",
                    "daily_pnl",
                )
            },
        },
        "portfolio_cash_flows": {
            "tx_id": tag,
            "trade_date": day,
            "value_date": day,
            "type": "DEPOSIT",
            "currency": "USD",
            "amount": D(1),
            "amount_base": D(1),
        },
        "portfolio_metrics": {
            "pack_id": PACK,
            "metric": "nav",
            "period": tag,
            "fingerprint": "f",
            "value": 1.0,
            "computed_at": NOW,
        },
        "currency_attribution": {
            "start_pack_id": PACK,
            "end_pack_id": PACK,
            "currency": currency,
            "fingerprint": "f",
            "weight": 1.0,
            "local_contribution": 0.0,
            "fx_contribution": 0.0,
            "interaction": 0.0,
            "computed_at": NOW,
        },
        "portfolio_grants": {"grantee_id": grantee_id, "scope": "read", "granted_at": NOW},
    }
    return {"portfolio_id": portfolio_id, **rows[table]}


def insert(connection: sa.Connection, table: str, values: dict[str, Any]) -> None:
    connection.execute(sa.insert(Base.metadata.tables[table]).values(**values))


class World:
    """Users A and B with a portfolio each, a row of every portfolio-owned table in each,
    written by the owner (who is not bound by RLS); C is who A's and B's portfolios are shared
    with, D someone to share with."""

    def __init__(self, db: foliodb.Database) -> None:
        self.a = make_user(db, "a@example.com")
        self.b = make_user(db, "b@example.com")
        self.c = make_user(db, "c@example.com")
        self.d = make_user(db, "d@example.com")
        self.admin = make_user(db, "admin@example.com", "ADMIN")
        db.create_portfolio("A's", owner="a@example.com")
        db.create_portfolio("B's", owner="b@example.com")
        self.pa, _ = auth.find_portfolio(db.engine, "A's")
        self.pb, _ = auth.find_portfolio(db.engine, "B's")
        with db.engine.begin() as connection:
            insert(connection, "securities", {"symbol": "AAA", "currency": "USD", "name": "A"})
            insert(connection, "pricing_packs", {"pack_id": PACK, "date": DAY, "revision": 1})
            for table in PORTFOLIO_TABLES:
                for portfolio_id in (self.pa, self.pb):
                    insert(connection, table, row_for(table, portfolio_id, 0, self.c.user_id))


@pytest.fixture
def world(pg_db: foliodb.Database) -> World:
    return World(pg_db)


@pytest.fixture
def app(app_db: foliodb.Database) -> sa.Engine:
    return app_db.engine


def as_user(engine: sa.Engine, principal: auth.Principal | None) -> sa.Connection:
    """A connection in a transaction acting as `principal` (None: no context at all)."""
    connection = engine.connect()
    if principal is not None:
        auth.set_rls_context(connection, principal)
    return connection


def portfolio_ids(connection: sa.Connection, table: str) -> set[int]:
    column = "id" if table == "portfolios" else "portfolio_id"
    return set(connection.exec_driver_sql(f"SELECT {column} FROM {table}").scalars())


def test_the_app_role_neither_owns_the_tables_nor_bypasses_rls(
    pg_db: foliodb.Database, app_role: tuple[str, str]
) -> None:
    name, password = app_role
    with pg_db.engine.connect() as connection:
        role = connection.execute(
            sa.text(
                "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin, "
                "rolpassword FROM pg_authid WHERE rolname = :n"
            ),
            {"n": name},
        ).one()
        owned = connection.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE tableowner = :n"), {"n": name}
        ).scalar_one()
        forced = connection.execute(
            sa.text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relname = ANY(:t)"
            ),
            {"t": ["portfolios", *PORTFOLIO_TABLES]},
        ).all()
    assert role[:5] == (False, False, False, False, True)
    assert role.rolpassword.startswith("SCRAM-SHA-256$")  # a verifier, not the password
    assert password not in role.rolpassword
    assert owned == 0
    assert sorted((r.relname, r.relrowsecurity, r.relforcerowsecurity) for r in forced) == sorted(
        (t, True, False) for t in ["portfolios", *PORTFOLIO_TABLES]
    )


def test_with_a_users_context_raw_sql_sees_only_their_portfolios_rows(
    world: World, app: sa.Engine
) -> None:
    wrong = {}
    with as_user(app, world.a) as connection:
        for table in ("portfolios", *PORTFOLIO_TABLES):
            if (seen := portfolio_ids(connection, table)) != {world.pa}:
                wrong[table] = seen
    assert wrong == {}


def test_without_a_context_nothing_is_visible(world: World, app: sa.Engine) -> None:
    contexts: dict[str, dict[str, str]] = {
        "never set": {},
        "role only": {"foliodb.user_role": "ADMIN"},
        "user only": {"foliodb.user_id": str(world.a.user_id)},
        "both empty": {"foliodb.user_id": "", "foliodb.user_role": ""},
        "not a user id": {"foliodb.user_id": "1 OR true", "foliodb.user_role": "ADMIN"},
        "unknown role": {"foliodb.user_id": str(world.a.user_id), "foliodb.user_role": "ROOT"},
    }
    wrong = {}
    for case, settings in contexts.items():
        with app.connect() as connection:
            for key, value in settings.items():
                connection.execute(
                    sa.text("SELECT set_config(:k, :v, true)"), {"k": key, "v": value}
                )
            for table in ("portfolios", *PORTFOLIO_TABLES):
                if seen := portfolio_ids(connection, table):
                    wrong[f"{case}: {table}"] = seen
    assert wrong == {}


def test_the_context_ends_with_the_transaction(world: World, app: sa.Engine) -> None:
    with as_user(app, world.a) as connection:
        assert portfolio_ids(connection, "portfolios") == {world.pa}
        connection.commit()
        assert portfolio_ids(connection, "portfolios") == set()


def test_an_admin_context_sees_every_portfolio(world: World, app: sa.Engine) -> None:
    with as_user(app, world.admin) as connection:
        for table in ("portfolios", *PORTFOLIO_TABLES):
            assert portfolio_ids(connection, table) == {world.pa, world.pb}, table


def refused(app: sa.Engine, principal: auth.Principal, sql: Any, params: Any = None) -> bool:
    """Whether the statement, run as `principal`, is refused by a row-level security policy."""
    with as_user(app, principal) as connection:
        try:
            connection.execute(sql, params or {})
        except DBAPIError as exc:
            if "row-level security" not in str(exc.orig):
                raise
            return True
        return False


def test_a_user_cannot_write_another_users_portfolio(
    world: World, app: sa.Engine, pg_db: foliodb.Database
) -> None:
    a, pa, pb = world.a, world.pa, world.pb
    wrong = []
    for table in PORTFOLIO_TABLES:
        target = Base.metadata.tables[table]
        # Insert into B's portfolio: refused. Into A's own: allowed (the policy is no wall).
        if not refused(app, a, sa.insert(target).values(**row_for(table, pb, 1, world.d.user_id))):
            wrong.append(f"{table}: inserted into B's portfolio")
        if refused(app, a, sa.insert(target).values(**row_for(table, pa, 1, world.d.user_id))):
            wrong.append(f"{table}: could not insert into A's own portfolio")
        # Move A's row into B's portfolio: refused.
        moved = sa.update(target).where(target.c.portfolio_id == pa).values(portfolio_id=pb)
        if not refused(app, a, moved):
            wrong.append(f"{table}: moved a row into B's portfolio")
        # Update or delete B's rows: nothing matches.
        with as_user(app, a) as connection:
            for statement in (
                sa.update(target).where(target.c.portfolio_id == pb).values(portfolio_id=pb),
                sa.delete(target).where(target.c.portfolio_id == pb),
            ):
                if connection.execute(statement).rowcount:
                    wrong.append(f"{table}: {statement} touched B's rows")
            connection.commit()
    portfolios = Base.metadata.tables["portfolios"]
    if not refused(
        app,
        a,
        sa.insert(portfolios).values(
            owner_id=world.b.user_id,
            name="Mine",
            base_currency="USD",
            booking_method="FIFO",
            ledger_version=0,
            created_at=NOW,
        ),
    ):
        wrong.append("portfolios: created one owned by B")
    if not refused(
        app, a, sa.update(portfolios).where(portfolios.c.id == pa).values(owner_id=world.b.user_id)
    ):
        wrong.append("portfolios: gave A's portfolio to B")
    with as_user(app, a) as connection:
        if connection.execute(sa.delete(portfolios).where(portfolios.c.id == pb)).rowcount:
            wrong.append("portfolios: deleted B's")
    assert wrong == []
    with pg_db.engine.connect() as owner:  # B's rows are all still there
        for table in PORTFOLIO_TABLES:
            assert pb in portfolio_ids(owner, table), table


def test_the_database_agrees_with_the_python_rules_for_every_role(
    pg_db: foliodb.Database, app: sa.Engine
) -> None:
    spare = make_user(pg_db, "spare@example.com")
    accounts = Base.metadata.tables["accounts"]
    grants = Base.metadata.tables["portfolio_grants"]
    portfolios = Base.metadata.tables["portfolios"]
    wrong = []
    for (role, relation), (level, shares) in EXPECTED.items():
        who, pid = set_up_case(pg_db, role, relation)
        with as_user(app, who) as connection:
            sees = bool(
                connection.execute(sa.select(portfolios.c.id).where(portfolios.c.id == pid)).all()
            )
            renames = connection.execute(
                sa.update(portfolios).where(portfolios.c.id == pid).values(name=portfolios.c.name)
            ).rowcount
        got = {
            "sees": sees,
            "updates the portfolio": renames == 1,
            "adds an account": not refused(
                app, who, sa.insert(accounts).values(portfolio_id=pid, name="x")
            ),
            "shares": not refused(
                app,
                who,
                sa.insert(grants).values(
                    portfolio_id=pid, grantee_id=spare.user_id, scope="read", granted_at=NOW
                ),
            ),
        }
        want = {
            "sees": level is not None,
            "updates the portfolio": level in ("owner", "write"),
            "adds an account": level in ("owner", "write"),
            "shares": shares,
        }
        if got != want:
            wrong.append(f"{role} with {relation}: got {got}, expected {want}")
    assert wrong == []


def test_services_on_the_app_role_act_as_the_principal_of_the_request(
    world: World, app_db: foliodb.Database
) -> None:
    auth.bind_rls_context(app_db.engine)
    assert app_db.portfolios() == []  # outside a request: nobody
    with auth.acting_as(world.a):
        assert [p.name for p in app_db.portfolios()] == ["A's"]
        app_db.create_portfolio("A's second", owner="a@example.com")
        assert auth.visible_portfolio_ids(app_db.engine, world.a) == {
            world.pa,
            auth.find_portfolio(app_db.engine, "A's second")[0],
        }
    with auth.acting_as(world.b):
        assert [p.name for p in app_db.portfolios()] == ["B's"]
    viewer = make_user(app_db, "viewer@example.com", "VIEWER")
    with auth.acting_as(viewer), pytest.raises(DBAPIError, match="row-level security"):
        app_db.create_portfolio("Not allowed", owner="viewer@example.com")


def test_creating_the_app_role_twice_or_badly_is_refused(
    pg_db: foliodb.Database, app_role: tuple[str, str], sqlite_db: foliodb.Database
) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        auth.create_app_role(pg_db.engine, app_role[0], "some long password")
    with pytest.raises(InputError):
        auth.create_app_role(pg_db.engine, 'x"; DROP TABLE users; --', None)
    with pytest.raises(InputError, match="PostgreSQL only"):
        auth.create_app_role(sqlite_db.engine, "foliodb_app", None)


def test_the_app_role_cannot_rewrite_the_audit_trail_or_the_schema_version(
    app: sa.Engine,
) -> None:
    for statement in (
        "DELETE FROM audit_log",
        "UPDATE audit_log SET action = 'x'",
        "UPDATE alembic_version SET version_num = '0001'",
    ):
        with app.connect() as connection, pytest.raises(DBAPIError, match="permission denied"):
            connection.exec_driver_sql(statement)


def test_an_import_through_the_app_role_lands_in_the_principals_portfolio(
    world: World, app_db: foliodb.Database, tmp_path: Path
) -> None:
    auth.bind_rls_context(app_db.engine)
    deposit = {"external_id": "X1", "trade_date": "2024-01-05", "type": "DEPOSIT"}
    path = write_csv(tmp_path / "deposit.csv", [{**deposit, "amount": "100", "currency": "USD"}])
    with auth.acting_as(world.a):
        assert app_db.import_transactions("A's", path, owner="a@example.com").added == 1
    with auth.acting_as(world.b), pytest.raises(NotFoundError):
        app_db.import_transactions("A's", path, owner="a@example.com")
