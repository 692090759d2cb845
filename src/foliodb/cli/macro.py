"""`foliodb macro ...`: economic series as known on a date, derived indicators, regimes."""

from __future__ import annotations

import typer

app = typer.Typer(help="Economic series with vintages, and macro regimes.", no_args_is_help=True)
