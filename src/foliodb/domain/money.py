"""Exact decimal money: D() is the only way a number enters the ledger."""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import Decimal

# 34 significant digits (IEEE decimal128) keeps every division far below a cent's noise.
CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)
# Replay adds and subtracts in this context: sums and differences are exact, so the slices a
# lot is cut into add back up to it to the last digit (at 34 digits, 1000 - 0.0333...3 rounds
# and cost basis leaks). Only div() and mul() round; anything else that would is an error.
EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.Inexact],
)
ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")


def D(value: str | int | Decimal) -> Decimal:
    """Make an exact Decimal; floats are refused because they are not exact."""
    if isinstance(value, float):
        raise TypeError("floats are not exact; pass a string or a Decimal")
    return value if isinstance(value, Decimal) else Decimal(value)


def div(a: Decimal, b: Decimal) -> Decimal:
    """Divide at 34 significant digits, whatever the ambient decimal context."""
    return CONTEXT.divide(a, b)


def mul(a: Decimal, b: Decimal) -> Decimal:
    """Multiply at 34 significant digits (exact for all amounts a ledger holds)."""
    return CONTEXT.multiply(a, b)


def normalize(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation for integers; every digit
    is kept (exports carry exact values) and integers of any size are fine."""
    if value == 0:
        return ZERO
    n = value.normalize(EXACT)
    return n.quantize(ONE, context=EXACT) if n == n.to_integral_value() else n


def total(values: Iterable[Decimal]) -> Decimal:
    """The exact sum, whatever the ambient decimal context (which may round at 28 digits)."""
    result = ZERO
    for value in values:
        result = EXACT.add(result, value)
    return result


def quantize(value: Decimal, places: int = 2) -> Decimal:
    """Round half-even to `places` decimals, for display only."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN)
