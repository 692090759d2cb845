"""Repositories of economic series, their observations by real-time period, and regimes.

`realtime_end` is exclusive: the value known on a date D is the row with
realtime_start <= D < realtime_end (None: still current).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from foliodb.errors import NotFoundError
from foliodb.store import bulk
from foliodb.store.base import utcnow
from foliodb.store.tables_macro import (
    EconomicObservationRow,
    EconomicSeriesRow,
    RegimeHistoryRow,
)

#: (date, realtime_start) -> (realtime_end, value, preliminary): a series' stored periods.
Periods = dict[tuple[dt.date, dt.date], tuple[dt.date | None, float | None, bool]]
SERIES_FIELDS = ("title", "frequency", "units", "seasonal_adjustment", "source")


@dataclass(frozen=True, slots=True)
class SeriesCounts:
    """A series with how much of it is stored."""

    row: EconomicSeriesRow
    dates: int
    vintages: int
    first_date: dt.date | None
    last_date: dt.date | None
    last_realtime_start: dt.date | None


# --- series -----------------------------------------------------------------------------------
def get_series(session: Session, code: str) -> EconomicSeriesRow | None:
    return session.get(EconomicSeriesRow, code)


def load_series(session: Session, code: str) -> EconomicSeriesRow:
    row = get_series(session, code)
    if row is None:
        raise NotFoundError(
            f"no economic series {code!r}: import it (foliodb macro import) or fetch it "
            f"(foliodb macro fetch {code})"
        )
    return row


def save_series(session: Session, code: str, values: Mapping[str, Any]) -> bool:
    """Insert the series, or update the fields of `values` that changed; True if anything
    changed. `values` holds title, frequency, units, seasonal_adjustment and source."""
    row = get_series(session, code)
    if row is None:
        session.add(EconomicSeriesRow(code=code, updated_at=utcnow(), **values))
        session.flush()  # observations refer to it; bulk inserts bypass the ORM
        return True
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    return bool(changed)


def touch_series(session: Session, code: str) -> None:
    """Record that the series' data changed now."""
    session.execute(
        update(EconomicSeriesRow).where(EconomicSeriesRow.code == code).values(updated_at=utcnow())
    )


def list_series(session: Session) -> list[SeriesCounts]:
    """Every series, by code in code-point order (sorted here, not by the database's
    collation, so both engines agree), with its number of dates and of stored periods."""
    obs = EconomicObservationRow
    counts = (
        select(
            obs.series_code,
            func.count(func.distinct(obs.date)).label("dates"),
            func.count().label("vintages"),
            func.min(obs.date).label("first_date"),
            func.max(obs.date).label("last_date"),
            func.max(obs.realtime_start).label("last_start"),
        )
        .group_by(obs.series_code)
        .subquery()
    )
    stmt = select(
        EconomicSeriesRow,
        counts.c.dates,
        counts.c.vintages,
        counts.c.first_date,
        counts.c.last_date,
        counts.c.last_start,
    ).outerjoin(counts, counts.c.series_code == EconomicSeriesRow.code)
    found = [
        SeriesCounts(row, dates or 0, vintages or 0, first, last, start)
        for row, dates, vintages, first, last, start in session.execute(stmt).all()
    ]
    return sorted(found, key=lambda s: s.row.code)


# --- observations -----------------------------------------------------------------------------
def load_periods(session: Session, code: str, first: dt.date, last: dt.date) -> Periods:
    """Every stored real-time period of the series' dates from `first` to `last`."""
    obs = EconomicObservationRow
    stmt = select(obs.date, obs.realtime_start, obs.realtime_end, obs.value, obs.preliminary).where(
        obs.series_code == code, obs.date >= first, obs.date <= last
    )
    return {(d, s): (e, v, p) for d, s, e, v, p in session.execute(stmt)}


def _records(code: str, periods: Periods) -> list[dict[str, Any]]:
    return [
        {
            "series_code": code,
            "date": date,
            "realtime_start": start,
            "realtime_end": end,
            "value": value,
            "preliminary": preliminary,
        }
        for (date, start), (end, value, preliminary) in periods.items()
    ]


def add_periods(session: Session, code: str, periods: Periods) -> int:
    """Insert new periods of a series (COPY on PostgreSQL)."""
    return bulk.insert_rows(session, EconomicObservationRow, _records(code, periods))


def update_periods(session: Session, code: str, periods: Periods) -> int:
    """Rewrite the end, value and preliminary flag of stored periods, by primary key."""
    if periods:
        session.execute(update(EconomicObservationRow), _records(code, periods))
    return len(periods)


def values_as_of(
    session: Session,
    code: str,
    as_of: dt.date | None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[tuple[dt.date, float | None]]:
    """(date, value) of each date from `start` to `end` as known on `as_of`: the period with
    realtime_start <= as_of < realtime_end. Without `as_of`, each date's latest period."""
    obs = EconomicObservationRow
    where = [obs.series_code == code]
    if start is not None:
        where.append(obs.date >= start)
    if end is not None:
        where.append(obs.date <= end)
    if as_of is not None:
        stmt = select(obs.date, obs.value).where(
            *where,
            obs.realtime_start <= as_of,
            or_(obs.realtime_end.is_(None), obs.realtime_end > as_of),
        )
    else:
        latest = (
            select(obs.date, func.max(obs.realtime_start).label("start"))
            .where(*where)
            .group_by(obs.date)
            .subquery()
        )
        stmt = select(obs.date, obs.value).join(
            latest,
            (obs.series_code == code)
            & (obs.date == latest.c.date)
            & (obs.realtime_start == latest.c.start),
        )
    return [(date, value) for date, value in session.execute(stmt.order_by(obs.date))]


# --- regimes ----------------------------------------------------------------------------------
_REGIME_FIELDS = (
    "regime",
    "confidence",
    "growth",
    "inflation",
    "growth_z",
    "inflation_z",
    "inputs",
)


def replace_regimes(
    session: Session, method: str, as_of: dt.date, rows: Sequence[Mapping[str, Any]]
) -> bool:
    """Store the regimes one method computed as of a date (`rows`: month and the fields of
    regime_history), replacing an earlier run of it; False (nothing written) when the
    stored run says the same."""
    stored = session.scalars(
        select(RegimeHistoryRow).where(
            RegimeHistoryRow.method == method, RegimeHistoryRow.as_of == as_of
        )
    ).all()
    before = {r.month: tuple(getattr(r, f) for f in _REGIME_FIELDS) for r in stored}
    after = {r["month"]: tuple(r[f] for f in _REGIME_FIELDS) for r in rows}
    if before == after:
        return False
    session.execute(
        delete(RegimeHistoryRow).where(
            RegimeHistoryRow.method == method, RegimeHistoryRow.as_of == as_of
        )
    )
    now = utcnow()
    session.add_all(
        RegimeHistoryRow(method=method, as_of=as_of, computed_at=now, **dict(r)) for r in rows
    )
    return True


def load_regimes(session: Session, method: str, as_of: dt.date) -> list[RegimeHistoryRow]:
    stmt = (
        select(RegimeHistoryRow)
        .where(RegimeHistoryRow.method == method, RegimeHistoryRow.as_of == as_of)
        .order_by(RegimeHistoryRow.month)
    )
    return list(session.scalars(stmt))
