"""Who is asking: roles, principals, share scopes and access levels, and the parsers that
turn an email, a role or a scope given at the edge into them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from foliodb.errors import InputError, InputProblem


class Role(StrEnum):
    ADMIN = "ADMIN"  # everything, user management included
    MANAGER = "MANAGER"  # own portfolios; those shared with them per scope; re-shares on write
    USER = "USER"  # own portfolios; those shared with them per scope
    VIEWER = "VIEWER"  # reads what is shared with them (or theirs), never writes


@dataclass(frozen=True)
class Principal:
    """Who is asking, as established by a password, an access token or an API key."""

    user_id: int
    email: str
    role: Role


Scope = Literal["read", "write"]
Access = Literal["owner", "write", "read"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def parse_email(value: str) -> str:
    """An email address, trimmed and lower-cased; anything else is an InputError."""
    email = value.strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 320:
        raise InputError(
            InputProblem(
                "is not an email address",
                field="email",
                value=value,
                expected="an address such as alice@example.com",
            )
        )
    return email


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).upper())
    except ValueError:
        raise InputError(
            InputProblem(
                "is not a role",
                field="role",
                value=str(value),
                expected=", ".join(r.value for r in Role),
            )
        ) from None


def parse_scope(value: str) -> Scope:
    scope = value.strip().lower()
    if scope == "read":
        return "read"
    if scope == "write":
        return "write"
    raise InputError(
        InputProblem("is not a scope", field="scope", value=value, expected="read or write")
    )
