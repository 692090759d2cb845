"""News articles and economic calendar events: deduplicated imports and queries."""

from __future__ import annotations

from sqlalchemy import Engine


class News:
    """`Database.news`: articles by symbol and time, events by time, country and impact."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
