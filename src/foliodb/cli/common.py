"""What every `foliodb` command module shares: the --db, --format, --owner and --source
options, error handling, opening the database and parsing dates."""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

import foliodb
from foliodb.cli import render
from foliodb.database import Database
from foliodb.errors import FoliodbError, InputError


class _State:
    """`foliodb --db URL COMMAND`: the default database of every command."""

    db: str | None = None


state = _State()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a URL (sqlite:///PATH, postgresql://USER@HOST/DB) or an SQLite file "
        "path. Default $FOLIODB_DATABASE_URL, else ~/.local/share/foliodb/foliodb.db.",
        show_default=False,
    ),
]


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


SourceOption = Annotated[
    str | None, typer.Option("--source", help="Where the data came from, stored with each row.")
]
OwnerOption = Annotated[
    str | None,
    typer.Option("--owner", help="Owner's email, when several users have this portfolio name."),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(func: F) -> F:
    """Turn foliodb's errors into a red message and exit code 1 (2 for bad input)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            render.error(str(exc))
            raise typer.Exit(2) from exc
        except FoliodbError as exc:
            render.error(str(exc))
            raise typer.Exit(1) from exc

    return wrapper  # type: ignore[return-value]


def url(db: str | None) -> str | None:
    """The database named after the command, else before it, else the configured one."""
    return db or state.db


def open_db(db: str | None, create: bool = False) -> Database:
    return foliodb.connect(url(db), create=create)


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date (expected YYYY-MM-DD)") from None
