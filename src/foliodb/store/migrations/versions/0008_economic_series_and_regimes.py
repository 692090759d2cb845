"""Economic series with vintages (ALFRED-style real-time periods) and macro regimes.

realtime_end is exclusive (the first day a value was no longer current; NULL while it is).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import foliodb.store.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "economic_series",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("units", sa.String(length=100), nullable=True),
        sa.Column("seasonal_adjustment", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("updated_at", foliodb.store.base.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_economic_series")),
    )
    op.create_table(
        "economic_observations",
        sa.Column("series_code", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("realtime_start", sa.Date(), nullable=False),
        sa.Column("realtime_end", sa.Date(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("preliminary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_code"],
            ["economic_series.code"],
            name=op.f("fk_economic_observations_series_code_economic_series"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "realtime_end IS NULL OR realtime_end > realtime_start",
            name=op.f("ck_economic_observations_realtime_period"),
        ),
        sa.PrimaryKeyConstraint(
            "series_code", "date", "realtime_start", name=op.f("pk_economic_observations")
        ),
    )
    op.create_table(
        "regime_history",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=160), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("regime", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("growth", sa.Float(), nullable=True),
        sa.Column("inflation", sa.Float(), nullable=True),
        sa.Column("growth_z", sa.Float(), nullable=True),
        sa.Column("inflation_z", sa.Float(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("computed_at", foliodb.store.base.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "regime IN ('GOLDILOCKS', 'REFLATION', 'STAGFLATION', 'DEFLATION')",
            name=op.f("ck_regime_history_regime"),
        ),
        sa.PrimaryKeyConstraint("month", "method", "as_of", name=op.f("pk_regime_history")),
    )


def downgrade() -> None:
    op.drop_table("regime_history")
    op.drop_table("economic_observations")
    op.drop_table("economic_series")
