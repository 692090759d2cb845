"""News articles and economic calendar events (migration 0009)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from foliodb.store.base import Base, Money, UtcDateTime


class NewsArticleRow(Base):
    __tablename__ = "news_articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(100))
    author: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    summary: Mapped[str | None] = mapped_column(Text)


class NewsSymbolRow(Base):
    __tablename__ = "news_symbols"
    article_id: Mapped[int] = mapped_column(
        ForeignKey("news_articles.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class EconomicEventRow(Base):
    """A scheduled release; actual, forecast and previous verbatim as published ("0.3%"), and
    each also as the exact number it states (0.3; "250K" is 250000), where it states one."""

    __tablename__ = "economic_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str | None] = mapped_column(String(3))
    impact: Mapped[int]
    actual: Mapped[str | None] = mapped_column(String(64))
    forecast: Mapped[str | None] = mapped_column(String(64))
    previous: Mapped[str | None] = mapped_column(String(64))
    actual_value: Mapped[Decimal | None] = mapped_column(Money)
    forecast_value: Mapped[Decimal | None] = mapped_column(Money)
    previous_value: Mapped[Decimal | None] = mapped_column(Money)
    __table_args__ = (
        CheckConstraint("impact BETWEEN 1 AND 4", name="impact"),
        UniqueConstraint("ts", "name", "country"),
    )
