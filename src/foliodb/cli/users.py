"""`foliodb user ...`: users, passwords, API keys, sharing, and the server's database role.

The CLI is the operator, who holds the database itself: it acts without signing in. No
password has a default: each is typed twice at a terminal, read from standard input
(--password-stdin), or generated and printed once (--generate).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from foliodb.cli import common, render
from foliodb.cli.common import DbOption, FormatOption, OutputFormat, OwnerOption, handles_errors
from foliodb.errors import InputError
from foliodb.services import auth

app = typer.Typer(
    help="Users, passwords, API keys and sharing (docs/security.md).", no_args_is_help=True
)
api_key_app = typer.Typer(help="API keys for scripts: shown once, stored hashed.")
app.add_typer(api_key_app, name="api-key", no_args_is_help=True)

PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]
GenerateOption = Annotated[
    bool, typer.Option("--generate", help="Generate a strong password and print it once.")
]
UserOption = Annotated[str, typer.Option("--user", help="The key owner's email.")]
ONCE = "(shown once: store it now)"


def _password(from_stdin: bool, generate: bool) -> str | None:
    """The password the operator gives; None asks the service to generate one."""
    if from_stdin and generate:
        raise InputError("--password-stdin and --generate exclude each other")
    if generate:
        return None
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("--password-stdin: standard input has no password")
        return password
    if sys.stdin.isatty():
        typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return typed
    raise InputError("no password: type it at a terminal, or pass --password-stdin or --generate")


def _print_secret(label: str, secret: str) -> None:
    render.console.print(f"{label}: {secret} {ONCE}", highlight=False, soft_wrap=True)


@app.command("create")
@handles_errors
def user_create(
    email: str,
    role: Annotated[str, typer.Option("--role", help="ADMIN, MANAGER, USER or VIEWER.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    password_stdin: PasswordStdinOption = False,
    generate: GenerateOption = False,
    db: DbOption = None,
) -> None:
    """Create a user who can sign in to the server."""
    password = _password(password_stdin, generate)
    with common.open_db(db) as database:
        principal, generated = auth.create_user(
            database.engine, email, role, password, display_name=name
        )
    render.console.print(f"created user {principal.email} ({principal.role})", highlight=False)
    if generated:
        _print_secret("password", generated)


@app.command("list")
@handles_errors
def user_list(db: DbOption = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List users."""
    with common.open_db(db) as database:
        render.emit(auth.list_users(database.engine), fmt.value, title="Users")


@app.command("set-role")
@handles_errors
def user_set_role(
    email: str,
    role: Annotated[str, typer.Argument(help="ADMIN, MANAGER, USER or VIEWER.")],
    db: DbOption = None,
) -> None:
    """Change a user's role (it applies to their next request)."""
    with common.open_db(db) as database:
        info = auth.set_role(database.engine, email, role)
    render.console.print(f"{info.email} is now {info.role}", highlight=False)


@app.command("passwd")
@handles_errors
def user_passwd(
    email: str,
    password_stdin: PasswordStdinOption = False,
    generate: GenerateOption = False,
    db: DbOption = None,
) -> None:
    """Set a user's password; their sign-ins (refresh tokens) are revoked."""
    password = _password(password_stdin, generate)
    with common.open_db(db) as database:
        generated = auth.set_password(database.engine, email, password)
    render.console.print(f"password of {email.strip().lower()} set", highlight=False)
    if generated:
        _print_secret("password", generated)


# --- API keys ---------------------------------------------------------------------------------
@api_key_app.command("create")
@handles_errors
def api_key_create(name: str, user: UserOption, db: DbOption = None) -> None:
    """Create an API key (send it as `Authorization: Bearer fdb_...`)."""
    with common.open_db(db) as database:
        principal = auth.get_user(database.engine, user).principal
        info, secret = auth.create_api_key(database.engine, principal, name)
    _print_secret(f"API key {info.id} {info.name!r} of {principal.email}", secret)


@api_key_app.command("list")
@handles_errors
def api_key_list(
    user: UserOption, db: DbOption = None, fmt: FormatOption = OutputFormat.TABLE
) -> None:
    """List a user's API keys (never their secrets)."""
    with common.open_db(db) as database:
        principal = auth.get_user(database.engine, user).principal
        keys = auth.list_api_keys(database.engine, principal)
    render.emit(keys, fmt.value, title=f"API keys of {principal.email}")


@api_key_app.command("revoke")
@handles_errors
def api_key_revoke(key_id: int, user: UserOption, db: DbOption = None) -> None:
    """Revoke an API key of the user's."""
    with common.open_db(db) as database:
        principal = auth.get_user(database.engine, user).principal
        info = auth.revoke_api_key(database.engine, principal, key_id)
    render.console.print(f"API key {info.id} {info.name!r} revoked", highlight=False)


# --- sharing ----------------------------------------------------------------------------------
@app.command("share")
@handles_errors
def user_share(
    portfolio: str,
    email: str,
    scope: Annotated[str, typer.Option("--scope", help="read or write.")],
    owner: OwnerOption = None,
    db: DbOption = None,
) -> None:
    """Share a portfolio with a user (on behalf of its owner); again to change the scope."""
    with common.open_db(db) as database:
        portfolio_id, owner_principal = auth.find_portfolio(database.engine, portfolio, owner)
        info = auth.grant(database.engine, owner_principal, portfolio_id, email, scope)
    render.console.print(
        f"{portfolio} shared with {info.grantee_email} to {info.scope}", highlight=False
    )


@app.command("unshare")
@handles_errors
def user_unshare(
    portfolio: str, email: str, owner: OwnerOption = None, db: DbOption = None
) -> None:
    """Stop sharing a portfolio with a user."""
    with common.open_db(db) as database:
        portfolio_id, owner_principal = auth.find_portfolio(database.engine, portfolio, owner)
        auth.revoke_grant(database.engine, owner_principal, portfolio_id, email)
    render.console.print(f"{portfolio} no longer shared with {email}", highlight=False)


@app.command("shares")
@handles_errors
def user_shares(
    portfolio: str,
    owner: OwnerOption = None,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Who a portfolio is shared with."""
    with common.open_db(db) as database:
        portfolio_id, owner_principal = auth.find_portfolio(database.engine, portfolio, owner)
        grants = auth.list_grants(database.engine, owner_principal, portfolio_id)
    render.emit(grants, fmt.value, title=f"{portfolio} is shared with")


# --- the server's database role ---------------------------------------------------------------
@app.command("create-app-role")
@handles_errors
def user_create_app_role(
    name: str,
    password_stdin: PasswordStdinOption = False,
    generate: GenerateOption = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Without a password (peer or cert auth).")
    ] = False,
    db: DbOption = None,
) -> None:
    """PostgreSQL: create the role the server connects as. It uses the tables but neither
    owns them nor bypasses row-level security. Run as the tables' owner."""
    if no_password and (password_stdin or generate):
        raise InputError("--no-password excludes --password-stdin and --generate")
    password = None if no_password else _password(password_stdin, generate)
    generated = auth.generate_password() if generate else None
    with common.open_db(db) as database:
        auth.create_app_role(database.engine, name, generated or password)
    render.console.print(
        f"created database role {name} (LOGIN, NOBYPASSRLS, not the tables' owner)",
        highlight=False,
    )
    if generated:
        _print_secret("password", generated)
