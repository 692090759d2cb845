"""The demo's market data: one-minute bars for three US stocks over the last sessions of 2025
(Christmas Eve's early close included, and one deliberate hole), exchange calendars, two
economic series (one with vintages), news and economic events.

The minute bars of each session run from the previous daily close to the session's daily close
of the demo prices (a Brownian bridge), so the daily bars rolled up from them close exactly
where the demo's prices do.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from foliodb.services import bars, calendars, macro, news

BAR_SYMBOLS = ("AAPL", "MSFT", "JNJ")
EXCHANGES = ("XNYS", "XNAS", "XTSE")
FIRST_SESSION = dt.date(2025, 12, 22)
LAST_SESSION = dt.date(2025, 12, 31)
#: The minutes MSFT has no bar for, so `foliodb data gaps` has something to find.
HOLE = (dt.datetime(2025, 12, 29, 15, 0, tzinfo=dt.UTC), 15)

# Real GDP (GDPC1) as published in three vintages (the example of docs/macro.md).
GDP_VINTAGES = """# code: GDPC1
# title: Real Gross Domestic Product
# frequency: Quarterly
# units: Billions of Chained 2017 Dollars
# seasonal_adjustment: SAAR
# source: BEA
observation_date,GDPC1_20240125,GDPC1_20240228,GDPC1_20240328
2023-07-01,22506.5,22506.5,22490.7
2023-10-01,22672.9,22679.3,22679.2
2024-01-01,.,.,22768.9
"""


@dataclass(frozen=True)
class MarketSummary:
    bars_loaded: int
    rolled_up: int
    exchanges: tuple[str, ...]
    series: tuple[str, ...]
    articles: int
    events: int


def write_files(
    directory: Path, closes: dict[str, dict[dt.date, Decimal]], seed: int
) -> dict[str, Path]:
    """Write the demo's market-data files; `closes` are the demo's daily prices by symbol."""
    rng = random.Random(seed + 1)  # noqa: S311 (a reproducible demo, not secrets)
    files = {
        "bars": directory / "bars-1m.csv",
        "gdp": directory / "macro-gdpc1-vintages.csv",
        "rates": directory / "macro-rates.csv",
        "news": directory / "news.json",
        "events": directory / "events.csv",
    }
    _write_bars(files["bars"], closes, rng)
    files["gdp"].write_text(GDP_VINTAGES)
    _write_rates(files["rates"], rng)
    _write_news(files["news"])
    _write_events(files["events"])
    return files


def load(
    engine: Engine, directory: Path, closes: dict[str, dict[dt.date, Decimal]], seed: int
) -> MarketSummary:
    """Seed the calendars, then import the files (every import is idempotent)."""
    calendar = calendars.Calendars(engine)
    calendar.seed(list(EXCHANGES), dt.date(2023, 1, 1), dt.date(2026, 12, 31))
    files = write_files(directory, closes, seed)
    loaded = bars.Bars(engine).import_files([files["bars"]], "1m", source="demo")
    economy = macro.Macro(engine)
    economy.import_files([files["gdp"]])
    economy.import_files(
        [files["rates"]], source="demo", known_since=dt.date(2023, 1, 2), frequency="Daily"
    )
    wire = news.News(engine)
    articles = wire.import_articles([files["news"]])
    events = wire.import_events([files["events"]])
    return MarketSummary(
        bars_loaded=loaded.inserted,
        rolled_up=sum(r.written for r in loaded.rollups),
        exchanges=EXCHANGES,
        series=("GDPC1", "DGS10", "DGS2"),
        articles=articles.inserted,
        events=events.inserted,
    )


def _sessions() -> list[tuple[dt.date, dt.datetime, int]]:
    """(session date, open in UTC, minutes) of XNYS from FIRST_SESSION to LAST_SESSION: 09:30
    to 16:00 New York time (EST), Christmas Day closed, Christmas Eve closing at 13:00."""
    out = []
    day = FIRST_SESSION
    while day <= LAST_SESSION:
        if day.weekday() < 5 and day != dt.date(2025, 12, 25):
            opening = dt.datetime.combine(day, dt.time(14, 30), tzinfo=dt.UTC)  # 09:30 EST
            minutes = 210 if day == dt.date(2025, 12, 24) else 390  # early close at 13:00
            out.append((day, opening, minutes))
        day += dt.timedelta(days=1)
    return out


def _write_bars(path: Path, closes: dict[str, dict[dt.date, Decimal]], rng: random.Random) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["symbol", "ts", "open", "high", "low", "close", "volume"])
        for symbol in BAR_SYMBOLS:
            series = closes[symbol]
            previous = float(series[max(d for d in series if d < FIRST_SESSION)])
            for day, opening, minutes in _sessions():
                close = float(series.get(day, Decimal(str(previous))))
                path_ = _bridge(rng, previous, close, minutes)
                for i in range(minutes):
                    ts = opening + dt.timedelta(minutes=i)
                    if symbol == "MSFT" and HOLE[0] <= ts < HOLE[0] + dt.timedelta(minutes=HOLE[1]):
                        continue
                    o, c = path_[i], path_[i + 1]
                    wiggle = abs(rng.gauss(0, 0.0004)) * o
                    writer.writerow(
                        [
                            symbol,
                            ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            f"{o:.2f}",
                            f"{max(o, c) + wiggle:.2f}",
                            f"{min(o, c) - wiggle:.2f}",
                            f"{c:.2f}",
                            rng.randint(5_000, 60_000),
                        ]
                    )
                previous = close


def _bridge(rng: random.Random, start: float, end: float, steps: int) -> list[float]:
    """A log-price Brownian bridge from `start` to `end` in `steps` minutes (steps + 1 points,
    the last exactly `end` once rounded to cents)."""
    walk = [0.0]
    for _ in range(steps):
        walk.append(walk[-1] + rng.gauss(0, 0.0006))
    drift = math.log(end / start) - walk[-1]
    points = [start * math.exp(w + drift * i / steps) for i, w in enumerate(walk)]
    points[-1] = end
    return points


def _write_rates(path: Path, rng: random.Random) -> None:
    """Daily 10-year and 2-year yields for 2025 (a demo path, not published values)."""
    ten, two = 4.57, 4.25
    with path.open("w", newline="") as f:
        f.write("# title: Treasury yields (demo path)\n# units: Percent\n")
        writer = csv.writer(f)
        writer.writerow(["observation_date", "DGS10", "DGS2"])
        day = dt.date(2025, 1, 2)
        while day <= LAST_SESSION:
            if day.weekday() < 5:
                ten = max(0.5, ten + rng.gauss(-0.001, 0.045))
                two = max(0.5, two + rng.gauss(-0.003, 0.05))
                writer.writerow([day.isoformat(), f"{ten:.2f}", f"{two:.2f}"])
            day += dt.timedelta(days=1)


ARTICLES = [
    (
        "https://news.example.com/demo/2025/12/22/apple-year-end",
        "Apple heads into year-end near record high",
        "2025-12-22T15:10:00-05:00",
        ["AAPL"],
    ),
    (
        "https://news.example.com/demo/2025/12/24/half-day",
        "US stocks close early on Christmas Eve in thin trading",
        "2025-12-24T13:20:00-05:00",
        ["AAPL", "MSFT", "JNJ"],
    ),
    (
        "https://news.example.com/demo/2025/12/29/microsoft-cloud",
        "Microsoft cloud deals lift software shares",
        "2025-12-29T11:05:00-05:00",
        ["MSFT"],
    ),
    (
        "https://news.example.com/demo/2025/12/30/jnj-pipeline",
        "Johnson & Johnson outlines 2026 drug pipeline",
        "2025-12-30T08:45:00-05:00",
        ["JNJ"],
    ),
]


def _write_news(path: Path) -> None:
    records = [
        {
            "url": url,
            "title": title,
            "source": "Demo Wire",
            "author": None,
            "published_at": published,
            "summary": None,
            "symbols": symbols,
        }
        for url, title, published, symbols in ARTICLES
    ]
    path.write_text(json.dumps(records, indent=2))


EVENTS = [
    (
        "2025-12-23",
        "08:30",
        "GDP q/q (third estimate)",
        "US",
        "USD",
        "high",
        "4.3%",
        "3.3%",
        "3.8%",
    ),
    ("2025-12-23", "08:30", "GDP m/m", "CA", "CAD", "medium", "0.2%", "0.1%", "-0.3%"),
    ("2025-12-24", "08:30", "Unemployment Claims", "US", "USD", "medium", "214K", "224K", "224K"),
    ("2025-12-25", "", "Christmas Day", "US", "USD", "holiday", "", "", ""),
    ("2025-12-30", "14:00", "FOMC Meeting Minutes", "US", "USD", "high", "", "", ""),
    ("2025-12-31", "08:30", "Unemployment Claims", "US", "USD", "medium", "199K", "220K", "214K"),
]


def _write_events(path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "date",
                "time",
                "timezone",
                "name",
                "country",
                "currency",
                "impact",
                "actual",
                "forecast",
                "previous",
            ]
        )
        for day, time, name, country, currency, impact, actual, forecast, previous in EVENTS:
            zone = "America/Toronto" if country == "CA" else "America/New_York"
            writer.writerow(
                [day, time, zone, name, country, currency, impact, actual, forecast, previous]
            )
