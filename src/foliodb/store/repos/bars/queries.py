"""Reading bars back: one symbol's bars in a span, its latest bar, and the daily closes that
pricing packs take from 1d bars."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foliodb.store.tables import SecurityRow
from foliodb.store.tables_bars import OhlcvBarRow

_BAR_COLUMNS = (
    OhlcvBarRow.ts, OhlcvBarRow.open, OhlcvBarRow.high, OhlcvBarRow.low, OhlcvBarRow.close,
    OhlcvBarRow.volume, OhlcvBarRow.vwap, OhlcvBarRow.trades, OhlcvBarRow.source,
)  # fmt: skip


def bars_between(
    session: Session, symbol: str, interval: str, lo: dt.datetime, hi: dt.datetime
) -> list[tuple[Any, ...]]:
    """(ts, open, high, low, close, volume, vwap, trades, source) with lo <= ts < hi."""
    stmt = (
        select(*_BAR_COLUMNS)
        .where(
            OhlcvBarRow.symbol == symbol,
            OhlcvBarRow.interval == interval,
            OhlcvBarRow.ts >= lo,
            OhlcvBarRow.ts < hi,
        )
        .order_by(OhlcvBarRow.ts)
    )
    return [tuple(row) for row in session.execute(stmt).all()]


def latest_bar(session: Session, symbol: str, interval: str) -> tuple[Any, ...] | None:
    stmt = (
        select(*_BAR_COLUMNS)
        .where(OhlcvBarRow.symbol == symbol, OhlcvBarRow.interval == interval)
        .order_by(OhlcvBarRow.ts.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return None if row is None else tuple(row)


def daily_closes(
    session: Session, on: dt.date, carry_forward: bool
) -> list[tuple[str, dt.date, float, str]]:
    """(symbol, session date, close, the security's currency) of each security's 1d bar dated
    `on`; with carry_forward, its latest 1d bar dated on or before `on`. Bars of symbols that
    are not securities are left out (a pack price needs a currency)."""
    from sqlalchemy import func

    day = dt.datetime(on.year, on.month, on.day, tzinfo=dt.UTC)
    bar = OhlcvBarRow
    if carry_forward:
        latest = (
            select(bar.symbol, func.max(bar.ts).label("ts"))
            .where(bar.interval == "1d", bar.ts <= day)
            .group_by(bar.symbol)
            .subquery()
        )
        stmt = select(bar.symbol, bar.ts, bar.close, SecurityRow.currency).join(
            latest, (bar.symbol == latest.c.symbol) & (bar.ts == latest.c.ts)
        )
    else:
        stmt = select(bar.symbol, bar.ts, bar.close, SecurityRow.currency).where(bar.ts == day)
    stmt = stmt.join(SecurityRow, SecurityRow.symbol == bar.symbol).where(bar.interval == "1d")
    return [
        (symbol, ts.astimezone(dt.UTC).date(), close, currency)
        for symbol, ts, close, currency in session.execute(stmt).all()
    ]
