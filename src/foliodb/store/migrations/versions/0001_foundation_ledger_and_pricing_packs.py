"""Foundation: identity, portfolios, ledger, lots, realized gains and sealed pricing packs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 20:37:43.522064
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import foliodb.store.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEALED_TABLES = ("pack_prices", "pack_fx_rates")

PG_SEAL_FUNCTION = """
CREATE FUNCTION foliodb_refuse_sealed_pack_change() RETURNS trigger AS $$
DECLARE
    target text;
BEGIN
    IF TG_TABLE_NAME = 'pricing_packs' THEN
        IF OLD.status = 'COMPLETE' THEN
            RAISE EXCEPTION 'pricing pack % is sealed and cannot change', OLD.pack_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    target := CASE WHEN TG_OP = 'INSERT' THEN NEW.pack_id ELSE OLD.pack_id END;
    IF EXISTS (SELECT 1 FROM pricing_packs WHERE pack_id = target AND status = 'COMPLETE') THEN
        RAISE EXCEPTION 'pricing pack % is sealed and cannot change', target
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;
"""


def _create_seal_triggers() -> None:
    """A sealed pack refuses every change in the database itself, whatever the client."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_SEAL_FUNCTION)
        for table in (*SEALED_TABLES, "pricing_packs"):
            op.execute(
                f"CREATE TRIGGER {table}_sealed BEFORE INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION foliodb_refuse_sealed_pack_change()"
            )
        return
    # SQLite: one trigger per statement kind; RAISE(ABORT) rolls the statement back.
    for table in SEALED_TABLES:
        for kind, ref in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER {table}_sealed_{kind.lower()} BEFORE {kind} ON {table} "
                f"WHEN (SELECT status FROM pricing_packs WHERE pack_id = {ref}.pack_id) "
                f"= 'COMPLETE' BEGIN SELECT RAISE(ABORT, 'pricing pack is sealed and cannot "
                f"change'); END"
            )
    for kind in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER pricing_packs_sealed_{kind.lower()} BEFORE {kind} ON pricing_packs "
            f"WHEN OLD.status = 'COMPLETE' BEGIN SELECT RAISE(ABORT, 'pricing pack is sealed "
            f"and cannot change'); END"
        )


