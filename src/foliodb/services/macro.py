"""Economic series with vintages (point-in-time), derived indicators and macro regimes.

Imports and fetches land whole or not at all and are idempotent: each (date, realtime_start)
period is stored once, and a value without vintages (a plain FRED file, a fetch without
--vintages) becomes a new period only when it differs from the value known on its as-of date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError
from sqlalchemy import Engine, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foliodb.analytics import regimes as regime_math
from foliodb.config import Settings
from foliodb.errors import ConflictError, InputError, InputProblem, NotFoundError
from foliodb.ingest import fred, fred_api
from foliodb.store.base import utcnow
from foliodb.store.repos import macro as repo
from foliodb.store.tables_macro import EconomicSeriesRow
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

PathLike = str | Path
DateLike = dt.date | str
#: The indicators `indicator()` computes, and the series each reads.
INDICATORS: Final = ("term-spread", "real-rate", "yoy")
TERM_SPREAD_SERIES: Final = ("DGS10", "DGS2")
REAL_RATE_SERIES: Final = ("DGS10", "CPIAUCSL")
#: Regime inputs: the first stored growth series is the default.
GROWTH_SERIES: Final = ("GDPC1", "INDPRO")
INFLATION_SERIES: Final = "CPIAUCSL"
DEFAULT_WINDOW_YEARS: Final = 10


@dataclasses.dataclass(frozen=True)
class SeriesImport:
    """What one import or fetch did to one series: observations read, periods added and
    updated (a period's end moved by a revision, or its value corrected)."""

    origin: str
    code: str
    observations: int
    added: int
    updated: int


@dataclasses.dataclass(frozen=True)
class SeriesSummary:
    code: str
    title: str
    frequency: str
    units: str | None
    seasonal_adjustment: str | None
    source: str
    dates: int
    vintages: int
    first_date: dt.date | None
    last_date: dt.date | None
    last_realtime_start: dt.date | None
    updated_at: dt.datetime


def _width(column: str) -> int:
    kind = EconomicSeriesRow.__table__.c[column].type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


def _day(value: DateLike | None, field: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            InputProblem("is not a date", field=field, value=value, expected="YYYY-MM-DD")
        ) from None


def _span(start: DateLike | None, end: DateLike | None) -> tuple[dt.date | None, dt.date | None]:
    """Observation dates from `start` to `end`, both included; an empty span is refused."""
    first, last = _day(start, "start"), _day(end, "end")
    if first is not None and last is not None and first > last:
        raise InputError(
            InputProblem("is after end", field="start", value=str(first), expected=f"<= {last}")
        )
    return first, last


def _today() -> dt.date:
    return utcnow().date()


# --- merging periods --------------------------------------------------------------------------
def merge_periods(
    stored: repo.Periods, data: fred.SeriesData, known_since: dt.date
) -> tuple[repo.Periods, repo.Periods]:
    """The periods to insert and to update so that the store holds `data` too.

    Vintages are taken as given, by (date, realtime_start). A value without vintages is known
    since `data.known_since` (else `known_since`), or since its own date when that is later (a
    value is never known before the period it describes begins), and is added only where it
    differs from the value known then. Afterwards each date's periods are made to follow each
    other: a period still open, or running past the next one's start, ends where the next
    begins.
    """
    final = dict(stored)
    starts: dict[dt.date, list[dt.date]] = defaultdict(list)
    for date, first in final:
        starts[date].append(first)
    touched: set[dt.date] = set()
    since = data.known_since or known_since
    for v in data.observations:
        start: dt.date | None = v.realtime_start if data.has_vintages else max(since, v.date)
        assert start is not None
        key = (v.date, start)
        end = v.realtime_end if data.has_vintages else None
        if not data.has_vintages:
            if key in final:
                end = final[key][0]
            else:
                current = _known_on(final, starts[v.date], v.date, start)
                if current is not None and current[1:] == (v.value, v.preliminary):
                    continue
        if key not in final:
            starts[v.date].append(start)
        final[key] = (end, v.value, v.preliminary)
        touched.add(v.date)
    for date in touched:
        ordered = sorted(starts[date])
        for start, following in itertools.pairwise(ordered):
            end, value, preliminary = final[(date, start)]
            if end is None or end > following:
                final[(date, start)] = (following, value, preliminary)
    added = {k: v for k, v in final.items() if k not in stored}
    updated = {k: v for k, v in final.items() if k in stored and stored[k] != v}
    return added, updated


def _known_on(
    periods: repo.Periods, starts: list[dt.date], date: dt.date, day: dt.date
) -> tuple[dt.date | None, float | None, bool] | None:
    for start in starts:
        period = periods[(date, start)]
        if start <= day and (period[0] is None or day < period[0]):
            return period
    return None


# --- the use cases ----------------------------------------------------------------------------
class Macro:
    """`Database.macro`: economic series as known on any date, indicators and regimes."""

    def __init__(self, engine: Engine, settings: Settings | None = None) -> None:
        self.engine = engine
        self._settings = settings

    # imports ----------------------------------------------------------------------------------
    def import_files(
        self,
        paths: Sequence[PathLike] | PathLike,
        *,
        code: str | None = None,
        title: str | None = None,
        frequency: str | None = None,
        units: str | None = None,
        seasonal_adjustment: str | None = None,
        source: str | None = None,
        known_since: DateLike | None = None,
    ) -> list[SeriesImport]:
        """Import FRED and ALFRED CSV files (docs/macro.md), all in one transaction.

        Values of a file without vintages are stored as known since `known_since` (default
        today, UTC). The options give every imported series its metadata, over the file's
        `# key: value` header; `code` names the series of a file whose columns do not.
        """
        files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
        since = _day(known_since, "known_since") or _today()
        problems: list[InputProblem] = []
        if since > _today() + dt.timedelta(days=1):
            problems.append(
                InputProblem(
                    "is in the future",
                    field="known_since",
                    value=str(since),
                    expected="a past date",
                )
            )
        options = self._options(problems, title, frequency, units, seasonal_adjustment, source)
        parsed: list[fred.SeriesData] = []
        for path in files:
            parsed += fred.parse_series_file(path, code, collect=problems)
        if title is not None and len({data.info.code for data in parsed}) > 1:
            problems.append(
                InputProblem(
                    "names one series, but the files hold several",
                    field="title",
                    value=title,
                    expected="one series per import when giving --title",
                )
            )
        if problems:
            raise InputError(problems)
        return self._store(parsed, options, since)

    def fetch(
        self,
        codes: Sequence[str] | str,
        *,
        start: DateLike | None = None,
        end: DateLike | None = None,
        vintages: bool = False,
        client: fred_api.FredClient | None = None,
    ) -> list[SeriesImport]:
        """Fetch series from the FRED API (FOLIODB_FRED_API_KEY, FOLIODB_FRED_URL) and store
        them in one transaction: every vintage with `vintages`, else today's values."""
        wanted = [codes] if isinstance(codes, str) else list(codes)
        first, last = _span(start, end)
        problems = [
            InputProblem("is not a series code", field="code", value=c, expected=fred.CODE_HELP)
            for c in wanted
            if fred.parse_code(c) is None
        ]
        if problems:
            raise InputError(problems)
        own = client is None
        if client is None:
            settings = self._settings_now()
            key = settings.fred_api_key.get_secret_value() if settings.fred_api_key else ""
            client = fred_api.FredClient(key, settings.fred_url)
        try:
            fetched = []
            for c in dict.fromkeys(fred.parse_code(c) or c for c in wanted):
                fetched.append(client.fetch(c, first, last, vintages))
                log.info("fetched %s from FRED: %d observations", c, len(fetched[-1].observations))
        finally:
            if own:
                client.close()
        return self._store(fetched, {}, _today())

    def _settings_now(self) -> Settings:
        if self._settings is not None:
            return self._settings
        try:
            return Settings()
        except ValidationError as exc:
            raise InputError(
                InputProblem(
                    e["msg"], field="FOLIODB_" + "_".join(str(p) for p in e["loc"]).upper()
                )
                for e in exc.errors()
            ) from None

    @staticmethod
    def _options(
        problems: list[InputProblem],
        title: str | None,
        frequency: str | None,
        units: str | None,
        seasonal_adjustment: str | None,
        source: str | None,
    ) -> dict[str, str]:
        """The metadata given as options, checked."""
        options = {
            "title": title,
            "units": units,
            "seasonal_adjustment": seasonal_adjustment,
            "source": source,
        }
        given = {k: v.strip() for k, v in options.items() if v is not None and v.strip()}
        if frequency is not None:
            code = fred.parse_frequency(frequency)
            if code is None:
                problems.append(
                    InputProblem(
                        "is not a frequency",
                        field="frequency",
                        value=frequency,
                        expected=fred.FREQUENCY_HELP,
                    )
                )
            else:
                given["frequency"] = code
        return given

    def _store(
        self, parsed: Sequence[fred.SeriesData], options: dict[str, str], since: dt.date
    ) -> list[SeriesImport]:
        for attempt in range(3):
            try:
                return self._store_once(parsed, options, since)
            except IntegrityError as exc:
                # A concurrent import stored the same period first: the rerun sees it.
                if attempt == 2:
                    raise ConflictError(
                        f"concurrent imports of the same series kept conflicting; nothing was "
                        f"written, run it again ({exc.orig})"
                    ) from exc
        raise AssertionError("unreachable")

    def _store_once(
        self, parsed: Sequence[fred.SeriesData], options: dict[str, str], since: dt.date
    ) -> list[SeriesImport]:
        results = []
        with UnitOfWork(self.engine) as uow:
            session = uow.session
            problems: list[InputProblem] = []
            for data in parsed:
                # One series after the other: a later file of the same series sees what an
                # earlier one stored (its title, say) instead of a new series' defaults.
                before = len(problems)
                values = self._metadata(session, data, options, problems)
                if len(problems) > before:
                    continue
                code = data.info.code
                changed = repo.save_series(session, code, values)
                added: repo.Periods = {}
                updated: repo.Periods = {}
                if data.observations:
                    dates = [v.date for v in data.observations]
                    stored = repo.load_periods(session, code, min(dates), max(dates))
                    added, updated = merge_periods(stored, data, since)
                    repo.add_periods(session, code, added)
                    repo.update_periods(session, code, updated)
                if changed or added or updated:
                    repo.touch_series(session, code)
                results.append(
                    SeriesImport(
                        data.origin, code, len(data.observations), len(added), len(updated)
                    )
                )
                log.info(
                    "%s: %s, %d observations, %d periods added, %d updated",
                    data.origin,
                    code,
                    len(data.observations),
                    len(added),
                    len(updated),
                )
            if problems:
                raise InputError(problems)  # leaving the unit of work rolls everything back
            uow.commit()
        return results

    @staticmethod
    def _metadata(
        session: Session,
        data: fred.SeriesData,
        options: dict[str, str],
        problems: list[InputProblem],
    ) -> dict[str, str | None]:
        """The series' metadata: the options over the file's or FRED's, over what is stored;
        a new series without a title is titled by its code, its frequency read off its dates."""
        info = data.info
        found = {
            "title": info.title,
            "frequency": info.frequency,
            "units": info.units,
            "seasonal_adjustment": info.seasonal_adjustment,
            "source": info.source,
        }
        values: dict[str, str | None] = {k: v for k, v in found.items() if v is not None}
        values |= options
        row = repo.get_series(session, info.code)
        if row is None:
            values.setdefault("title", info.code)
            values.setdefault("source", "ALFRED" if data.has_vintages else "FRED")
            values.setdefault("units", None)
            values.setdefault("seasonal_adjustment", None)
            if "frequency" not in values:
                inferred = fred.infer_frequency(v.date for v in data.observations)
                if inferred is None:
                    problems.append(
                        InputProblem(
                            f"of {info.code} cannot be told from its dates",
                            data.origin,
                            field="frequency",
                            expected=f"--frequency or a '# frequency:' header "
                            f"({fred.FREQUENCY_HELP})",
                        )
                    )
                values["frequency"] = inferred
        for field, value in values.items():
            if field == "frequency" or value is None:
                continue
            if len(value) > _width(field):
                problems.append(
                    InputProblem(
                        f"is {len(value)} characters long",
                        data.origin,
                        field=field,
                        value=value[:40] + "...",
                        expected=f"at most {_width(field)}",
                    )
                )
        return values

    # queries ----------------------------------------------------------------------------------
    def list_series(self) -> list[SeriesSummary]:
        """Every stored series with its number of dates and vintages."""
        with UnitOfWork(self.engine) as uow:
            return [
                SeriesSummary(
                    code=s.row.code,
                    title=s.row.title,
                    frequency=s.row.frequency,
                    units=s.row.units,
                    seasonal_adjustment=s.row.seasonal_adjustment,
                    source=s.row.source,
                    dates=s.dates,
                    vintages=s.vintages,
                    first_date=s.first_date,
                    last_date=s.last_date,
                    last_realtime_start=s.last_realtime_start,
                    updated_at=s.row.updated_at,
                )
                for s in repo.list_series(uow.session)
            ]

    def series(
        self,
        code: str,
        as_of: DateLike | None = None,
        start: DateLike | None = None,
        end: DateLike | None = None,
    ) -> pd.Series:
        """The series as known on `as_of` (each date's value from the vintage with
        realtime_start <= as_of < realtime_end), or its latest values without `as_of`:
        float64 indexed by date (NaN: published missing), named by the code."""
        day, (first, last) = _day(as_of, "as_of"), _span(start, end)
        with UnitOfWork(self.engine) as uow:
            levels, _ = _levels(uow.session, code, day, first, last)
        return levels

    def indicator(
        self,
        name: str,
        code: str | None = None,
        *,
        as_of: DateLike | None = None,
        start: DateLike | None = None,
        end: DateLike | None = None,
    ) -> pd.Series:
        """A derived indicator from the values known on `as_of` (latest without it):
        `term-spread` DGS10 - DGS2 on each day both have a value; `real-rate` DGS10 at each
        month's last observation minus CPIAUCSL's year-over-year inflation of that month;
        `yoy` the year-over-year change of series `code`, in percent."""
        if name not in INDICATORS:
            raise InputError(
                InputProblem(
                    "is not an indicator",
                    field="indicator",
                    value=name,
                    expected=f"one of {', '.join(INDICATORS)}",
                )
            )
        if (name == "yoy") != (code is not None):
            expected = "a series code" if name == "yoy" else "no series code"
            raise InputError(
                InputProblem(
                    f"{name} takes {expected}", field="code", value=code, expected=expected
                )
            )
        day, (first, last) = _day(as_of, "as_of"), _span(start, end)
        with UnitOfWork(self.engine) as uow:
            session = uow.session
            if name == "term-spread":
                long_rate, _ = _levels(session, TERM_SPREAD_SERIES[0], day)
                short_rate, _ = _levels(session, TERM_SPREAD_SERIES[1], day)
                result = regime_math.term_spread(long_rate, short_rate)
            elif name == "real-rate":
                rate, _ = _levels(session, REAL_RATE_SERIES[0], day)
                prices, frequency = _levels(session, REAL_RATE_SERIES[1], day)
                prices, frequency = regime_math.monthly_or_coarser(prices, frequency)
                result = regime_math.real_rate(rate, prices, frequency)
            else:
                assert code is not None
                levels, frequency = _levels(session, code, day)
                result = regime_math.yoy_change(levels, frequency).rename(f"{levels.name}_yoy")
        if first is not None:
            result = result[result.index >= first.isoformat()]
        if last is not None:
            result = result[result.index <= last.isoformat()]
        return result

    # regimes ----------------------------------------------------------------------------------
    def regimes(
        self,
        as_of: DateLike | None = None,
        *,
        window: int = DEFAULT_WINDOW_YEARS,
        growth: str | None = None,
        inflation: str | None = None,
    ) -> pd.DataFrame:
        """Classify each month into GOLDILOCKS, REFLATION, STAGFLATION or DEFLATION from the
        year-over-year changes of a growth series (default GDPC1, else INDPRO) and an
        inflation series (default CPIAUCSL) as known on `as_of` (default today), z-scored over
        `window` years; store the result in regime_history (method
        `zscore{window}y:{growth}:{inflation}`) and return it, one row per month."""
        day = _day(as_of, "as_of") or _today()
        if not 1 <= window <= 100:
            raise InputError(
                InputProblem(
                    "is out of range", field="window", value=str(window), expected="1 to 100 years"
                )
            )
        with UnitOfWork(self.engine) as uow:
            session = uow.session
            growth_code = _growth_code(session, growth)
            inflation_code = (inflation or INFLATION_SERIES).upper()
            sides = {}
            for side, series_code in (("growth", growth_code), ("inflation", inflation_code)):
                levels, frequency = _levels(session, series_code, day)
                levels, frequency = regime_math.monthly_or_coarser(levels, frequency)
                sides[side] = (regime_math.yoy_change(levels, frequency), frequency)
            try:
                table = regime_math.classify_regimes(
                    sides["growth"][0],
                    sides["inflation"][0],
                    growth_frequency=sides["growth"][1],
                    inflation_frequency=sides["inflation"][1],
                    window_years=window,
                )
            except ValueError as exc:
                raise InputError(InputProblem(str(exc), field="window", value=str(window))) from exc
            if table.empty:
                raise InputError(
                    InputProblem(
                        f"{growth_code} and {inflation_code} as known on {day} have no month "
                        f"with a full {window}-year window of year-over-year changes of both",
                        field="window",
                        value=str(window),
                        expected="a shorter window, or more history",
                    )
                )
            method = f"zscore{window}y:{growth_code}:{inflation_code}"
            repo.replace_regimes(
                session, method, day, _regime_rows(table, growth_code, inflation_code, window)
            )
            uow.commit()
        table.attrs.update(method=method, as_of=day, growth=growth_code, inflation=inflation_code)
        return table


def _levels(
    session: Session,
    code: str,
    as_of: dt.date | None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[pd.Series, str]:
    """A stored series as known on `as_of`, and its frequency."""
    import pandas as pd

    row = repo.load_series(session, code.upper())
    values = repo.values_as_of(session, row.code, as_of, start, end)
    index = pd.DatetimeIndex([d for d, _ in values], name="date")
    data = [float("nan") if v is None else v for _, v in values]
    return pd.Series(data, index=index, name=row.code, dtype="float64"), row.frequency


def _growth_code(session: Session, growth: str | None) -> str:
    if growth is not None:
        return growth.upper()
    for code in GROWTH_SERIES:
        if repo.get_series(session, code) is not None:
            return code
    raise NotFoundError(
        f"no growth series: import or fetch {' or '.join(GROWTH_SERIES)}, or name one with --growth"
    )


def _regime_rows(
    table: pd.DataFrame, growth: str, inflation: str, window: int
) -> list[dict[str, Any]]:
    """regime_history rows; `inputs` holds what each month's figures were computed from."""
    import pandas as pd

    rows = []
    for month, r in zip(pd.DatetimeIndex(table.index), table.to_dict("records"), strict=True):
        rows.append(
            {
                "month": month.date(),
                "regime": r["regime"],
                "confidence": float(r["confidence"]),
                "growth": float(r["growth"]),
                "inflation": float(r["inflation"]),
                "growth_z": float(r["growth_z"]),
                "inflation_z": float(r["inflation_z"]),
                "inputs": {
                    "growth_series": growth,
                    "inflation_series": inflation,
                    "transform": "yoy_percent",
                    "window_years": window,
                    "growth_period": r["growth_period"].date().isoformat(),
                    "inflation_period": r["inflation_period"].date().isoformat(),
                    "growth_mean": float(r["growth_mean"]),
                    "growth_std": float(r["growth_std"]),
                    "inflation_mean": float(r["inflation_mean"]),
                    "inflation_std": float(r["inflation_std"]),
                },
            }
        )
    return rows
