"""`foliodb calendar ...`: trading sessions, open/closed, next open, per exchange."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Trading calendars of exchanges (times in local and UTC).", no_args_is_help=True
)
