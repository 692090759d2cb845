"""Cache of computed performance figures, and its hit and miss counters.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import foliodb.store.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    timestamp = foliodb.store.base.UtcDateTime
    op.create_table(
        "portfolio_metrics",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("computed_at", timestamp(), nullable=False),
        sa.Column("expires_at", timestamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_portfolio_metrics_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "portfolio_id",
            "pack_id",
            "metric",
            "period",
            "fingerprint",
            name=op.f("pk_portfolio_metrics"),
        ),
    )
    op.create_table(
        "cache_counters",
        sa.Column("cache", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("misses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cache", name=op.f("pk_cache_counters")),
    )


def downgrade() -> None:
    op.drop_table("cache_counters")
    op.drop_table("portfolio_metrics")
