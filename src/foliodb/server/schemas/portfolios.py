"""Portfolios, accounts and securities."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, field_validator

from foliodb.domain.types import BookingMethod, SecurityType
from foliodb.server.schemas.common import Schema, Text

Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", examples=["USD"])]
Symbol = Annotated[Text, Field(min_length=1, max_length=64, examples=["AAPL"])]


class PortfolioCreate(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    base_currency: Currency = "USD"
    booking_method: BookingMethod = BookingMethod.FIFO


class PortfolioUpdate(Schema):
    """Fields to change; `benchmark: null` removes the benchmark."""

    name: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    benchmark: Symbol | None = None

    @field_validator("name")
    @classmethod
    def _named(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("a portfolio keeps a name: give a new one, or leave it out")
        return value


class PortfolioPublic(Schema):
    id: int
    name: str
    owner: str
    base_currency: str
    booking_method: str
    transaction_count: int
    ledger_version: int
    benchmark: str | None
    created_at: dt.datetime


class AccountCreate(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    broker: Annotated[Text, Field(max_length=200)] | None = None
    account_number: Annotated[Text, Field(max_length=64)] | None = None


class AccountUpdate(Schema):
    broker: Annotated[Text, Field(max_length=200)] | None = None
    account_number: Annotated[Text, Field(max_length=64)] | None = None


class AccountPublic(Schema):
    id: int
    name: str
    broker: str | None
    account_number: str | None


class SecurityCreate(Schema):
    symbol: Symbol
    currency: Currency
    name: Annotated[Text, Field(max_length=200)] = ""
    type: SecurityType = SecurityType.EQUITY
    exchange: Annotated[Text, Field(max_length=16)] | None = None
    sector: Annotated[Text, Field(max_length=64)] | None = None
    country: Annotated[Text, Field(max_length=2)] | None = None


class SecurityPublic(Schema):
    symbol: str
    currency: str
    name: str
    type: SecurityType
    exchange: str | None
    sector: str | None
    country: str | None
