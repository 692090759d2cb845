"""Invariants of replay over random valid ledgers: quantity, cost and cash are all accounted for.

Every sum here is taken in an exact decimal context that traps rounding, so "equal" means
equal to the last digit, not equal at 28 or 34 significant digits.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foliodb.domain import ledger
from foliodb.domain.types import DAY_ORDER, BookingMethod, Transaction, TxType
from tests.domain.builders import buy, deposit, dividend, sell, split

EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
SYMBOLS = ("AAA", "BBB", "CCC")
KINDS = (
    TxType.BUY,
    TxType.BUY,
    TxType.SELL,
    TxType.SELL,
    TxType.SPLIT,
    TxType.DIVIDEND,
    TxType.DEPOSIT,
)
SPLIT_RATIOS = (Decimal("2"), Decimal("3"), Decimal("0.5"), Decimal("1.5"))
START = dt.date(2020, 1, 1)

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2)
fees = st.one_of(
    st.just(Decimal("0")), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("25"), places=2)
)
fx_rates = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("2"), places=4)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50000"), places=2)


def total(values: Iterable[Decimal]) -> Decimal:
    with decimal.localcontext(EXACT):
        return sum(values, Decimal(0))


@dataclass
class Ledger:
    """A random valid ledger and the totals the test worked out while writing it."""

    method: BookingMethod
    transactions: list[Transaction] = field(default_factory=list)
    held: dict[str, Decimal] = field(default_factory=dict)
    buy_cost: Decimal = Decimal(0)
    buy_cost_base: Decimal = Decimal(0)
    deposits: Decimal = Decimal(0)
    dividends: Decimal = Decimal(0)


@st.composite
def ledgers(draw: st.DrawFn) -> Ledger:
    """Valid BUY/SELL/SPLIT/DIVIDEND/DEPOSIT sequences over 1-3 USD symbols.

    Dates never go back, and a same-day transaction never ranks before the previous one in
    DAY_ORDER, so the order written is the replay order and "held" below is what replay sees.
    """
    symbols = SYMBOLS[: draw(st.integers(1, 3))]
    book = Ledger(
        method=draw(st.sampled_from(BookingMethod)), held=dict.fromkeys(symbols, Decimal(0))
    )
    on, last_rank = START, -1
    for n in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(KINDS))
        symbol = draw(st.sampled_from(symbols))
        if kind is TxType.SELL and book.held[symbol] <= 0:
            kind = TxType.BUY
        step = draw(st.integers(0, 90))
        if step == 0 and DAY_ORDER[kind] < last_rank:
            step = 1
        if step:
            on, last_rank = on + dt.timedelta(days=step), -1
        last_rank = DAY_ORDER[kind]
        tx_id = f"t{n:03d}"

        with decimal.localcontext(EXACT):
            if kind is TxType.BUY:
                quantity = draw(
                    st.decimals(
                        min_value=Decimal(1),
                        max_value=Decimal(500),
                        places=draw(st.sampled_from([0, 3])),
                    )
                )
                price, fee, fx_rate = draw(prices), draw(fees), draw(fx_rates)
                tx = buy(tx_id, on, symbol, quantity, price, fee=fee, fx_rate=fx_rate)
                book.held[symbol] += quantity
                book.buy_cost += quantity * price + fee
                book.buy_cost_base += (quantity * price + fee) * fx_rate
            elif kind is TxType.SELL:
                held = book.held[symbol]
                partial = st.decimals(min_value=Decimal("0.01"), max_value=held, places=2)
                quantity = draw(
                    st.just(held) | partial if held >= Decimal("0.01") else st.just(held)
                )
                method = draw(st.one_of(st.none(), st.sampled_from(BookingMethod)))
                lot_ids = _named_lots(draw, book, symbol, quantity, method or book.method)
                tx = sell(
                    tx_id,
                    on,
                    symbol,
                    quantity,
                    draw(prices),
                    fee=draw(fees),
                    fx_rate=draw(fx_rates),
                    method=method,
                    lot_ids=lot_ids,
                )
                book.held[symbol] -= quantity
            elif kind is TxType.SPLIT:
                ratio = draw(st.sampled_from(SPLIT_RATIOS))
                tx = split(tx_id, on, symbol, ratio)
                book.held[symbol] *= ratio
            elif kind is TxType.DIVIDEND:
                amount = draw(amounts)
                tx = dividend(tx_id, on, symbol, amount)
                book.dividends += amount
            else:
                amount = draw(amounts)
                tx = deposit(tx_id, on, amount)
                book.deposits += amount
        book.transactions.append(tx)
    return book


def _named_lots(
    draw: st.DrawFn, book: Ledger, symbol: str, quantity: Decimal, method: BookingMethod
) -> tuple[str, ...]:
    """For a SPECIFIC sale, name open lots (in a random order) until they cover `quantity`.

    Which lots are still open depends on earlier bookings, so this asks a replay of the
    ledger so far; it only chooses valid input, it never supplies an expected answer.
    """
    if method is not BookingMethod.SPECIFIC:
        return ()
    so_far = ledger.replay(book.transactions, method=book.method)
    candidates = draw(st.permutations([lot for lot in so_far.lots if lot.symbol == symbol]))
    named, covered = [], Decimal(0)
    for lot in candidates:
        if covered >= quantity:
            break
        named.append(lot.lot_id)
        covered += lot.open_quantity
    return tuple(named)


@FAST
@given(book=ledgers())
def test_open_lots_add_up_to_buys_less_sells_scaled_by_splits(book: Ledger) -> None:
    state = ledger.replay(book.transactions, method=book.method)
    expected = {symbol: q for symbol, q in book.held.items() if q != 0}
    assert ledger.positions(state) == expected
    for symbol in book.held:
        assert (
            total(lot.open_quantity for lot in state.lots if lot.symbol == symbol)
            == book.held[symbol]
        )
    assert all(lot.open_quantity > 0 for lot in state.lots)


@FAST
@given(book=ledgers())
def test_cost_basis_is_conserved_exactly_through_sales_and_splits(book: Ledger) -> None:
    state = ledger.replay(book.transactions, method=book.method)
    still_open = total(lot.cost_basis for lot in state.lots)
    realized = total(g.cost_basis for g in state.realized_gains)
    assert total([still_open, realized]) == book.buy_cost

    still_open_base = total(lot.cost_basis_base for lot in state.lots)
    realized_base = total(g.cost_basis_base for g in state.realized_gains)
    assert total([still_open_base, realized_base]) == book.buy_cost_base


@FAST
@given(book=ledgers(), data=st.data())
def test_gains_and_income_reconcile_with_cash_and_market_value(
    book: Ledger, data: st.DataObject
) -> None:
    state = ledger.replay(book.transactions, method=book.method)
    price_now = {s: data.draw(prices, label=f"price of {s}") for s in book.held}
    with decimal.localcontext(EXACT):
        [usd] = [c.balance for c in state.cash] or [Decimal(0)]
        market_value = total(lot.open_quantity * price_now[lot.symbol] for lot in state.lots)
        unrealized = total(
            lot.open_quantity * price_now[lot.symbol] - lot.cost_basis for lot in state.lots
        )
        realized = total(g.gain for g in state.realized_gains)
        assert usd + market_value - book.deposits == realized + unrealized + book.dividends
        # Each realized slice is its proceeds less its cost, and the cash of every sale is
        # shared out among its slices to the last digit.
        assert all(g.gain == g.proceeds - g.cost_basis for g in state.realized_gains)


@FAST
@given(book=ledgers(), data=st.data())
def test_replay_is_deterministic_and_ignores_input_order(book: Ledger, data: st.DataObject) -> None:
    first = ledger.replay(book.transactions, method=book.method)
    again = ledger.replay(book.transactions, method=book.method)
    shuffled = data.draw(st.permutations(book.transactions), label="shuffled")
    reordered = ledger.replay(shuffled, method=book.method)
    assert again == first
    assert reordered == first
    # Identical, not merely equal: the same digits, exponents and field order.
    assert repr(reordered) == repr(first)
