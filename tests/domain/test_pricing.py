"""FX lookups inside one pack: direct, inverse, triangulated, or a clear refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from foliodb.domain.money import D
from foliodb.domain.pricing import FxTable, price_index
from foliodb.domain.types import FxRate, PackPrice
from foliodb.errors import FoliodbError, FxRateMissingError

ON = dt.date(2024, 6, 28)


def table(*quotes: tuple[str, str, str], pack_id: str | None = "pack-2024-06-28") -> FxTable:
    """A pack's rates from (base, quote, rate) triples: one `base` buys `rate` of `quote`."""
    return FxTable([FxRate(base, quote, D(rate), ON) for base, quote, rate in quotes], pack_id)


def test_a_direct_rate_is_used_as_quoted() -> None:
    assert table(("EUR", "USD", "1.08")).rate("EUR", "USD") == D("1.08")


def test_an_inverse_rate_is_one_over_the_quoted_pair() -> None:
    # USD/CHF 0.80 quoted, so one franc buys 1 / 0.80 = 1.25 dollars.
    assert table(("USD", "CHF", "0.80")).rate("CHF", "USD") == D("1.25")


def test_a_direct_quote_wins_over_the_inverse_of_its_reverse() -> None:
    # Both directions quoted (and slightly inconsistent): the asked direction is used.
    fx = table(("EUR", "USD", "1.08"), ("USD", "EUR", "0.92"))
    assert fx.rate("EUR", "USD") == D("1.08")
    assert fx.rate("USD", "EUR") == D("0.92")


def test_a_missing_cross_is_triangulated_through_usd() -> None:
    # CHF -> USD is 1 / 0.80 = 1.25 (an inverse leg), USD -> JPY 150: CHF/JPY = 187.5.
    fx = table(("USD", "CHF", "0.80"), ("USD", "JPY", "150"))
    assert fx.rate("CHF", "JPY") == D("187.5")


def test_a_missing_cross_is_triangulated_through_eur_when_usd_has_no_path() -> None:
    # No GBP or SEK rate against USD; GBP/EUR 1.20 x EUR/SEK 11.5 = GBP/SEK 13.8.
    fx = table(("GBP", "EUR", "1.20"), ("EUR", "SEK", "11.5"), ("USD", "JPY", "150"))
    assert fx.rate("GBP", "SEK") == D("13.8")


def test_usd_is_tried_before_eur_as_the_pivot() -> None:
    # Two paths that disagree: via USD 1.25 x 10 = 12.5, via EUR 1.20 x 11.5 = 13.8.
    fx = table(
        ("GBP", "USD", "1.25"), ("USD", "SEK", "10"), ("GBP", "EUR", "1.20"), ("EUR", "SEK", "11.5")
    )
    assert fx.rate("GBP", "SEK") == D("12.5")


def test_usd_itself_converts_through_eur_when_it_has_no_direct_rate() -> None:
    # USD -> EUR is 1 / 1.25 = 0.8 (inverse of EUR/USD), EUR -> SEK 11.5: 0.8 x 11.5 = 9.2.
    fx = table(("EUR", "USD", "1.25"), ("EUR", "SEK", "11.5"))
    assert fx.rate("USD", "SEK") == D("9.2")


def test_a_currency_converts_to_itself_at_one_even_with_no_rates() -> None:
    fx = table()
    assert fx.rate("NZD", "NZD") == D("1")
    assert fx.has("NZD", "NZD")


def test_a_missing_pair_raises_naming_both_currencies_and_the_pack() -> None:
    fx = table(("EUR", "USD", "1.08"), ("GBP", "JPY", "190"), pack_id="pack-2024-06-28")
    with pytest.raises(FxRateMissingError) as caught:
        fx.rate("GBP", "NZD")
    error = caught.value
    assert (error.base, error.quote, error.pack_id) == ("GBP", "NZD", "pack-2024-06-28")
    assert "GBP/NZD" in str(error)
    assert "pack-2024-06-28" in str(error)
    assert isinstance(error, FoliodbError)
    assert isinstance(error, LookupError)
    assert not fx.has("GBP", "NZD")
    assert fx.has("EUR", "USD")


def test_a_missing_pair_outside_any_pack_says_so_without_a_pack_id() -> None:
    with pytest.raises(FxRateMissingError, match=r"^no FX rate for CAD/AUD: "):
        table(pack_id=None).rate("CAD", "AUD")


def test_price_index_finds_prices_by_symbol() -> None:
    acme = PackPrice("ACME", D("101.25"), "USD", ON)
    index = price_index([acme, PackPrice("XYZ", D("7"), "EUR", ON)])
    assert index["ACME"] is acme
    assert set(index) == {"ACME", "XYZ"}
