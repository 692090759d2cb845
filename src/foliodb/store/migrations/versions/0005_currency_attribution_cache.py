"""Cache of currency attribution figures: one row per currency and one overall row per period.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import foliodb.store.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "currency_attribution",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("start_pack_id", sa.String(length=32), nullable=False),
        sa.Column("end_pack_id", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("local_return", sa.Float(), nullable=True),
        sa.Column("fx_return", sa.Float(), nullable=True),
        sa.Column("local_contribution", sa.Float(), nullable=False),
        sa.Column("fx_contribution", sa.Float(), nullable=False),
        sa.Column("interaction", sa.Float(), nullable=False),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("computed_at", foliodb.store.base.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_currency_attribution_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "portfolio_id",
            "start_pack_id",
            "end_pack_id",
            "currency",
            name=op.f("pk_currency_attribution"),
        ),
    )


def downgrade() -> None:
    op.drop_table("currency_attribution")
