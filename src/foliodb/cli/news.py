"""`foliodb news ...` and `foliodb events ...`: import and query articles and events."""

from __future__ import annotations

import typer

news_app = typer.Typer(help="News articles: import and query.", no_args_is_help=True)
events_app = typer.Typer(help="Economic calendar events: import and query.", no_args_is_help=True)
