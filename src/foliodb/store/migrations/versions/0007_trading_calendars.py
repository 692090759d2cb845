"""Trading calendars: exchanges, their regular hours (by period of validity) and their
holidays, early closes, late opens and other special sessions.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import foliodb.store.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchanges",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("first_session", sa.Date(), nullable=False),
        sa.Column("last_session", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("seeded_at", foliodb.store.base.UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "window_start <= first_session AND first_session <= last_session "
            "AND last_session <= window_end",
            name=op.f("ck_exchanges_window"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_exchanges")),
    )
    op.create_table(
        "market_hours",
        sa.Column("exchange", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("weekmask", sa.String(length=7), nullable=False),
        sa.Column("open_time", sa.Time(), nullable=False),
        sa.Column("close_time", sa.Time(), nullable=False),
        sa.Column("break_start", sa.Time(), nullable=True),
        sa.Column("break_end", sa.Time(), nullable=True),
        sa.Column("open_offset", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("close_offset", sa.SmallInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("length(weekmask) = 7", name=op.f("ck_market_hours_weekmask")),
        sa.CheckConstraint(
            "(break_start IS NULL) = (break_end IS NULL)", name=op.f("ck_market_hours_break")
        ),
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
        sa.Column("exchange", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("open_time", sa.Time(), nullable=True),
        sa.Column("close_time", sa.Time(), nullable=True),
        sa.Column("break_start", sa.Time(), nullable=True),
        sa.Column("break_end", sa.Time(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('CLOSED', 'EARLY_CLOSE', 'LATE_OPEN', 'SPECIAL')",
            name=op.f("ck_trading_holidays_kind"),
        ),
        sa.CheckConstraint(
            "(kind = 'CLOSED') = (open_time IS NULL) "
            "AND (open_time IS NULL) = (close_time IS NULL)",
            name=op.f("ck_trading_holidays_hours"),
        ),
        sa.CheckConstraint(
            "(break_start IS NULL) = (break_end IS NULL)", name=op.f("ck_trading_holidays_break")
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
