"""Lookups inside one pricing pack: prices by symbol and FX by direct, inverse or pivot rate."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from foliodb.domain.money import ONE, div, mul
from foliodb.domain.types import Currency, FxRate, PackId, PackPrice
from foliodb.errors import FxRateMissingError

#: Pivot currencies tried, in order, when neither the pair nor its inverse is quoted.
PIVOTS: tuple[Currency, ...] = ("USD", "EUR")


class FxTable:
    """Rates of one pack. `rate(a, b)` is how many units of `b` one unit of `a` buys."""

    def __init__(self, rates: Iterable[FxRate], pack_id: PackId | None = None) -> None:
        self.pack_id = pack_id
        quotes = {(r.base, r.quote): r for r in rates}
        # A pair quoted both ways keeps only its newer quote (a carried-forward or trade-date
        # table mixes dates): a years-old USD/CAD must not win over today's CAD/USD.
        self._direct: dict[tuple[Currency, Currency], Decimal] = {
            (base, quote): r.rate
            for (base, quote), r in quotes.items()
            if (inverse := quotes.get((quote, base))) is None or inverse.rate_date <= r.rate_date
        }

    def _one_step(self, base: Currency, quote: Currency) -> Decimal | None:
        if base == quote:
            return ONE
        direct = self._direct.get((base, quote))
        if direct is not None:
            return direct
        inverse = self._direct.get((quote, base))
        return div(ONE, inverse) if inverse is not None else None

    def rate(self, base: Currency, quote: Currency) -> Decimal:
        """Direct pair, else its inverse, else triangulated through USD then EUR."""
        found = self._one_step(base, quote)
        if found is not None:
            return found
        for pivot in PIVOTS:
            if pivot in (base, quote):
                continue
            first, second = self._one_step(base, pivot), self._one_step(pivot, quote)
            if first is not None and second is not None:
                return mul(first, second)
        raise FxRateMissingError(base, quote, self.pack_id)

    def has(self, base: Currency, quote: Currency) -> bool:
        try:
            self.rate(base, quote)
        except FxRateMissingError:
            return False
        return True


def price_index(prices: Iterable[PackPrice]) -> dict[str, PackPrice]:
    return {p.symbol: p for p in prices}
