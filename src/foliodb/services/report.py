"""Performance tearsheet: one self-contained HTML page of a portfolio's returns, risk and
allocation, with its charts as inline SVG, that opens offline (no script, font or stylesheet
is fetched)."""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from sqlalchemy import Engine

from foliodb.analytics import metrics
from foliodb.services import history, performance, valuation
from foliodb.services.results import ValuationResult
from foliodb.store import repos
from foliodb.store.uow import UnitOfWork

if TYPE_CHECKING:  # pandas and matplotlib load only when a report is made (about 0.7 s)
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ROLLING_WINDOW = 63  # trading days: a quarter
MAX_BARS = 15  # allocation bars shown; the rest are summed as "Other"
UNKNOWN_SECTOR = "unknown"
CASH = "Cash"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PORTFOLIO_COLOR, BENCHMARK_COLOR, LOSS_COLOR = "#1f4e79", "#8c8c8c", "#b03a2e"

# Percentages unless listed in RATIOS; a metric not named here shows its key, as a number.
METRIC_LABELS = {
    "cumulative_return": "Cumulative return",
    "annual_return": "Annual return (CAGR)",
    "annual_volatility": "Annual volatility",
    "sharpe_ratio": "Sharpe ratio",
    "sortino_ratio": "Sortino ratio",
    "downside_risk": "Downside risk (annual)",
    "max_drawdown": "Maximum drawdown",
    "calmar_ratio": "Calmar ratio",
    "omega_ratio": "Omega ratio",
    "value_at_risk": "Daily value at risk, 95 % (historical)",
    "conditional_value_at_risk": "Daily expected shortfall, 95 % (historical)",
    "parametric_value_at_risk": "Daily value at risk, 95 % (normal)",
    "parametric_conditional_value_at_risk": "Daily expected shortfall, 95 % (normal)",
    "beta": "Beta",
    "alpha": "Alpha (annual)",
    "tracking_error": "Tracking error (annual)",
    "information_ratio": "Information ratio",
    "up_capture": "Up capture",
    "down_capture": "Down capture",
}
RATIOS = frozenset(
    {"sharpe_ratio", "sortino_ratio", "calmar_ratio", "omega_ratio", "beta"}
    | {"information_ratio", "up_capture", "down_capture"}
)
PERCENTS = frozenset(METRIC_LABELS) - RATIOS

# Chart style on top of matplotlib's defaults (a user's matplotlibrc does not leak in). Text
# stays text (no glyph paths, whose ids would repeat across charts); ids are salted per chart.
STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#999999",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "xtick.color": "#555555",
    "ytick.color": "#555555",
}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
 margin:0;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
