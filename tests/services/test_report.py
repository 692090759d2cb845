"""The HTML tearsheet: one self-contained page with every section, inline SVG charts, nothing
fetched from the network, every text escaped. Figures worked by hand in the comments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import foliodb
from foliodb.services import history, performance, report, valuation
from tests.builders import CsvFiles, buy, deposit, price

DAYS = ("2024-01-02", "2024-01-03", "2024-01-04")
HEADINGS = (
    "Summary",
    "Period returns",
    "Risk metrics",
    "Growth of 1",
    "Drawdown",
    "Monthly returns",
    "Rolling 63-day volatility and Sharpe ratio",
    "Allocation",
)
VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"})


def three_days(db: foliodb.Database, files: CsvFiles, name: str = "Main") -> None:
    """Deposit 1000 and buy 10 X at 50 on day one; X closes at 50, 55, 60; 100 is withdrawn
    on day three."""
    db.create_portfolio(name)
    db.import_prices(
        files.prices(
            [price("X", day, p, "USD") for day, p in zip(DAYS, ("50", "55", "60"), strict=True)]
        )
    )
    db.import_transactions(
        name,
        files.transactions(
            [
                deposit("D1", DAYS[0], "1000", "USD"),
                buy("B1", DAYS[0], "X", "10", "50", "USD"),
                {"external_id": "W1", "trade_date": DAYS[2], "type": "WITHDRAWAL",
                 "amount": "100", "currency": "USD"},
            ]
        ),
    )  # fmt: skip
    for day in DAYS:
        db.create_pack(day)


class TagBalance(HTMLParser):
    """Records every end tag that does not close the innermost open element."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()


def written(db: foliodb.Database, tmp_path: Path, name: str = "Main", **options: str) -> str:
    out = tmp_path / "report.html"
    assert report.write_report(db.engine, name, out, **options) == out
    return out.read_text(encoding="utf-8")


def headings(page: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", page)


def test_the_report_is_one_well_formed_html_page_with_every_section(
    db: foliodb.Database, files: CsvFiles, tmp_path: Path
) -> None:
    three_days(db, files)

    page = written(db, tmp_path)

    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    checker = TagBalance()
    checker.feed(page)
    checker.close()
    assert (checker.problems, checker.open) == ([], [])
    assert headings(page) == list(HEADINGS)
    assert "<h1>Main</h1>" in page
    for fact in ("USD", "2024-01-04", "PP_2024-01-04", "1,000.00 USD"):
        assert f"<dd>{fact}</dd>" in page
    # Three valued days: too few for a 63-day window, which the section says instead.
    assert "Needs 63 valued days; the history has 3 so far." in page


def test_the_report_shows_the_returns_every_metric_and_the_money_weighted_return(
    db: foliodb.Database, files: CsvFiles, tmp_path: Path
) -> None:
    three_days(db, files)

    page = written(db, tmp_path)

    # ITD: 1.05 x (1100 / 1050) - 1 = +10.00%; day three alone: 1100 / 1050 - 1 = +4.76%.
    assert re.search(r"<th>ITD</th><td>[^<]*</td><td>2024-01-04</td>"
                     r'<td class="num">\+10\.00%</td>', page)  # fmt: skip
    assert re.search(r'<th>1D</th><td>2024-01-03</td><td>2024-01-04</td><td class="num">\+4\.76%',
                     page)  # fmt: skip
    metrics = re.findall(r'<tr data-metric="(\w+)">', page)
    assert metrics == [
        "cumulative_return",
        "annual_return",
        "annual_volatility",
        "sharpe_ratio",
        "sortino_ratio",
        "downside_risk",
        "max_drawdown",
        "calmar_ratio",
        "omega_ratio",
        "value_at_risk",
        "conditional_value_at_risk",
        "parametric_value_at_risk",
        "parametric_conditional_value_at_risk",
        "money_weighted_return",
    ]  # no benchmark, no relative metrics
    assert (
        '<tr data-metric="cumulative_return"><th>Cumulative return</th><td class="num">10.00%'
        in page
    )


def test_the_charts_are_inline_svg(db: foliodb.Database, files: CsvFiles, tmp_path: Path) -> None:
    three_days(db, files)

    page = written(db, tmp_path)

    # Growth, drawdown, monthly returns and three allocations (rolling needs 63 days).
    assert page.count("<svg") == page.count("</svg>") == 6
    assert "<img" not in page
    assert "<?xml" not in page  # no XML prologue or DOCTYPE inside the HTML
    assert page.count("<!DOCTYPE") == 1


def test_the_report_fetches_nothing_from_the_network(
    db: foliodb.Database, files: CsvFiles, tmp_path: Path
) -> None:
    three_days(db, files)

    page = written(db, tmp_path, benchmark="X")

    # SVG namespaces are names, never fetched; nothing else may name a web address.
    without_namespaces = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", page)
    assert "http://" not in without_namespaces
    assert "https://" not in without_namespaces
    links = re.findall(r'\s(?:src|href|xlink:href)\s*=\s*["\']([^"\']*)', page)
    assert all(link.startswith(("#", "data:")) for link in links), links
    for fetching in ("<script", "<link", "<iframe", "@import", "url(http", "url(//"):
        assert fetching not in page.lower()


def test_a_benchmark_adds_its_columns_to_the_period_table(
    db: foliodb.Database, files: CsvFiles, tmp_path: Path
) -> None:
    three_days(db, files)

    without = written(db, tmp_path)
    page = written(db, tmp_path, benchmark="x")

    assert "X TWR" not in without
    head = re.search(r"<thead>(.*?)</thead>", page)
    assert head is not None
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head.group(1)) == [
        "Period", "Start", "End", "TWR", "Annualised", "X TWR", "X annualised", "Active",
    ]  # fmt: skip
    # X: 50 -> 60 is +20.00% since inception; the portfolio's +10.00% is 10 points behind.
    assert re.search(
        r'<th>ITD</th>.*?\+10\.00%</td>.*?\+20\.00%</td>.*?<td class="num neg">-10\.00%</td>',
        page,
    )
    assert "<dt>Benchmark</dt><dd>X</dd>" in page
    assert '<tr data-metric="beta">' in page


