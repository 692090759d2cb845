"""`foliodb demo`: load the demo data set and show what foliodb makes of it."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

import foliodb
from foliodb.cli import render
from foliodb.services import demo


def run(url: str | None, seed: int) -> None:
    with foliodb.connect(url, create=True) as database:
        render.console.print(Text.assemble(("foliodb demo", "bold"), f" — database {database.url}"))
        # The CSV files go next to an SQLite database, else to ./demo-out.
        where = database.engine.url
        directory = (
            Path(where.database).parent
            if where.get_backend_name() == "sqlite" and where.database not in (None, "", ":memory:")
            else Path.cwd() / "demo-out"
        )
        with render.console.status("loading demo data") as status:
            summary = demo.load(
                database.engine, directory, seed, progress=lambda message: status.update(message)
            )
        render.console.print(
            f"demo files in {summary.directory}/: {summary.transactions} transactions, "
            f"{summary.prices} prices, {summary.fx_rates} FX rates; {summary.packs_created} "
            f"packs sealed now, {summary.packs_total} in all, latest {summary.latest_pack}"
        )
        render.emit(database.portfolios(), "table", title="Portfolios")
        for name in summary.portfolios:
            result = database.valuation(name)
            title = f"{name} at {result.pack_id} ({result.valuation.base_currency})"
            render.emit_document(
                result.totals(),
                {"positions": list(result.positions), "cash": list(result.cash)},
                "table",
                title,
            )
            perf = database.performance(name)
            itd = perf.periods.loc["ITD"]
            render.console.print(
                f"{name}: time-weighted return since inception {itd['total_return']:.2%} "
                f"({itd['annualised']:.2%} a year), money-weighted {perf.money_weighted_return:.2%}"
                f" a year, volatility {perf.metrics['annual_volatility']:.2%}, Sharpe "
                f"{perf.metrics['sharpe_ratio']:.2f}, max drawdown "
                f"{perf.metrics['max_drawdown']:.2%}",
                highlight=False,
            )
            written = database.report(
                name, directory / f"report-{name.split()[0].lower()}.html", benchmark="VTI"
            )
            render.console.print(f"{name}: tearsheet written to {written}", highlight=False)
            gains = database.realized_gains(name)
            render.console.print(
                f"{name}: {len(gains.gains)} realized lot slices, total "
                f"{render._cell('gain', gains.total_base())} "
                f"{result.valuation.base_currency}\n"
            )
        render.console.print(
            "Explore it (from this directory):\n"
            f"  export FOLIODB_DATABASE_URL={database.url}\n"
            "  .venv/bin/foliodb lots 'Alice Growth'\n"
            "  .venv/bin/foliodb gains 'Bob RRSP' --year 2025\n"
            "  .venv/bin/foliodb pack list\n"
            "  .venv/bin/foliodb perf 'Bob RRSP'\n"
            "  .venv/bin/foliodb holdings 'Alice Growth' --date 2024-06-28 --format json",
            highlight=False,
        )
