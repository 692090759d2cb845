"""Trading calendars: exchanges, their regular hours (by period of validity) and their
holidays, early closes and late opens.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchanges",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("first_session", sa.Date(), nullable=False),
        sa.Column("last_session", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_exchanges")),
    )
    op.create_table(
        "market_hours",
        sa.Column("exchange", sa.String(length=8), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("weekmask", sa.String(length=7), nullable=False),
        sa.Column("open_time", sa.Time(), nullable=False),
        sa.Column("close_time", sa.Time(), nullable=False),
        sa.Column("break_start", sa.Time(), nullable=True),
        sa.Column("break_end", sa.Time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exchange"],
            ["exchanges.code"],
            name=op.f("fk_market_hours_exchange_exchanges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("exchange", "valid_from", name=op.f("pk_market_hours")),
    )
    op.create_table(
        "trading_holidays",
        sa.Column("exchange", sa.String(length=8), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("open_time", sa.Time(), nullable=True),
        sa.Column("close_time", sa.Time(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('CLOSED', 'EARLY_CLOSE', 'LATE_OPEN')", name=op.f("ck_trading_holidays_kind")
        ),
        sa.ForeignKeyConstraint(
            ["exchange"],
            ["exchanges.code"],
            name=op.f("fk_trading_holidays_exchange_exchanges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("exchange", "date", name=op.f("pk_trading_holidays")),
    )


def downgrade() -> None:
    op.drop_table("trading_holidays")
    op.drop_table("market_hours")
    op.drop_table("exchanges")