def test_a_portfolio_name_with_a_script_tag_is_escaped(
    db: foliodb.Database, files: CsvFiles, tmp_path: Path
) -> None:
    name = '<script>alert("$x$ & y")</script>'
    three_days(db, files, name)

    page = written(db, tmp_path, name, benchmark="X")  # the chart legends name it too

    assert "<script" not in page.lower()
    assert "<h1>&lt;script&gt;alert(&quot;$x$ &amp; y&quot;)&lt;/script&gt;</h1>" in page
    assert "<title>&lt;script&gt;" in page
    # In the charts too, and the dollars stay dollars (matplotlib would read $x$ as maths).
    assert '>&lt;script&gt;alert("$x$ &amp; y")&lt;/script&gt;</text>' in page


def test_allocation_shares_the_value_by_security_currency_and_sector(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    holdings = valuation.value_portfolio(db.engine, "Main")

    shares: dict[str, object] = dict(report.allocation(holdings, {}))

    # Day three: 10 X at 60 = 600 and 400 cash of 1000; X has no sector.
    assert shares == {
        "security": [("X", pytest.approx(0.6)), ("Cash", pytest.approx(0.4))],
        "currency": [("USD", pytest.approx(1.0))],
        "sector": [("unknown", pytest.approx(0.6)), ("Cash", pytest.approx(0.4))],
    }
    assert report.allocation(holdings, {"X": "Energy"})["sector"][0][0] == "Energy"


def test_monthly_returns_compound_the_daily_returns_of_each_month() -> None:
    daily = pd.Series(
        [0.10, 0.10, -0.10, float("nan")],
        index=pd.to_datetime(["2024-01-31", "2024-02-01", "2024-02-29", "2025-03-03"]),
    )

    table = report.monthly_returns(daily)

    # February: 1.1 x 0.9 - 1 = -1%; March 2025 has no observed return.
    assert list(table.index) == [2024, 2025]
    assert [int(month) for month in table.columns] == list(range(1, 13))
    cells = table.to_numpy()
    assert cells[0, 0] == pytest.approx(0.10)
    assert cells[0, 1] == pytest.approx(-0.01)
    assert math.isnan(cells[0, 2])
    assert math.isnan(cells[1, 2])
    assert list(daily)[:3] == [0.10, 0.10, -0.10]  # the input is not modified


def test_a_quarter_of_history_draws_the_rolling_chart(
    db: foliodb.Database, files: CsvFiles
) -> None:
    three_days(db, files)
    days = history.daily_history(db.engine, "Main")
    perf = performance.performance(db.engine, "Main")
    holdings = valuation.value_portfolio(db.engine, "Main")
    # 70 days alternating +1% and -0.5%, from the stored last day's values.
    start = dt.date(2024, 1, 1)
    long = tuple(
        dataclasses.replace(
            days.days[-1], date=start + dt.timedelta(days=i), daily_return=(0.01, -0.005)[i % 2]
        )
        for i in range(70)
    )

    page = report.render_report(
        dataclasses.replace(perf, as_of=long[-1].date),
        dataclasses.replace(days, days=long),
        holdings,
        benchmark_returns=[0.002] * 70,
    )

    assert page.count("<svg") == 7
    assert "Needs 63 valued days" not in page
    with pytest.raises(ValueError, match="3 values for 70 days"):
        report.render_report(
            perf, dataclasses.replace(days, days=long), holdings, benchmark_returns=[0.0] * 3
        )
