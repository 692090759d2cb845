"""Trading calendars seeded from exchange_calendars, and gap detection in loaded bars."""

from __future__ import annotations

from sqlalchemy import Engine


class Calendars:
    """`Database.calendars`: exchanges, sessions, open/close times and bar gaps."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
