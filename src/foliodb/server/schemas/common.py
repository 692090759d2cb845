"""What every schema module shares: the base model, exact decimals, text, pages, problems."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from foliodb.domain.money import normalize

T = TypeVar("T")


class Schema(BaseModel):
    """Unknown fields are refused; answers are built from the services' dataclasses."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


def _decimal_text(value: Decimal) -> str:
    return str(normalize(value))


#: An exact decimal: accepted as a JSON string or number, always answered as a string (a
#: float would lose digits), without trailing zeros, as the CLI's JSON writes it.
Exact = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(_decimal_text, return_type=str, when_used="json"),
]

#: Text from a client: no control characters but tabs and line breaks (PostgreSQL refuses NUL
#: in text). A pattern also makes the validator refuse lone surrogates, which no database
#: can store.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
#: A name of something (a symbol, code, id) as a path segment or query value: one line.
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NAME_PATTERN)]
#: Largest id a database integer key holds.
MAX_ID = 2**31 - 1
#: A date a calendar can hold on both engines.
Day = dt.date


class Page(Schema, Generic[T]):
    """One page of a longer list: `count` is the whole list's length; `next_cursor`, where
    given, continues after the page's last item."""

    data: list[T]
    count: int
    next_cursor: str | None = None


class ProblemItem(Schema):
    field: str | None
    message: str
    value: Any = None
    line: int | None = None
    expected: str | None = None


class Problem(Schema):
    """RFC 9457 problem details, the body of every error answer."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemItem]


#: The documented error answers of every route (the body is application/problem+json).
def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "The body could not be read (not UTF-8, a broken multipart form)",
        401: "Not signed in, or the token or API key is not valid",
        403: "Signed in, but not allowed to do this",
        404: "No such resource, or not one this user may see",
        409: "Conflicts with what is stored",
        413: "The request body is too large",
        422: "The request is not valid; `errors` lists every bad field",
        429: "Too many attempts; retry after `Retry-After` seconds",
    }
    return {
        status: {
            "model": Problem,
            "description": described.get(status, "Error"),
            "content": {"application/problem+json": {}},
        }
        for status in statuses
    }
