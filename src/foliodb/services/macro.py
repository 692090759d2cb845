"""Economic series with vintages (point-in-time), derived indicators and macro regimes."""

from __future__ import annotations

from sqlalchemy import Engine


class Macro:
    """`Database.macro`: economic series as known on any date, and regimes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