def _drop_seal_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*SEALED_TABLES, "pricing_packs"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_sealed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS foliodb_refuse_sealed_pack_change()")
        return
    for table in SEALED_TABLES:
        for kind in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_sealed_{kind}")
    for kind in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS pricing_packs_sealed_{kind}")


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("rate", foliodb.store.base.Money(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("base", "quote", "date", name=op.f("pk_fx_rates")),
    )
    op.create_table(
        "pricing_packs",
        sa.Column("pack_id", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("supersedes", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('PENDING','COMPLETE','FAILED')", name=op.f("ck_pricing_packs_status")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes"],
            ["pricing_packs.pack_id"],
            name=op.f("fk_pricing_packs_supersedes_pricing_packs"),
        ),
        sa.PrimaryKeyConstraint("pack_id", name=op.f("pk_pricing_packs")),
        sa.UniqueConstraint("date", "revision", name=op.f("uq_pricing_packs_date_revision")),
    )
    with op.batch_alter_table("pricing_packs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pricing_packs_date"), ["date"], unique=False)

    op.create_table(
        "securities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exchange", sa.String(length=16), nullable=True),
        sa.Column("sector", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_securities")),
        sa.UniqueConstraint("symbol", name=op.f("uq_securities_symbol")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('ADMIN','MANAGER','USER','VIEWER')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "pack_fx_rates",
        sa.Column("pack_id", sa.String(length=32), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", foliodb.store.base.Money(), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"],
            ["pricing_packs.pack_id"],
            name=op.f("fk_pack_fx_rates_pack_id_pricing_packs"),
        ),
        sa.PrimaryKeyConstraint("pack_id", "base", "quote", name=op.f("pk_pack_fx_rates")),
    )
    op.create_table(
        "pack_prices",
        sa.Column("pack_id", sa.String(length=32), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("price", foliodb.store.base.Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"],
            ["pricing_packs.pack_id"],
            name=op.f("fk_pack_prices_pack_id_pricing_packs"),
        ),
        sa.ForeignKeyConstraint(
            ["symbol"], ["securities.symbol"], name=op.f("fk_pack_prices_symbol_securities")
        ),
        sa.PrimaryKeyConstraint("pack_id", "symbol", name=op.f("pk_pack_prices")),
    )
    op.create_table(
        "portfolios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("booking_method", sa.String(length=16), nullable=False),
        sa.Column("ledger_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "booking_method IN ('FIFO','LIFO','HIFO','AVERAGE','SPECIFIC')",
            name=op.f("ck_portfolios_booking_method"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_portfolios_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolios")),
        sa.UniqueConstraint("owner_id", "name", name=op.f("uq_portfolios_owner_id_name")),
    )
    op.create_table(
        "prices",
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("price", foliodb.store.base.Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["symbol"], ["securities.symbol"], name=op.f("fk_prices_symbol_securities")
        ),
        sa.PrimaryKeyConstraint("symbol", "date", name=op.f("pk_prices")),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("broker", sa.String(length=200), nullable=True),
        sa.Column("account_number", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_accounts_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("portfolio_id", "name", name=op.f("uq_accounts_portfolio_id_name")),
    )
    op.create_table(
        "cash_balances",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", foliodb.store.base.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_cash_balances_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "currency", name=op.f("pk_cash_balances")),
    )
    op.create_table(
        "lots",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.String(length=128), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("acquired_date", sa.Date(), nullable=False),
        sa.Column("original_quantity", foliodb.store.base.Money(), nullable=False),
        sa.Column("open_quantity", foliodb.store.base.Money(), nullable=False),
        sa.Column("cost_basis", foliodb.store.base.Money(), nullable=False),
        sa.Column("cost_basis_base", foliodb.store.base.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_lots_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["symbol"], ["securities.symbol"], name=op.f("fk_lots_symbol_securities")
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "lot_id", name=op.f("pk_lots")),
    )
    op.create_table(
        "realized_gains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.String(length=128), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("acquired_date", sa.Date(), nullable=False),
        sa.Column("disposed_date", sa.Date(), nullable=False),
        sa.Column("quantity", foliodb.store.base.Money(), nullable=False),
        sa.Column("proceeds", foliodb.store.base.Money(), nullable=False),
        sa.Column("cost_basis", foliodb.store.base.Money(), nullable=False),
        sa.Column("gain", foliodb.store.base.Money(), nullable=False),
        sa.Column("proceeds_base", foliodb.store.base.Money(), nullable=False),
        sa.Column("cost_basis_base", foliodb.store.base.Money(), nullable=False),
        sa.Column("gain_base", foliodb.store.base.Money(), nullable=False),
        sa.Column("term", sa.String(length=5), nullable=False),
        sa.Column("is_short", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_realized_gains_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["symbol"], ["securities.symbol"], name=op.f("fk_realized_gains_symbol_securities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realized_gains")),
    )
    with op.batch_alter_table("realized_gains", schema=None) as batch_op:
        batch_op.create_index(
            "ix_realized_gains_portfolio_date", ["portfolio_id", "disposed_date"], unique=False
        )

    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=True),
        sa.Column("quantity", foliodb.store.base.Money(), nullable=True),
        sa.Column("price", foliodb.store.base.Money(), nullable=True),
        sa.Column("amount", foliodb.store.base.Money(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fee", foliodb.store.base.Money(), nullable=False),
        sa.Column("fx_rate", foliodb.store.base.Money(), nullable=False),
        sa.Column("counter_currency", sa.String(length=3), nullable=True),
        sa.Column("counter_amount", foliodb.store.base.Money(), nullable=True),
        sa.Column("ratio", sa.String(length=64), nullable=True),
        sa.Column("lot_ids", sa.Text(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("acquired_date", sa.Date(), nullable=True),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_transactions_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["symbol"], ["securities.symbol"], name=op.f("fk_transactions_symbol_securities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint(
            "portfolio_id", "tx_id", name=op.f("uq_transactions_portfolio_id_tx_id")
        ),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transactions_portfolio_date", ["portfolio_id", "trade_date"], unique=False
        )

    _create_seal_triggers()


def downgrade() -> None:
    _drop_seal_triggers()
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_portfolio_date")

    op.drop_table("transactions")
    with op.batch_alter_table("realized_gains", schema=None) as batch_op:
        batch_op.drop_index("ix_realized_gains_portfolio_date")

    op.drop_table("realized_gains")
    op.drop_table("lots")
    op.drop_table("cash_balances")
    op.drop_table("accounts")
    op.drop_table("prices")
    op.drop_table("portfolios")
    op.drop_table("pack_prices")
    op.drop_table("pack_fx_rates")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")

    op.drop_table("audit_log")
    op.drop_table("users")
    op.drop_table("securities")
    with op.batch_alter_table("pricing_packs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricing_packs_date"))

    op.drop_table("pricing_packs")
    op.drop_table("fx_rates")
