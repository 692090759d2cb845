"""Valuation at a pack, checked against hand-worked two-currency portfolios."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from foliodb.domain import ledger, valuation
from foliodb.domain.money import D
from foliodb.domain.types import (
    FxRate,
    LedgerState,
    PackPrice,
    PackStatus,
    PricingPack,
    Transaction,
)
from foliodb.errors import FxRateMissingError, PriceMissingError
from tests.domain.builders import buy, deposit, sell_short

ON = dt.date(2024, 6, 28)
EXACT = decimal.Context(prec=decimal.MAX_PREC, traps=[decimal.Inexact])


def pack(
    prices: dict[str, tuple[str, str]], rates: dict[tuple[str, str], str], pack_id: str = "pk-0628"
) -> PricingPack:
    """A sealed pack from {symbol: (price, currency)} and {(base, quote): rate}."""
    return PricingPack(
        pack_id=pack_id,
        date=ON,
        status=PackStatus.COMPLETE,
        prices=tuple(PackPrice(s, D(p), c, ON) for s, (p, c) in prices.items()),
        fx_rates=tuple(FxRate(b, q, D(r), ON) for (b, q), r in rates.items()),
    )


def replayed(*transactions: Transaction) -> LedgerState:
    return ledger.replay(transactions)


# A Canadian investor: 1500 USD and 420 CAD deposited, 10 XYZ bought at 100 USD when one
# dollar cost 1.30 CAD (1000 USD = 1300 CAD), leaving 500 USD. Today XYZ is 120 USD and a
# dollar costs 1.40 CAD.
CAD_INVESTOR = (
    deposit("d1", "2024-01-02", "1500", "USD"),
    deposit("d2", "2024-01-02", "420", "CAD"),
    buy("b1", "2024-01-03", "XYZ", "10", "100", fx_rate="1.30"),
)
TODAY = pack({"XYZ": ("120", "USD")}, {("USD", "CAD"): "1.40"})


def test_a_foreign_holding_is_valued_at_todays_price_and_fx() -> None:
    result = valuation.value("rrsp", "CAD", replayed(*CAD_INVESTOR), TODAY)
    [xyz] = result.positions
    # 10 x 120 = 1200 USD; x 1.40 = 1680 CAD.
    assert (xyz.symbol, xyz.currency, xyz.quantity, xyz.price) == ("XYZ", "USD", D("10"), D("120"))
    assert xyz.price_date == ON
    assert xyz.market_value == D("1200")
    assert xyz.fx_rate == D("1.40")
    assert xyz.market_value_base == D("1680")
    # Cost at the trade-date rate: 1000 USD, 1300 CAD.
    assert (xyz.cost_basis, xyz.cost_basis_base) == (D("1000"), D("1300"))


def test_unrealized_pnl_splits_into_price_and_currency_effects() -> None:
    result = valuation.value("rrsp", "CAD", replayed(*CAD_INVESTOR), TODAY)
    [xyz] = result.positions
    # 1680 - 1300 = 380 CAD in all:
    #   price effect    (1200 - 1000) USD x 1.40      = 280 CAD
    #   currency effect 1000 USD x (1.40 - 1.30)      = 100 CAD
    assert xyz.unrealized_pnl_base == D("380")
    assert xyz.price_effect_base == D("280")
    assert xyz.currency_effect_base == D("100")
    with decimal.localcontext(EXACT):
        assert xyz.price_effect_base + xyz.currency_effect_base == xyz.unrealized_pnl_base
    assert (result.unrealized_pnl_base, result.price_effect_base, result.currency_effect_base) == (
        D("380"),
        D("280"),
        D("100"),
    )
    assert result.cost_basis_base == D("1300")


def test_weights_of_holdings_and_cash_sum_to_one() -> None:
    result = valuation.value("rrsp", "CAD", replayed(*CAD_INVESTOR), TODAY)
    # XYZ 1680 CAD; cash 500 USD x 1.40 = 700 CAD and 420 CAD: total 2800 CAD.
    assert result.securities_value == D("1680")
    assert result.cash_value == D("1120")
    assert result.total_value == D("2800")
    # 1680 / 2800 = 0.6, 420 / 2800 = 0.15, 700 / 2800 = 0.25.
    assert result.positions[0].weight == D("0.6")
    assert [(c.currency, c.balance, c.fx_rate, c.value_base, c.weight) for c in result.cash] == [
        ("CAD", D("420"), D("1"), D("420"), D("0.15")),
        ("USD", D("500"), D("1.40"), D("700"), D("0.25")),
    ]
    with decimal.localcontext(EXACT):
        weights = [p.weight for p in result.positions] + [c.weight for c in result.cash]
        assert sum(weights, D(0)) == 1
    assert (result.portfolio, result.base_currency, result.pack_id, result.date) == (
        "rrsp",
        "CAD",
        "pk-0628",
        ON,
    )


def test_currency_effect_uses_the_average_trade_date_rate_of_the_cost() -> None:
    state = replayed(
        buy("b1", "2024-01-03", "XYZ", "10", "100", fx_rate="1.30"),
        buy("b2", "2024-02-03", "XYZ", "10", "100", fx_rate="1.20"),
    )
    result = valuation.value(
        "rrsp", "CAD", state, pack({"XYZ": ("110", "USD")}, {("USD", "CAD"): "1.40"})
    )
    [xyz] = result.positions
    # Cost 2000 USD = 1300 + 1200 = 2500 CAD, an average rate of 1.25.
    # Worth 20 x 110 = 2200 USD = 3080 CAD: 580 CAD of P&L, of which
    #   price    (2200 - 2000) x 1.40   = 280
    #   currency 2000 x (1.40 - 1.25)   = 300
    assert xyz.cost_basis_base == D("2500")
    assert xyz.market_value_base == D("3080")
    assert (xyz.unrealized_pnl_base, xyz.price_effect_base, xyz.currency_effect_base) == (
        D("580"),
        D("280"),
        D("300"),
    )


def test_a_short_position_is_valued_negative() -> None:
    state = replayed(sell_short("ss1", "2024-01-03", "ABC", "5", "40", fx_rate="1.30"))
    result = valuation.value(
        "margin", "CAD", state, pack({"ABC": ("30", "USD")}, {("USD", "CAD"): "1.40"})
    )
    [abc] = result.positions
    # Short 5 at 40: 200 USD received, cost basis -200 USD = -260 CAD. Now -5 x 30 = -150 USD
    # = -210 CAD, so 50 CAD gained: price (-150 + 200) x 1.40 = 70, currency -200 x 0.10 = -20.
    assert (abc.quantity, abc.market_value, abc.market_value_base) == (
        D("-5"),
        D("-150"),
        D("-210"),
    )
    assert (abc.cost_basis, abc.cost_basis_base) == (D("-200"), D("-260"))
    assert (abc.unrealized_pnl_base, abc.price_effect_base, abc.currency_effect_base) == (
        D("50"),
        D("70"),
        D("-20"),
    )
    # The 200 USD received is 280 CAD of cash: total 280 - 210 = 70, so the short weighs
    # -210 / 70 = -3 and the cash 280 / 70 = 4.
    assert result.total_value == D("70")
    assert abc.weight == D("-3")
    assert [c.weight for c in result.cash] == [D("4")]


def test_a_holding_in_the_base_currency_needs_no_fx_rate() -> None:
    state = replayed(buy("b1", "2024-01-03", "SHOP", "4", "50", currency="CAD"))
    result = valuation.value("tfsa", "CAD", state, pack({"SHOP": ("60", "CAD")}, {}))
    [shop] = result.positions
    # 4 x 60 = 240, cost 200: all 40 is price effect, none currency.
    assert (shop.market_value_base, shop.unrealized_pnl_base) == (D("240"), D("40"))
    assert (shop.price_effect_base, shop.currency_effect_base) == (D("40"), D("0"))


def test_a_holding_without_a_price_raises_naming_it_and_the_pack() -> None:
    state = replayed(*CAD_INVESTOR, buy("b2", "2024-01-04", "ABC", "1", "10", fx_rate="1.30"))
    with pytest.raises(PriceMissingError, match=r"pack pk-0628 has no price for ABC$"):
        valuation.value("rrsp", "CAD", state, TODAY)


def test_a_currency_without_a_rate_raises() -> None:
    with pytest.raises(FxRateMissingError, match="USD/CAD"):
        valuation.value("rrsp", "CAD", replayed(*CAD_INVESTOR), pack({"XYZ": ("120", "USD")}, {}))


def test_a_cash_only_portfolio_is_all_cash() -> None:
    result = valuation.value(
        "rrsp", "CAD", replayed(deposit("d1", "2024-01-02", "100", "CAD")), pack({}, {})
    )
    assert result.positions == ()
    assert (result.total_value, result.cash[0].weight) == (D("100"), D("1"))


def test_an_empty_portfolio_has_zero_value_and_no_weights() -> None:
    result = valuation.value("new", "CAD", replayed(), pack({}, {}))
    assert (result.total_value, result.positions, result.cash) == (D("0"), (), ())
