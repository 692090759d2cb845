"""Valuing a replayed ledger at a pricing pack, with P&L split into price and currency effects."""

from __future__ import annotations

import decimal
from collections import defaultdict
from decimal import Decimal

from foliodb.domain import money
from foliodb.domain.money import CONTEXT, ZERO, div
from foliodb.domain.pricing import FxTable, price_index
from foliodb.domain.types import (
    CashValue,
    Currency,
    LedgerState,
    Lot,
    PositionValue,
    PricingPack,
    Valuation,
)
from foliodb.errors import PriceMissingError


def value(portfolio: str, base: Currency, state: LedgerState, pack: PricingPack) -> Valuation:
    """Value `state` at `pack` in `base`.

    Unrealized P&L in base = market value at today's FX minus cost at trade-date FX, split as
      price effect    = (market value - cost) in local currency x today's FX rate
      currency effect = local cost x (today's FX rate - the cost's average trade-date rate)
    which sum to the total exactly.
    """
    fx = FxTable(pack.fx_rates, pack.pack_id)
    prices = price_index(pack.prices)
    by_symbol: dict[str, list[Lot]] = defaultdict(list)
    for lot in state.lots:
        by_symbol[lot.symbol].append(lot)
    missing = sorted(symbol for symbol in by_symbol if symbol not in prices)
    if missing:
        raise PriceMissingError(f"pack {pack.pack_id} has no price for {', '.join(missing)}")
    mismatched = sorted(
        f"{symbol} ({lots[0].currency} lots, price in {prices[symbol].currency})"
        for symbol, lots in by_symbol.items()
        if prices[symbol].currency != lots[0].currency
    )
    if mismatched:
        raise PriceMissingError(
            f"pack {pack.pack_id} prices are in another currency than the lots: "
            + ", ".join(mismatched)
        )

    with decimal.localcontext(CONTEXT):
        rows = []
        # Quantities and costs are exact sums of the lots; products and quotients round.
        for symbol, lots in sorted(by_symbol.items()):
            quantity = money.total(lot.open_quantity for lot in lots)
            cost = money.total(lot.cost_basis for lot in lots)
            cost_base = money.total(lot.cost_basis_base for lot in lots)
            quote = prices[symbol]
            rate = fx.rate(lots[0].currency, base)
            market_value = quantity * quote.price
            market_value_base = market_value * rate
            price_effect = (market_value - cost) * rate
            rows.append(
                (
                    symbol,
                    lots[0].currency,
                    quantity,
                    quote,
                    cost,
                    cost_base,
                    rate,
                    market_value,
                    market_value_base,
                    price_effect,
                )
            )
        cash_rows = [
            (c.currency, c.balance, fx.rate(c.currency, base)) for c in state.cash if c.balance != 0
        ]
        securities_value = sum((r[8] for r in rows), ZERO)
        cash_value = sum((balance * rate for _, balance, rate in cash_rows), ZERO)
        total = securities_value + cash_value

        def weight(amount: Decimal) -> Decimal:
            return div(amount, total) if total != 0 else ZERO

        positions = tuple(
            PositionValue(
                symbol=symbol,
                currency=currency,
                quantity=quantity,
                price=quote.price,
                price_date=quote.price_date,
                market_value=mv,
                fx_rate=rate,
                market_value_base=mv_base,
                cost_basis=cost,
                cost_basis_base=cost_base,
                unrealized_pnl_base=mv_base - cost_base,
                price_effect_base=price_effect,
                currency_effect_base=(mv_base - cost_base) - price_effect,
                weight=weight(mv_base),
            )
            for (
                symbol,
                currency,
                quantity,
                quote,
                cost,
                cost_base,
                rate,
                mv,
                mv_base,
                price_effect,
            ) in rows
        )
        cash = tuple(
            CashValue(currency, balance, rate, balance * rate, weight(balance * rate))
            for currency, balance, rate in cash_rows
        )
        return Valuation(
            portfolio=portfolio,
            base_currency=base,
            pack_id=pack.pack_id,
            date=pack.date,
            positions=positions,
            cash=cash,
            securities_value=securities_value,
            cash_value=cash_value,
            total_value=total,
            cost_basis_base=money.total(p.cost_basis_base for p in positions),
            unrealized_pnl_base=sum((p.unrealized_pnl_base for p in positions), ZERO),
            price_effect_base=sum((p.price_effect_base for p in positions), ZERO),
            currency_effect_base=sum((p.currency_effect_base for p in positions), ZERO),
        )
