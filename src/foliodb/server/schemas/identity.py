"""Sign-in, users, API keys and portfolio grants."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from foliodb.server.schemas.common import Schema, Text
from foliodb.services.auth import Role

#: An email address: something@somewhere, one line without blanks or control characters.
Email = Annotated[
    str,
    Field(min_length=3, max_length=320, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"),
]


class TokenPublic(Schema):
    """An access token (a short-lived JWT) and the refresh token that renews it."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class RefreshRequest(Schema):
    refresh_token: Annotated[Text, Field(min_length=1, max_length=200)]


class PrincipalPublic(Schema):
    user_id: int
    email: str
    role: Role


class UserPublic(Schema):
    user_id: int
    email: str
    role: Role
    display_name: str | None
    has_password: bool
    created_at: dt.datetime


class UserCreate(Schema):
    """A new user; without `password` one is generated and returned once."""

    email: Email
    role: Role = Role.USER
    password: Annotated[Text, Field(min_length=12, max_length=1024)] | None = None
    display_name: Annotated[Text | None, Field(max_length=200)] = None


class UserCreated(Schema):
    user_id: int
    email: str
    role: Role
    #: The generated password, shown this once (null when one was given).
    password: str | None


class ApiKeyCreate(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=100)]


class ApiKeyPublic(Schema):
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyPublic):
    #: The key, shown this once: send it as `X-API-Key`.
    secret: str


class GrantCreate(Schema):
    grantee_email: Email
    scope: Literal["read", "write"]


class GrantPublic(Schema):
    portfolio_id: int
    grantee_email: str
    scope: Literal["read", "write"]
    granted_by: str | None
    granted_at: dt.datetime
