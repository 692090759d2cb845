"""Retention: removing the bars of an interval older than an age or a date."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from sqlalchemy import Engine

from foliodb.errors import InputError, InputProblem
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.repos import bars as store
from foliodb.store.uow import UnitOfWork

_AGE = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class RetentionResult:
    interval: str
    cutoff: dt.datetime
    partitions_dropped: tuple[str, ...]
    rows_deleted: int


def apply_retention(
    engine: Engine,
    interval: str,
    older_than: str | None = None,
    before: dt.date | str | None = None,
) -> RetentionResult:
    """Remove the bars of `interval` older than a cutoff: `Bars.apply_retention`."""
    from foliodb.ingest import bars as ingest

    interval = ingest.parse_interval(interval)
    cutoff = _cutoff(older_than, before)
    with UnitOfWork(engine) as uow:
        dropped, deleted = store.drop_older(uow.session, interval, cutoff)
        repos.audit(
            uow.session, "retention", "ohlcv_bars", interval,
            after={"cutoff": cutoff.isoformat(), "partitions": dropped, "rows": deleted},
        )  # fmt: skip
        uow.commit()
    return RetentionResult(interval, cutoff, tuple(dropped), deleted)


def _cutoff(older_than: str | None, before: dt.date | str | None) -> dt.datetime:
    if (older_than is None) == (before is None):
        raise InputError(
            InputProblem(
                "give either an age or a date", field="older_than / before",
                expected="--older-than 90d|12w|6m|2y or --before YYYY-MM-DD",
            )
        )  # fmt: skip
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    if before is not None:
        if isinstance(before, str):
            text = before
            try:
                before = dt.date.fromisoformat(text.strip())
            except ValueError:
                raise InputError(
                    InputProblem("is not a date", field="before", value=text, expected="YYYY-MM-DD")
                ) from None
        cutoff = dt.datetime(before.year, before.month, before.day, tzinfo=dt.UTC)
        if cutoff > today:
            raise InputError(
                InputProblem(
                    "is in the future: it would remove bars that are not old", field="before",
                    value=before.isoformat(), expected="today or an earlier date",
                )
            )  # fmt: skip
        return cutoff
    assert older_than is not None
    match = _AGE.match(older_than)
    if match is None or int(match.group(1)) == 0:
        raise InputError(
            InputProblem(
                "is not an age", field="older_than", value=older_than,
                expected="a whole number of days, weeks, months or years above zero: "
                "90d, 12w, 6m, 2y",
            )
        )  # fmt: skip
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit in "dw":
        days = count * (7 if unit == "w" else 1)
        if days > 100 * 366:
            raise InputError(
                InputProblem(
                    "is too long", field="older_than", value=older_than, expected="at most 100y"
                )
            )
        return today - dt.timedelta(days=days)
    months = count * (12 if unit == "y" else 1)
    if months > 1200:
        raise InputError(
            InputProblem(
                "is too long", field="older_than", value=older_than, expected="at most 100y"
            )
        )
    total = today.year * 12 + today.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return today.replace(year=year, month=month, day=min(today.day, last_day))
