"""Daily values and external cash flows of portfolios (derived from ledger and packs).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import foliodb.store.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    money = foliodb.store.base.Money
    op.create_table(
        "portfolio_daily_values",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("pack_id", sa.String(length=32), nullable=False),
        sa.Column("nav", money(), nullable=False),
        sa.Column("nav_at_prior_fx", money(), nullable=False),
        sa.Column("securities_value", money(), nullable=False),
        sa.Column("cash_value", money(), nullable=False),
        sa.Column("external_flows", money(), nullable=False),
        sa.Column("income", money(), nullable=False),
        sa.Column("fees", money(), nullable=False),
        sa.Column("daily_pnl", money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pack_id"],
            ["pricing_packs.pack_id"],
            name=op.f("fk_portfolio_daily_values_pack_id_pricing_packs"),
        ),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_portfolio_daily_values_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "date", name=op.f("pk_portfolio_daily_values")),
    )
    op.create_table(
        "portfolio_cash_flows",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("tx_id", sa.String(length=128), nullable=False),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", money(), nullable=False),
        sa.Column("amount_base", money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_portfolio_cash_flows_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "tx_id", name=op.f("pk_portfolio_cash_flows")),
    )
    with op.batch_alter_table("portfolio_cash_flows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_portfolio_cash_flows_value_date", ["portfolio_id", "value_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("portfolio_cash_flows", schema=None) as batch_op:
        batch_op.drop_index("ix_portfolio_cash_flows_value_date")
    op.drop_table("portfolio_cash_flows")
    op.drop_table("portfolio_daily_values")
