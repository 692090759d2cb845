"""`foliodb demo`: load the demo data set and show what foliodb makes of it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
from rich.text import Text

import foliodb
from foliodb.cli import render
from foliodb.services import demo, demo_market


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
        if summary.market is not None:
            _show_market(database)
        _show_sign_in(database)
        render.console.print(
            "Explore it (from this directory):\n"
            f"  export FOLIODB_DATABASE_URL={database.url}\n"
            "  .venv/bin/foliodb lots 'Alice Growth'\n"
            "  .venv/bin/foliodb gains 'Bob RRSP' --year 2025\n"
            "  .venv/bin/foliodb pack list\n"
            "  .venv/bin/foliodb perf 'Bob RRSP'\n"
            "  .venv/bin/foliodb holdings 'Alice Growth' --date 2024-06-28 --format json\n"
            "  .venv/bin/foliodb data bars MSFT --interval 1h --start 2025-12-24 --end 2025-12-24\n"
            "  .venv/bin/foliodb data gaps MSFT --interval 1m\n"
            "  .venv/bin/foliodb calendar sessions XTSE --start 2025-12-22 --end 2026-01-05\n"
            "  .venv/bin/foliodb macro series GDPC1 --as-of 2024-02-27\n"
            "  .venv/bin/foliodb macro indicator term-spread --start 2025-12-01\n"
            "  .venv/bin/foliodb news list --symbol MSFT\n"
            "  .venv/bin/foliodb events list --min-impact 4",
            highlight=False,
        )


def _show_market(database: foliodb.Database) -> None:
    """Bars rolled up from minutes, a gap found, a calendar, a vintage, news and events."""
    first, last = demo_market.FIRST_SESSION, demo_market.LAST_SESSION
    daily = database.bars.query("AAPL", "1d", first, last)
    render.emit(
        [
            {
                "session": pd.Timestamp(ts).date(),  # type: ignore[arg-type]
                **{k: Decimal(repr(row[k])) for k in ("open", "high", "low", "close")},
                "volume": int(row["volume"]),
                "source": row["source"],
            }
            for ts, row in daily.iterrows()
        ],
        "table",
        title="AAPL daily bars rolled up from 1-minute bars (24 Dec closed early at 13:00)",
    )
    gaps = database.calendars.gaps("MSFT", "1m", first, last)
    for gap in gaps.gaps:
        render.console.print(
            f"MSFT 1m: {gaps.missing} of {gaps.expected} expected minute bars missing, "
            f"{gap.first_missing:%Y-%m-%d %H:%M} to {gap.last_missing:%H:%M} UTC ({gap.count})",
            highlight=False,
        )
    opening = database.calendars.next_open("XNYS", dt.datetime(2025, 12, 24, 18, 0, tzinfo=dt.UTC))
    render.console.print(
        f"XNYS after the Christmas Eve close: next open {opening:%Y-%m-%d %H:%M} UTC",
        highlight=False,
    )
    then = database.macro.series("GDPC1", as_of=dt.date(2024, 2, 27))
    now = database.macro.series("GDPC1")
    quarter = pd.Timestamp("2023-10-01")
    render.console.print(
        f"GDPC1 2023 Q4: {then[quarter]:,.1f} as known on 2024-02-27, {now[quarter]:,.1f} as "
        f"revised since",
        highlight=False,
    )
    for article in database.news.articles(symbol="MSFT", limit=2):
        render.console.print(f"news {article.published_at:%Y-%m-%d}: {article.title}")
    for event in database.news.events(start=first, end=last, min_impact=4):
        render.console.print(
            f"event {event.ts:%Y-%m-%d %H:%M} UTC {event.country} {event.name}: actual "
            f"{event.actual or '-'}, forecast {event.forecast or '-'}",
            highlight=False,
        )
    render.console.print()


def _show_sign_in(database: foliodb.Database) -> None:
    """The demo users get generated passwords on the first run (printed once, never a default
    one); later runs leave them alone."""
    from foliodb.services import auth, demo

    owners = sorted({spec.owner for spec in demo.PORTFOLIOS})
    fresh = []
    for email in owners:
        if not auth.get_user(database.engine, email).has_password:
            fresh.append((email, auth.set_password(database.engine, email)))
    if fresh:
        render.console.print("Server sign-in for the demo users (generated now, shown once):")
        for email, password in fresh:
            render.console.print(f"  {email}  {password}", highlight=False)
    else:
        render.console.print(
            f"Demo users {', '.join(owners)} got passwords on the first run "
            "(reset one with: foliodb user passwd EMAIL --generate)",
            highlight=False,
        )
    render.console.print(
        "  serve them: FOLIODB_SECRET_KEY=$(python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(48))') .venv/bin/foliodb serve "
        f"--db {database.url}\n",
        highlight=False,
    )
