"""`foliodb data ...`: import OHLCV bars, query them, roll-ups, retention."""

from __future__ import annotations

import typer

app = typer.Typer(help="Market data: OHLCV bars, roll-ups, gaps, retention.", no_args_is_help=True)
