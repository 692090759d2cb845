"""Performance of a portfolio from its daily history: the period table (time-weighted),
the money-weighted return since inception, and the risk metrics of the daily returns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from foliodb.analytics import metrics, mwr, returns
from foliodb.domain.pricing import FxTable
from foliodb.errors import InputError, InputProblem, NotFoundError
from foliodb.services import history
from foliodb.store import repos
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class Performance:
    """`periods`: one row per period (start, end, total_return, years, annualised);
    `metrics`: every metric of the daily time-weighted returns (252 periods a year);
    `money_weighted_return`: XIRR since inception (ACT/365F, annual); `modified_dietz`: the
    Modified Dietz return since inception, a second money-weighted figure (not annualised)."""

    portfolio: str
    base_currency: str
    as_of: dt.date
    periods: pd.DataFrame
    metrics: pd.Series
    money_weighted_return: float
    benchmark: str | None = None
    benchmark_periods: pd.DataFrame | None = None
    modified_dietz: float = math.nan


def benchmark_returns(
    engine: Engine, symbol: str, days: list[tuple[dt.date, str]], base: str
) -> list[float]:
    """Daily returns of a security in `base` currency at the same packs as the portfolio:
    price x FX of each pack over the previous one; NaN where a pack lacks its price."""
    with UnitOfWork(engine) as uow:
        known = repos.securities_by_symbol(uow.session, [symbol])
        if symbol not in known:
            raise NotFoundError(f"no security {symbol!r} to use as a benchmark")
        prices, rates = repos.pack_quotes(uow.session, [p for _, p in days], symbol)
    levels = []
    for _, pack_id in days:
        quote = prices.get(pack_id)
        if quote is None:
            levels.append(math.nan)
            continue
        price, currency = quote
        fx = FxTable(rates.get(pack_id, []), pack_id)
        levels.append(float(price) * float(fx.rate(currency, base)))
    out = [math.nan]
    out += [
        b / a - 1 if a == a and b == b and a else math.nan for a, b in itertools.pairwise(levels)
    ]
    if not prices:
        raise NotFoundError(f"the packs hold no prices of {symbol} over this history")
    return out


CACHE = "performance"
#: Every parameter the figures depend on besides the ledger and the packs; changing one (or
#: the computation) changes the fingerprint, so old figures can never be served.
PARAMETERS = {"version": 1, "periods_per_year": 252, "risk_free": 0.0, "level": 0.95}


def performance(
    engine: Engine,
    portfolio: str,
    owner: str | None = None,
    as_of: dt.date | None = None,
    benchmark: str | None = None,
    ttl: dt.timedelta | None = None,
    start: dt.date | None = None,
) -> Performance:
    """The period table, the money-weighted return and the metrics; with a `benchmark`
    (any security with prices in the packs) also its period table and the relative metrics
    (beta, alpha, tracking error, information ratio, up and down capture).

    Without a `benchmark`, the portfolio's own (`set_benchmark`) is used, if it has one.
    Cache-or-compute: figures are stored under the portfolio, the newest sealed pack and a
    fingerprint of the ledger version, the newest seal, the benchmark, the date and the
    parameters, so any changed input misses; `ttl` also bounds their age. With `start`, the
    period table gains a CUSTOM row from `start` to the last valued day.
    """
    with UnitOfWork(engine) as uow:
        row = repos.load_portfolio(uow.session, portfolio, owner)
        benchmark = benchmark or row.benchmark  # the portfolio's own, when none is named
        pack_id = repos.latest_complete_pack_id(uow.session, as_of)
        if pack_id is None:
            raise NotFoundError(f"{portfolio} has no valued day yet: create a pricing pack")
        key = json.dumps(
            {
                **PARAMETERS,
                "ledger_version": row.ledger_version,
                "as_of": str(as_of),
                "benchmark": benchmark and benchmark.upper(),
                "start": str(start),
                "newest_seal": str(repos.newest_seal(uow.session)),
            },
            sort_keys=True,
        )
        fingerprint = hashlib.sha256(key.encode()).hexdigest()
        figures = repos.cached_figures(uow.session, row.id, pack_id, fingerprint)
        repos.count(uow.session, CACHE, hit=bool(figures))
        portfolio_id, base = row.id, row.base_currency
        uow.commit()
    if figures:
        return _from_figures(portfolio, base, figures, benchmark)
    result = _compute(engine, portfolio, owner, as_of, benchmark, start)
    with UnitOfWork(engine) as uow:
        repos.store_figures(
            uow.session, portfolio_id, pack_id, fingerprint, _to_figures(result), ttl
        )
        uow.commit()
    return result


def cache_counters(engine: Engine) -> dict[str, tuple[int, int]]:
    """(hits, misses) of each cache."""
    with UnitOfWork(engine) as uow:
        return repos.counters(uow.session)


_PERIOD_COLUMNS = ("start", "end", "total_return", "years", "annualised", "local_return")


def _number(value: Any) -> float | None:
    if hasattr(value, "toordinal"):
        return None if value != value else float(value.toordinal())  # NaT != NaT
    return None if value is None or value != value else float(value)


def _to_figures(result: Performance) -> dict[tuple[str, str], float | None]:
    figures: dict[tuple[str, str], float | None] = {
        ("as_of", "ITD"): float(result.as_of.toordinal()),
        ("money_weighted_return", "ITD"): _number(result.money_weighted_return),
        ("modified_dietz", "ITD"): _number(result.modified_dietz),
    }
    for metric, value in result.metrics.items():
        figures[(f"metric:{metric}", "ITD")] = _number(value)
    for period, row in result.periods.iterrows():
        for column in _PERIOD_COLUMNS:
            figures[(column, str(period))] = _number(row[column])
    if result.benchmark_periods is not None:
        for period, row in result.benchmark_periods.iterrows():
            for column in ("total_return", "annualised"):
                figures[(f"benchmark:{column}", str(period))] = _number(row[column])
    return figures


def _from_figures(
    portfolio: str, base: str, figures: dict[tuple[str, str], float | None], benchmark: str | None
) -> Performance:
    import pandas as pd

    def value(metric: str, period: str) -> float:
        found = figures.get((metric, period))
        return math.nan if found is None else found

    def day(metric: str, period: str) -> Any:
        found = figures.get((metric, period))
        return pd.NaT if found is None else pd.Timestamp(dt.date.fromordinal(int(found)))

    periods = [p for p in (*returns.PERIODS, "CUSTOM") if ("total_return", p) in figures]
    table = pd.DataFrame(
        {
            "start": [day("start", p) for p in periods],
            "end": [day("end", p) for p in periods],
            **{
                c: [value(c, p) for p in periods]
                for c in ("total_return", "years", "annualised", "local_return")
            },
        },
        index=pd.Index(periods, name="period"),
    )
    names = sorted(m.removeprefix("metric:") for (m, _) in figures if m.startswith("metric:"))
    series = pd.Series([value(f"metric:{n}", "ITD") for n in names], index=names, name=portfolio)
    bench = None
    if benchmark is not None:
        bench = table[["start", "end", "years"]].assign(
            total_return=[value("benchmark:total_return", p) for p in periods],
            annualised=[value("benchmark:annualised", p) for p in periods],
        )
    return Performance(
        portfolio,
        base,
        dt.date.fromordinal(int(value("as_of", "ITD"))),
        table,
        series,
        value("money_weighted_return", "ITD"),
        benchmark and benchmark.upper(),
        bench,
        value("modified_dietz", "ITD"),
    )


def _compute(
    engine: Engine,
    portfolio: str,
    owner: str | None,
    as_of: dt.date | None,
    benchmark: str | None,
    start: dt.date | None = None,
) -> Performance:
    import pandas as pd

    days = history.daily_history(engine, portfolio, owner)
    if as_of is not None:
        kept = tuple(d for d in days.days if d.date <= as_of)
        days = dataclasses.replace(days, days=kept)
    if not days.days:
        raise NotFoundError(f"{portfolio} has no valued day yet: create a pricing pack")
    index = pd.DatetimeIndex([d.date for d in days.days])
    daily = pd.Series([d.daily_return for d in days.days], index=index, name=portfolio)
    end = days.days[-1].date
    periods = returns.period_returns(daily, end)
    local = pd.Series([d.local_return for d in days.days], index=index, name=portfolio)
    # The same periods with every currency at the previous day's rate: the gap to
    # total_return is the currency effect.
    periods["local_return"] = returns.period_returns(local, end)["total_return"]
    bench_daily = None
    if benchmark is not None:
        values = benchmark_returns(
            engine,
            benchmark.upper(),
            [(d.date, d.pack_id) for d in days.days],
            days.base_currency,
        )
        bench_daily = pd.Series(values, index=index, name=benchmark.upper())
    table: Any = metrics.summary(
        daily.fillna(0.0), None if bench_daily is None else bench_daily.fillna(0.0)
    )[portfolio]
    flows = [(d.date, float(d.external_flows)) for d in days.days if d.external_flows != 0]
    first = days.days[0].date - dt.timedelta(days=1)
    # Both money-weighted figures take the same schedule: nothing before the first day,
    # the external flows, the last value.
    schedule = (
        0.0,
        float(days.days[-1].nav),
        [f[0] for f in flows],
        [f[1] for f in flows],
        first,
        end,
    )
    try:
        irr = mwr.money_weighted_return(*schedule, outflows_at="end")
    except ValueError:
        irr = math.nan  # no money in, or no sign change: no internal rate
    dietz = mwr.modified_dietz(*schedule, outflows_at="end")
    bench_periods = None if bench_daily is None else returns.period_returns(bench_daily, end)
    if start is not None:
        custom = _custom_period(daily, start, end)
        periods.loc["CUSTOM"] = [  # the table's columns, in order
            pd.Timestamp(custom.start) if custom.start else pd.NaT,
            pd.Timestamp(custom.end) if custom.end else pd.NaT,
            custom.total_return,
            custom.years,
            custom.annualised,
            _custom_period(local, start, end).total_return,
        ]
        if bench_daily is not None and bench_periods is not None:
            try:
                other = returns.custom_period(bench_daily, start, end)
            except returns.PeriodError:
                # The benchmark's history starts later: its CUSTOM row stays unmeasured.
                bench_periods.loc["CUSTOM", "total_return"] = math.nan  # NaT/NaN elsewhere
            else:
                bench_periods.loc["CUSTOM"] = [
                    pd.Timestamp(other.start) if other.start else pd.NaT,
                    pd.Timestamp(other.end) if other.end else pd.NaT,
                    other.total_return,
                    other.years,
                    other.annualised,
                ]
    return Performance(
        portfolio,
        days.base_currency,
        end,
        periods,
        table,
        irr,
        None if benchmark is None else benchmark.upper(),
        bench_periods,
        dietz,
    )


BATCH_CACHE = "metrics_table"


def metrics_table(
    engine: Engine, names: list[str] | None = None, ttl: dt.timedelta | None = None
) -> pd.DataFrame:
    """Every metric for many portfolios: metrics as rows, portfolios as columns (`owner/name`
    when two users share a name).

    Each portfolio's figures are those of its own valued days, the same as `performance()`
    gives it, so adding a portfolio to the table never changes another's column. Cached per
    portfolio (under the batch scope, fingerprinted like `performance()`); the portfolios that
    miss are computed together, one vectorised pass for each set of portfolios valued on the
    same days (usually one pass for all).
    """
    import numpy as np
    import pandas as pd

    from foliodb.services import portfolios as portfolio_service

    listed = portfolio_service.list_portfolios(engine)
    shared = {p.name for p in listed if sum(q.name == p.name for q in listed) > 1}
    chosen = [p for p in listed if names is None or p.name in names]
    if names is not None:
        unknown = sorted(set(names) - {p.name for p in chosen})
        if unknown:
            raise NotFoundError(f"no portfolio named {', '.join(map(repr, unknown))}")
    order = list(metrics.summary(np.zeros((2, 1))).index)  # summary's rows, in its order
    columns: dict[str, list[float]] = {}
    misses: dict[str, tuple[int, str, str, str, str | None]] = {}
    with UnitOfWork(engine) as uow:
        pack_id = repos.latest_complete_pack_id(uow.session, None)
        seal = str(repos.newest_seal(uow.session))
        for p in chosen:
            label = f"{p.owner}/{p.name}" if p.name in shared else p.name
            row = repos.load_portfolio(uow.session, p.name, p.owner)
            key = {**PARAMETERS, "scope": repos.BATCH_SCOPE, "ledger_version": row.ledger_version}
            fingerprint = _fingerprint({**key, "newest_seal": seal})
            figures = (
                {}
                if pack_id is None
                else repos.cached_figures(uow.session, row.id, pack_id, fingerprint)
            )
            repos.count(uow.session, BATCH_CACHE, hit=bool(figures))
            if figures:
                columns[label] = [_nan(figures.get((repos.BATCH_SCOPE + m, "ITD"))) for m in order]
            else:
                misses[label] = (row.id, fingerprint, p.name, p.owner, pack_id)
        uow.commit()
    # The misses, grouped by their valued days: one 2-D pass per group.
    groups: dict[tuple[dt.date, ...], dict[str, list[float]]] = {}
    for label, (_, _, name, owner, _) in misses.items():
        days = history.daily_history(engine, name, owner).days
        dates = tuple(d.date for d in days)
        groups.setdefault(dates, {})[label] = [d.daily_return for d in days]
    for dates, group in groups.items():
        daily = pd.DataFrame(group, index=pd.DatetimeIndex(dates)).fillna(0.0)
        computed = metrics.summary(daily) if dates else None
        with UnitOfWork(engine) as uow:
            for label in group:
                portfolio_id, fingerprint, _, _, at_pack = misses[label]
                values = [math.nan] * len(order)
                if computed is not None:
                    values = [float(v) for v in computed[label].reindex(order)]
                columns[label] = values
                if at_pack is not None:
                    figures = {
                        (repos.BATCH_SCOPE + m, "ITD"): _number(v)
                        for m, v in zip(order, values, strict=True)
                    }
                    repos.store_figures(
                        uow.session,
                        portfolio_id,
                        at_pack,
                        fingerprint,
                        figures,
                        ttl,
                        scope=repos.BATCH_SCOPE,
                    )
            uow.commit()
    if not columns:
        return pd.DataFrame()
    labels = [f"{p.owner}/{p.name}" if p.name in shared else p.name for p in chosen]
    return pd.DataFrame({label: columns[label] for label in labels}, index=order)


def _fingerprint(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _custom_period(daily: pd.Series, start: dt.date, end: dt.date) -> returns.PeriodReturn:
    """The CUSTOM row's return; a start the history cannot measure from is the caller's
    input, named as such."""
    try:
        return returns.custom_period(daily, start, end)
    except returns.PeriodError as exc:
        raise InputError(
            InputProblem(
                str(exc),
                field="start",
                value=start.isoformat(),
                expected=f"a day from the first valued day up to before {end.isoformat()}",
            )
        ) from None
