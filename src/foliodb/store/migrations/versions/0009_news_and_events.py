"""News articles (one per URL, tagged with symbols) and economic calendar events.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import foliodb.store.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    timestamp = foliodb.store.base.UtcDateTime
    op.create_table(
        "news_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("published_at", timestamp(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_news_articles")),
        sa.UniqueConstraint("url", name=op.f("uq_news_articles_url")),
    )
    op.create_index("ix_news_articles_published_at", "news_articles", ["published_at"])
    op.create_table(
        "news_symbols",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["news_articles.id"],
            name=op.f("fk_news_symbols_article_id_news_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "symbol", name=op.f("pk_news_symbols")),
    )
    op.create_index("ix_news_symbols_symbol", "news_symbols", ["symbol"])
    op.create_table(
        "economic_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ts", timestamp(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("actual", sa.String(length=64), nullable=True),
        sa.Column("forecast", sa.String(length=64), nullable=True),
        sa.Column("previous", sa.String(length=64), nullable=True),
        # The number each published string states (exact), for surprise = actual - forecast.
        sa.Column("actual_value", foliodb.store.base.Money(), nullable=True),
        sa.Column("forecast_value", foliodb.store.base.Money(), nullable=True),
        sa.Column("previous_value", foliodb.store.base.Money(), nullable=True),
        sa.CheckConstraint("impact BETWEEN 1 AND 4", name=op.f("ck_economic_events_impact")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_economic_events")),
        sa.UniqueConstraint(
            "ts", "name", "country", name=op.f("uq_economic_events_ts_name_country")
        ),
    )
    op.create_index("ix_economic_events_ts", "economic_events", ["ts"])


def downgrade() -> None:
    op.drop_table("economic_events")
    op.drop_table("news_symbols")
    op.drop_table("news_articles")