header{background:#1f4e79;color:#fff;padding:20px 24px}
header h1{margin:0 0 6px;font-size:24px;max-width:1052px;margin-inline:auto}
header dl{display:flex;flex-wrap:wrap;gap:4px 24px;margin:0 auto;max-width:1052px}
header dt{opacity:.75}header dd{margin:0 0 0 6px;font-weight:600}header div{display:flex}
section{background:#fff;border-radius:6px;padding:16px 20px;margin:0 0 18px;
 box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:17px;margin:0 0 10px;color:#1f4e79}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:5px 10px;border-bottom:1px solid #eee;text-align:left}
th{font-weight:600;color:#555;background:#fafafa}
td.num,th.num{text-align:right}.neg{color:#b03a2e}.muted{color:#888}
figure{margin:0}svg{width:100%;height:auto;display:block}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
.grid h3{font-size:14px;margin:0 0 4px;color:#555}
"""


def write_report(
    engine: Engine,
    portfolio: str,
    out: Path,
    *,
    owner: str | None = None,
    benchmark: str | None = None,
) -> Path:
    """Compute the performance, history and allocation of `portfolio` and write its tearsheet
    to `out` (UTF-8 HTML); returns `out`."""
    days = history.daily_history(engine, portfolio, owner)
    perf = performance.performance(engine, portfolio, owner, None, benchmark)
    kept = [d for d in days.days if d.date <= perf.as_of]
    bench = None
    if perf.benchmark is not None:
        packs = [(d.date, d.pack_id) for d in kept]
        bench = performance.benchmark_returns(engine, perf.benchmark, packs, days.base_currency)
    holdings = valuation.value_portfolio(engine, portfolio, kept[-1].pack_id, None, owner)
    with UnitOfWork(engine) as uow:
        known = repos.securities_by_symbol(uow.session, [p.symbol for p in holdings.positions])
    sectors = {symbol: security.sector for symbol, security in known.items()}
    page = render_report(perf, days, holdings, sectors=sectors, benchmark_returns=bench)
    out.write_text(page, encoding="utf-8")
    return out


def render_report(
    perf: performance.Performance,
    days: history.History,
    holdings: ValuationResult,
    *,
    sectors: Mapping[str, str | None] | None = None,
    benchmark_returns: Sequence[float] | None = None,
) -> str:
    """The tearsheet as one HTML document: every text escaped, every chart an inline SVG.

    Days after `perf.as_of` are left out; `benchmark_returns` has one value per day of `days`.
    """
    import pandas as pd

    kept = [d for d in days.days if d.date <= perf.as_of]
    index = pd.DatetimeIndex([d.date for d in kept])
    raw = pd.Series([d.daily_return for d in kept], index=index, dtype="float64")
    daily = raw.fillna(0.0)  # a day without capital counts as flat, as in the metric table
    bench = None
    if benchmark_returns is not None:
        if len(benchmark_returns) != len(days.days):
            raise ValueError(
                f"benchmark_returns: {len(benchmark_returns)} values for {len(days.days)} days"
            )
        values = list(benchmark_returns)[: len(kept)]
        bench = pd.Series(values, index=index, dtype="float64").fillna(0.0)
    label = perf.benchmark or "benchmark"
    allocations = allocation(holdings, sectors or {})
    sections = [
        _section("Period returns", _period_table(perf)),
        _section("Risk metrics", _metric_table(perf)),
        _section("Growth of 1", _chart("growth of 1", _growth_chart, daily, bench, perf, label)),
        _section("Drawdown", _chart("drawdown", _drawdown_chart, daily, bench, perf, label)),
        _section(
            "Monthly returns", _chart("monthly returns", _monthly_chart, monthly_returns(raw))
        ),
        _section(
            f"Rolling {ROLLING_WINDOW}-day volatility and Sharpe ratio",
            _chart("rolling volatility and Sharpe ratio", _rolling_chart, daily, bench, perf, label)
            if len(daily) >= ROLLING_WINDOW
            else _note(f"Needs {ROLLING_WINDOW} valued days; the history has {len(daily)} so far."),
        ),
        _section("Allocation", _allocation_grid(allocations, holdings.valuation.base_currency)),
    ]
    title = f"{perf.portfolio} — performance report"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_text(title)}</title><style>{CSS}</style></head><body>",
            _header(perf, holdings),
            "<main>",
            _key_figures(perf, daily),
            *sections,
            "</main></body></html>",
            "",
        ]
    )


def monthly_returns(daily: pd.Series) -> pd.DataFrame:
    """Daily returns compounded per calendar month: years as rows, months 1-12 as columns
    (NaN for a month without a return)."""
    import pandas as pd

    stamps = pd.DatetimeIndex(daily.index)
    growth = (1.0 + daily).groupby([stamps.year, stamps.month]).prod(min_count=1) - 1.0
    table = growth.unstack()
    return table.reindex(columns=range(1, 13)).rename_axis(index="year", columns="month")


def allocation(
    holdings: ValuationResult, sectors: Mapping[str, str | None]
) -> dict[str, list[tuple[str, float]]]:
    """Weights of the portfolio's value by security, currency and sector, largest first; cash
    is one "Cash" line (by currency it joins its currency). Empty when the value is not
    positive."""
    v = holdings.valuation
    total = float(v.total_value)
    if not total > 0:
        return {"security": [], "currency": [], "sector": []}
    by: dict[str, dict[str, float]] = {"security": {}, "currency": {}, "sector": {}}
    cash = float(v.cash_value)

    def add(kind: str, key: str, amount: float) -> None:
        by[kind][key] = by[kind].get(key, 0.0) + amount / total

    for p in v.positions:
        amount = float(p.market_value_base)
        add("security", p.symbol, amount)
        add("currency", p.currency, amount)
        add("sector", sectors.get(p.symbol) or UNKNOWN_SECTOR, amount)
    for c in v.cash:
        add("currency", c.currency, float(c.value_base))
    if cash:
        add("security", CASH, cash)
        add("sector", CASH, cash)
    return {kind: sorted(w.items(), key=lambda kv: (-kv[1], kv[0])) for kind, w in by.items()}


# --- HTML -----------------------------------------------------------------------------------


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _section(title: str, body: str) -> str:
    anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f'<section id="{anchor}"><h2>{_text(title)}</h2>\n{body}\n</section>'


def _note(message: str) -> str:
    return f'<p class="muted">{_text(message)}</p>'


def _percent(value: float, pattern: str = "{:+.2%}") -> str:
    """A return as a signed percentage cell (a level such as volatility with `{:.2%}`)."""
    return _number(value, pattern)


def _number(value: float, pattern: str = "{:.2f}") -> str:
    """A table cell; NaN shows as a dash, negatives in red."""
    if math.isnan(value):
        return '<td class="num muted">–</td>'
    shown = ("+∞" if value > 0 else "−∞") if math.isinf(value) else pattern.format(value)
    return f'<td class="num{" neg" if value < 0 else ""}">{_text(shown)}</td>'


def _header(perf: performance.Performance, holdings: ValuationResult) -> str:
    v = holdings.valuation
    facts = [
        ("Base currency", perf.base_currency),
        ("As of", perf.as_of.isoformat()),
        ("Pricing pack", v.pack_id),
        ("Value", f"{v.total_value:,.2f} {v.base_currency}"),
    ]
    if perf.benchmark is not None:
        facts.append(("Benchmark", perf.benchmark))
    items = "".join(f"<div><dt>{_text(k)}</dt><dd>{_text(x)}</dd></div>" for k, x in facts)
    return f"<header><h1>{_text(perf.portfolio)}</h1><dl>{items}</dl></header>"


def _key_figures(perf: performance.Performance, daily: pd.Series) -> str:
    itd = perf.periods.to_dict("index").get("ITD", {})
    measures = perf.metrics.to_dict()
    figures = [
        ("Since inception (TWR)", float(itd.get("total_return", math.nan))),
        ("Money-weighted (annual)", perf.money_weighted_return),
        ("Maximum drawdown", float(measures.get("max_drawdown", math.nan))),
    ]
    cells = "".join(_percent(x) for _, x in figures)
    sharpe = _number(float(measures.get("sharpe_ratio", math.nan)))
    heads = "".join(f'<th class="num">{_text(k)}</th>' for k, _ in figures)
    return (
        f'<section id="summary"><h2>Summary</h2><table><tr>{heads}<th class="num">Sharpe'
        f' ratio</th><th class="num">Valued days</th></tr><tr>{cells}{sharpe}'
        f'<td class="num">{len(daily)}</td></tr></table></section>'
    )


def _period_table(perf: performance.Performance) -> str:
    heads = ["Period", "Start", "End", "TWR", "Annualised"]
    bench = perf.benchmark_periods
    if bench is not None:
        heads += [f"{perf.benchmark} TWR", f"{perf.benchmark} annualised", "Active"]
    theirs = {} if bench is None else bench.to_dict("index")
    rows = []
    for period, row in perf.periods.to_dict("index").items():
        start, end = _day(row["start"]), _day(row["end"])
        total, annual = float(row["total_return"]), float(row["annualised"])
        cells = [f"<th>{_text(period)}</th><td>{start}</td><td>{end}</td>"]
        cells += [_percent(total), _percent(annual)]
        if bench is not None:
            other = theirs.get(period, {})
            b_total = float(other.get("total_return", math.nan))
            b_annual = float(other.get("annualised", math.nan))
            cells += [_percent(b_total), _percent(b_annual), _percent(total - b_total)]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(
        f"<th>{_text(h)}</th>" if i < 3 else f'<th class="num">{_text(h)}</th>'
        for i, h in enumerate(heads)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _day(value: object) -> str:
    """A period's start or end date as text; a dash when it has none (NaT)."""
    if not isinstance(value, dt.date) or value != value:  # NaT is a date unequal to itself
        return "–"
    return value.strftime("%Y-%m-%d")


def _metric_table(perf: performance.Performance) -> str:
    """Every metric, in METRIC_LABELS order whatever order they come in; others after."""
    values = {str(key): float(raw) for key, raw in perf.metrics.items()}
    order = list(METRIC_LABELS) + sorted(set(values) - set(METRIC_LABELS))
    rows = []
    for name in order:
        if name not in values:
            continue
        value = values[name]
        label = METRIC_LABELS.get(name, name.replace("_", " ").capitalize())
        cell = _percent(value, "{:.2%}") if name in PERCENTS else _number(value)
        rows.append(f'<tr data-metric="{_text(name)}"><th>{_text(label)}</th>{cell}</tr>')
    rows.append(
        '<tr data-metric="money_weighted_return"><th>Money-weighted return since inception'
        f" (XIRR, annual)</th>{_percent(perf.money_weighted_return)}</tr>"
    )
    return f"<table><tbody>{''.join(rows)}</tbody></table>"


def _allocation_grid(allocations: Mapping[str, list[tuple[str, float]]], base: str) -> str:
    if not allocations["security"]:
        return _note("Nothing to allocate: the portfolio's value is not positive.")
    parts = []
    for kind in ("security", "currency", "sector"):
        bars = _top(allocations[kind])
        chart = _chart(f"allocation by {kind}", _allocation_chart, bars, base)
        parts.append(f"<div><h3>By {kind}</h3>{chart}</div>")
    return f'<div class="grid">{"".join(parts)}</div>'


def _top(weights: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The MAX_BARS largest lines, the rest summed as one "Other (n)" line."""
    if len(weights) <= MAX_BARS:
        return weights
    rest = weights[MAX_BARS - 1 :]
    return [*weights[: MAX_BARS - 1], (f"Other ({len(rest)})", sum(w for _, w in rest))]


# --- charts ---------------------------------------------------------------------------------


def _chart(name: str, draw: Callable[..., Figure], *args: object) -> str:
    """An inline SVG of the figure `draw(*args)` returns, named `name` for screen readers.

    Figures are made without pyplot (no global figure registry) and drawn by the SVG backend.
    """
    import matplotlib.style
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buffer = io.StringIO()
    with matplotlib.style.context(["default", {**STYLE, "svg.hashsalt": name}]):
        figure = draw(*args)
        FigureCanvasSVG(figure)
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        figure.clear()
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    svg = re.sub(r'<g id="[^"]*"', "<g", svg)  # group ids would repeat across charts
    svg = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg, count=1)
    return f'<figure role="img" aria-label="{_text(name)}">{svg}</figure>'


def _figure(width: float, height: float, rows: int = 1) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return figure, list(axes)


def _label(text: str) -> str:
    """`text` shown literally by matplotlib (a `$` would start mathematical notation)."""
    return text.replace("$", r"\$")


def _dates(axes: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]  # untyped upstream
    axes.xaxis.set_major_locator(locator)
    concise = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]  # idem
    axes.xaxis.set_major_formatter(concise)


def _percent_axis(axes: Axes, *, x: bool = False) -> None:
    from matplotlib.ticker import PercentFormatter

    (axes.xaxis if x else axes.yaxis).set_major_formatter(PercentFormatter(1.0))


def _lines(
    axes: Axes,
    daily: pd.Series,
    bench: pd.Series | None,
    perf: performance.Performance,
    label: str,
    measure: Callable[[pd.Series], pd.Series],
    *,
    color: str = PORTFOLIO_COLOR,
    legend: Literal["upper left", "best"] | None = "upper left",
) -> None:
    """The portfolio's `measure` over time and, when there is one, the benchmark's."""
    x = daily.index.to_numpy()
    axes.plot(x, measure(daily).to_numpy(), color=color, lw=1.4, label=_label(perf.portfolio))
    if bench is not None:
        axes.plot(x, measure(bench).to_numpy(), color=BENCHMARK_COLOR, lw=1.1,
                  label=_label(label))  # fmt: skip
        if legend is not None:
            axes.legend(loc=legend)
    _dates(axes)


def _growth_chart(
    daily: pd.Series, bench: pd.Series | None, perf: performance.Performance, label: str
) -> Figure:
    figure, (axes,) = _figure(9.0, 3.2)
    _lines(axes, daily, bench, perf, label, lambda r: (1.0 + r).cumprod())
    axes.axhline(1.0, color="#999999", lw=0.8)
    axes.set_ylabel("growth of 1 (TWR)")
    return figure


def _drawdown_chart(
    daily: pd.Series, bench: pd.Series | None, perf: performance.Performance, label: str
) -> Figure:
    figure, (axes,) = _figure(9.0, 2.6)
    _lines(axes, daily, bench, perf, label, metrics.drawdown_series, color=LOSS_COLOR,
           legend="best")  # fmt: skip
    underwater = metrics.drawdown_series(daily).to_numpy()
    axes.fill_between(daily.index.to_numpy(), underwater, 0.0, color=LOSS_COLOR, alpha=0.2)
    _percent_axis(axes)
    axes.set_ylabel("below peak")
    return figure


def _monthly_chart(table: pd.DataFrame) -> Figure:
    import numpy as np
    from matplotlib.colors import Normalize

    values = table.to_numpy(dtype="float64")
    figure, (axes,) = _figure(9.0, 0.9 + 0.38 * len(table))
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0
    norm = Normalize(-(limit or 0.01), limit or 0.01)
    axes.pcolormesh(np.ma.masked_invalid(values), cmap="RdYlGn", norm=norm)
    axes.set_facecolor("#f2f2f2")
    axes.grid(visible=False)
    axes.invert_yaxis()
    axes.set_xticks(np.arange(12) + 0.5, MONTHS)
    axes.set_yticks(np.arange(len(table)) + 0.5, [str(y) for y in table.index])
    axes.tick_params(length=0)
    axes.xaxis.tick_top()
    for (row, column), value in np.ndenumerate(values):
        if value == value:
            strong = abs(value) > 0.6 * limit
            axes.text(column + 0.5, row + 0.5, f"{value:+.1%}", ha="center", va="center",
                      fontsize=7.5, color="white" if strong else "#222222")  # fmt: skip
    for side in axes.spines.values():
        side.set_visible(False)
    return figure


def _rolling_chart(
    daily: pd.Series, bench: pd.Series | None, perf: performance.Performance, label: str
) -> Figure:
    figure, (vol, sharpe) = _figure(9.0, 4.4, rows=2)

    def rolling(metric: Callable[..., metrics.Metric]) -> Callable[[pd.Series], pd.Series]:
        def measure(returns: pd.Series) -> pd.Series:
            out = metrics.rolling(metric, returns, ROLLING_WINDOW)
            return cast("pd.Series", out).reindex(returns.index)  # a Series in, a Series out

        return measure

    _lines(vol, daily, bench, perf, label, rolling(metrics.annual_volatility))
    _lines(sharpe, daily, bench, perf, label, rolling(metrics.sharpe_ratio), legend=None)
    _percent_axis(vol)
    vol.set_ylabel("volatility (annual)")
    sharpe.axhline(0.0, color="#999999", lw=0.8)
    sharpe.set_ylabel("Sharpe ratio (annual)")
    return figure


def _allocation_chart(weights: Iterable[tuple[str, float]], base: str) -> Figure:
    from matplotlib.ticker import MaxNLocator

    names, shares = zip(*weights, strict=True)
    figure, (axes,) = _figure(3.6, 0.7 + 0.28 * len(names))
    colors = [LOSS_COLOR if w < 0 else PORTFOLIO_COLOR for w in shares]
    bars = axes.barh([_label(n) for n in names], shares, color=colors, height=0.65)
    axes.bar_label(bars, labels=[f"{w:.1%}" for w in shares], padding=3, fontsize=7.5)
    axes.invert_yaxis()
    axes.grid(axis="y", visible=False)
    axes.margins(x=0.18)
    _percent_axis(axes, x=True)
    axes.xaxis.set_major_locator(MaxNLocator(4))
    axes.set_xlabel(f"share of value ({base})")
    return figure
