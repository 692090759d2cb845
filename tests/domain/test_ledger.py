"""Replay checked against hand-worked ledgers: every expected number is worked out in a comment."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from decimal import Decimal

import pytest

from foliodb.domain import ledger
from foliodb.domain.money import D
from foliodb.domain.types import (
    DAY_ORDER,
    BookingMethod,
    HoldingTerm,
    LedgerState,
    Transaction,
    TxType,
)
from foliodb.errors import InputError, LedgerError
from tests.domain.builders import (
    buy,
    buy_to_cover,
    cash,
    deposit,
    dividend,
    fx_conversion,
    sell,
    sell_short,
    split,
    transfer_in_security,
    transfer_out_security,
)

EXACT = decimal.Context(prec=decimal.MAX_PREC, traps=[decimal.Inexact])


def balance(state: LedgerState, currency: str) -> Decimal:
    return next((c.balance for c in state.cash if c.currency == currency), D(0))


def open_lots(state: LedgerState) -> list[tuple[str, Decimal, Decimal]]:
    """(lot_id, open quantity, cost basis) per open lot, in the state's order."""
    return [(lot.lot_id, lot.open_quantity, lot.cost_basis) for lot in state.lots]


def closed_slices(state: LedgerState) -> list[tuple[str, Decimal, Decimal, Decimal, Decimal]]:
    """(lot_id, quantity, proceeds, cost basis, gain) per realized slice, in booking order."""
    return [(g.lot_id, g.quantity, g.proceeds, g.cost_basis, g.gain) for g in state.realized_gains]


# --- fees ---------------------------------------------------------------------------------


def test_buy_fees_go_into_cost_basis() -> None:
    state = ledger.replay(
        [
            deposit("d1", "2024-01-02", "2000.00"),
            buy("b1", "2024-01-03", "ACME", "10", "100.00", fee="5.00"),
        ]
    )
    # 10 x 100.00 + 5.00 fee = 1005.00, so 100.50 a share; cash 2000.00 - 1005.00 = 995.00.
    [lot] = state.lots
    assert lot.cost_basis == D("1005.00")
    assert lot.unit_cost == D("100.50")
    assert lot.original_quantity == lot.open_quantity == D("10")
    assert balance(state, "USD") == D("995.00")
    assert state.realized_gains == ()


def test_sell_fees_reduce_proceeds() -> None:
    state = ledger.replay(
        [
            buy("b1", "2024-01-03", "ACME", "10", "100.00"),
            sell("s1", "2024-02-01", "ACME", "4", "120.00", fee="3.00"),
        ]
    )
    # Proceeds 4 x 120.00 - 3.00 = 477.00; cost 4/10 of 1000.00 = 400.00; gain 77.00.
    assert closed_slices(state) == [("b1", D("4"), D("477.00"), D("400.00"), D("77.00"))]
    # 6 shares left carrying 600.00; cash -1000.00 + 477.00 = -523.00.
    assert open_lots(state) == [("b1", D("6"), D("600.00"))]
    assert balance(state, "USD") == D("-523.00")


# --- realized gains: dates and holding term -----------------------------------------------


def test_realized_gain_is_booked_per_closed_lot_slice_with_dates_and_term() -> None:
    state = ledger.replay(
        [
            buy("b1", "2023-03-15", "ACME", "10", "50.00"),
            buy("b2", "2023-09-01", "ACME", "10", "60.00"),
            sell("s1", "2024-03-16", "ACME", "15", "70.00"),
        ]
    )
    # FIFO: 10 from b1 then 5 from b2. Proceeds 15 x 70 = 1050 split by quantity: 700 / 350.
    # b1: 700 - 500 = 200, held 2023-03-15 -> 2024-03-16, past the anniversary: LONG.
    # b2: 350 - 5 x 60 = 50, held about six months: SHORT.
    first, second = state.realized_gains
    assert (first.lot_id, first.quantity, first.proceeds, first.cost_basis, first.gain) == (
        "b1",
        D("10"),
        D("700"),
        D("500"),
        D("200"),
    )
    assert (first.acquired_date, first.disposed_date) == (
        dt.date(2023, 3, 15),
        dt.date(2024, 3, 16),
    )
    assert first.term is HoldingTerm.LONG
    assert (second.lot_id, second.quantity, second.proceeds, second.cost_basis, second.gain) == (
        "b2",
        D("5"),
        D("350"),
        D("300"),
        D("50"),
    )
    assert (second.acquired_date, second.disposed_date) == (
        dt.date(2023, 9, 1),
        dt.date(2024, 3, 16),
    )
    assert second.term is HoldingTerm.SHORT
    assert {g.tx_id for g in state.realized_gains} == {"s1"}
    assert not any(g.is_short for g in state.realized_gains)


@pytest.mark.parametrize(
    ("acquired", "disposed", "term"),
    [
        # Disposed on the first anniversary itself: held exactly a year, not more.
        pytest.param("2023-03-15", "2024-03-15", HoldingTerm.SHORT, id="on-anniversary"),
        pytest.param("2023-03-15", "2024-03-16", HoldingTerm.LONG, id="day-after-anniversary"),
        pytest.param("2023-03-15", "2023-03-15", HoldingTerm.SHORT, id="same-day"),
        # A 29 February acquisition's anniversary in a common year is 28 February.
        pytest.param("2024-02-29", "2025-02-28", HoldingTerm.SHORT, id="feb29-on-feb28"),
        pytest.param("2024-02-29", "2025-03-01", HoldingTerm.LONG, id="feb29-on-mar1"),
        # Spanning a leap day does not move the anniversary of 1 March.
        pytest.param("2023-03-01", "2024-03-01", HoldingTerm.SHORT, id="across-leap-on-anniv"),
        pytest.param("2023-03-01", "2024-03-02", HoldingTerm.LONG, id="across-leap-day-after"),
    ],
)
def test_holding_term_is_long_only_after_the_first_anniversary(
    acquired: str, disposed: str, term: HoldingTerm
) -> None:
    state = ledger.replay(
        [
            buy("b1", acquired, "ACME", "1", "10"),
            sell("s1", disposed, "ACME", "1", "12"),
        ]
    )
    [gain] = state.realized_gains
    assert gain.term is term


# --- booking methods ----------------------------------------------------------------------
# Three lots of ACME, then a partial sale of 15 at 130.00 (proceeds 1950.00, 130 a share):
#   b1 2023-01-10 10 @ 100 = 1000    b2 2023-02-10 10 @ 140 = 1400    b3 2023-03-10 10 @ 120 = 1200
# 30 shares costing 3600, an average of 120.

THREE_LOTS = [
    buy("b1", "2023-01-10", "ACME", "10", "100"),
    buy("b2", "2023-02-10", "ACME", "10", "140"),
    buy("b3", "2023-03-10", "ACME", "10", "120"),
]


@pytest.mark.parametrize(
    ("method", "lot_ids", "slices", "lots_left"),
    [
        pytest.param(
            BookingMethod.FIFO,
            (),
            # oldest first: all of b1 (1300 - 1000), then 5 of b2 (650 - 700)
            [("b1", "10", "1300", "1000", "300"), ("b2", "5", "650", "700", "-50")],
            [("b2", "5", "700"), ("b3", "10", "1200")],
            id="FIFO",
        ),
        pytest.param(
            BookingMethod.LIFO,
            (),
            # newest first: all of b3 (1300 - 1200), then 5 of b2 (650 - 700)
            [("b3", "10", "1300", "1200", "100"), ("b2", "5", "650", "700", "-50")],
            [("b1", "10", "1000"), ("b2", "5", "700")],
            id="LIFO",
        ),
        pytest.param(
            BookingMethod.HIFO,
            (),
            # dearest first: all of b2 at 140 (1300 - 1400), then 5 of b3 at 120 (650 - 600)
            [("b2", "10", "1300", "1400", "-100"), ("b3", "5", "650", "600", "50")],
            [("b1", "10", "1000"), ("b3", "5", "600")],
            id="HIFO",
        ),
        pytest.param(
            BookingMethod.AVERAGE,
            (),
            # 15 x the 120 average = 1800 relieved, taken FIFO by quantity: b1 10 (1200),
            # b2 5 (600). The 1800 left is re-pooled at 120: b2 5 -> 600, b3 10 -> 1200.
            [("b1", "10", "1300", "1200", "100"), ("b2", "5", "650", "600", "50")],
            [("b2", "5", "600"), ("b3", "10", "1200")],
            id="AVERAGE",
        ),
        pytest.param(
            BookingMethod.SPECIFIC,
            ("b3", "b1"),
            # the named lots in the order named: all of b3 (1300 - 1200), 5 of b1 (650 - 500)
            [("b3", "10", "1300", "1200", "100"), ("b1", "5", "650", "500", "150")],
            [("b1", "5", "500"), ("b2", "10", "1400")],
            id="SPECIFIC",
        ),
    ],
)
def test_partial_sale_closes_the_lots_its_method_picks(
    method: BookingMethod,
    lot_ids: tuple[str, ...],
    slices: list[tuple[str, ...]],
    lots_left: list[tuple[str, ...]],
) -> None:
    state = ledger.replay(
        [*THREE_LOTS, sell("s1", "2023-06-01", "ACME", "15", "130", lot_ids=lot_ids)],
        method=method,
    )
    assert closed_slices(state) == [
        tuple(D(x) if i else x for i, x in enumerate(s)) for s in slices
    ]
    assert open_lots(state) == [(lot_id, D(q), D(c)) for lot_id, q, c in lots_left]
    assert ledger.positions(state) == {"ACME": D("15")}
    # Whatever the method, cash is 1950 in less 3600 out.
    assert balance(state, "USD") == D("-1650")


def test_a_per_sale_method_beats_the_portfolio_default() -> None:
    transactions = [
        *THREE_LOTS,
        sell("s1", "2023-06-01", "ACME", "15", "130", method=BookingMethod.LIFO),
    ]
    state = ledger.replay(transactions, method=BookingMethod.FIFO)
    # LIFO, as the sale asked: b3 in full, then 5 of b2.
    assert [(g.lot_id, g.quantity) for g in state.realized_gains] == [
        ("b3", D("10")),
        ("b2", D("5")),
    ]


def test_the_portfolio_default_method_applies_when_a_sale_names_none() -> None:
    state = ledger.replay(
        [*THREE_LOTS, sell("s1", "2023-06-01", "ACME", "15", "130")], method=BookingMethod.HIFO
    )
    assert [(g.lot_id, g.quantity) for g in state.realized_gains] == [
        ("b2", D("10")),
        ("b3", D("5")),
    ]


def test_specific_booking_with_an_unknown_lot_is_refused() -> None:
    transactions = [
        *THREE_LOTS,
        sell(
            "s1", "2023-06-01", "ACME", "5", "130", method=BookingMethod.SPECIFIC, lot_ids=("b9",)
        ),
    ]
    with pytest.raises(LedgerError, match="b9") as caught:
        ledger.replay(transactions)
    assert caught.value.tx_id == "s1"


def test_specific_booking_of_more_than_the_named_lots_hold_is_refused() -> None:
    transactions = [
        *THREE_LOTS,
        sell(
            "s1", "2023-06-01", "ACME", "15", "130", method=BookingMethod.SPECIFIC, lot_ids=("b1",)
        ),
    ]
    # b1 holds 10, fewer than the 15 to sell, although the account holds 30.
    with pytest.raises(LedgerError, match=r"b1 hold 10 of ACME, fewer than the 15"):
        ledger.replay(transactions)


def test_specific_booking_without_lot_ids_is_refused() -> None:
    transactions = [
        *THREE_LOTS,
        sell("s1", "2023-06-01", "ACME", "5", "130", method=BookingMethod.SPECIFIC),
    ]
    with pytest.raises(LedgerError, match="needs lot_ids"):
        ledger.replay(transactions)


def test_naming_a_lot_twice_does_not_count_its_quantity_twice() -> None:
    # b1 holds 10: naming it twice must not let a sale of 15 through (it once did, booking
    # only 10 and leaving a zero-quantity slice that took the other 5 shares' proceeds).
    transactions = [
        *THREE_LOTS,
        sell(
            "s1",
            "2023-06-01",
            "ACME",
            "15",
            "130",
            method=BookingMethod.SPECIFIC,
            lot_ids=("b1", "b1"),
        ),
    ]
    with pytest.raises(LedgerError, match="fewer than the 15"):
        ledger.replay(transactions)


def test_specific_booking_can_close_a_lot_opened_by_a_transfer_in() -> None:
    state = ledger.replay(
        [
            *THREE_LOTS,
            transfer_in_security("t1", "2023-04-01", "ACME", "5", "90"),
            sell(
                "s1",
                "2023-06-01",
                "ACME",
                "5",
                "130",
                method=BookingMethod.SPECIFIC,
                lot_ids=("t1",),
            ),
        ]
    )
    # 5 x 130 = 650 proceeds against the transferred lot's 5 x 90 = 450.
    assert closed_slices(state) == [("t1", D("5"), D("650"), D("450"), D("200"))]


def test_cost_relieved_in_uneven_slices_adds_back_to_the_lot_cost_exactly() -> None:
    state = ledger.replay(
        [
            buy("b1", "2024-01-02", "ACME", "30", "33.33", fee="0.01"),
            sell("s1", "2024-02-01", "ACME", "1", "40"),
            sell("s2", "2024-03-01", "ACME", "7", "40"),
            sell("s3", "2024-04-01", "ACME", "22", "40"),
        ]
    )
    # 30 x 33.33 + 0.01 = 999.91. The first slice is 999.91 / 30 = 33.330333..., which no
    # 34-digit arithmetic holds; the last slice takes whatever is left, so the three add up
    # to 999.91 to the last digit (at 34 digits they once came to 999.91000...0003).
    with decimal.localcontext(EXACT):
        assert sum((g.cost_basis for g in state.realized_gains), D(0)) == D("999.91")
        assert sum((g.proceeds for g in state.realized_gains), D(0)) == D("1200")  # 30 x 40
    assert state.lots == ()


# --- splits -------------------------------------------------------------------------------


def test_two_for_one_split_doubles_quantities_and_keeps_total_cost() -> None:
    state = ledger.replay(
        [
            buy("b1", "2024-01-10", "ACME", "10", "100"),
            buy("b2", "2024-02-10", "ACME", "5", "120"),
            split("x1", "2024-03-01", "ACME", "2"),
        ]
    )
    # b1: 10 -> 20 shares, still 1000; b2: 5 -> 10 shares, still 600.
    assert open_lots(state) == [("b1", D("20"), D("1000")), ("b2", D("10"), D("600"))]
    assert [lot.original_quantity for lot in state.lots] == [D("20"), D("10")]
    assert [lot.unit_cost for lot in state.lots] == [D("50"), D("60")]
    assert ledger.positions(state) == {"ACME": D("30")}


def test_a_sale_after_a_split_is_booked_in_post_split_shares() -> None:
    state = ledger.replay(
        [
            buy("b1", "2024-01-10", "ACME", "10", "100"),
            buy("b2", "2024-02-10", "ACME", "5", "120"),
            split("x1", "2024-03-01", "ACME", "2"),
            sell("s1", "2024-04-01", "ACME", "25", "60"),
        ]
    )
    # FIFO on 20 + 10 post-split shares: all of b1 (20 x 60 = 1200 - 1000 = 200), then
    # 5 of b2's 10 (5 x 60 = 300 - 600 x 5/10 = 300, gain 0).
    assert closed_slices(state) == [
        ("b1", D("20"), D("1200"), D("1000"), D("200")),
        ("b2", D("5"), D("300"), D("300"), D("0")),
    ]
    assert open_lots(state) == [("b2", D("5"), D("300"))]


def test_a_split_of_another_symbol_leaves_a_position_alone() -> None:
    state = ledger.replay(
        [
            buy("b1", "2024-01-10", "ACME", "10", "100"),
            split("x1", "2024-03-01", "OTHER", "2"),
        ]
    )
    assert open_lots(state) == [("b1", D("10"), D("1000"))]


# --- short selling ------------------------------------------------------------------------


def test_sell_short_then_buy_to_cover_realizes_proceeds_less_cover_cost() -> None:
    opened = ledger.replay([sell_short("ss1", "2024-01-10", "ACME", "10", "50", fee="2")])
    # Short 10 at 50 less a 2 fee: 498 received, carried as quantity -10 and cost -498.
    [lot] = opened.lots
    assert (lot.open_quantity, lot.cost_basis, lot.is_short) == (D("-10"), D("-498"), True)
    assert balance(opened, "USD") == D("498")
    assert ledger.positions(opened) == {"ACME": D("-10")}

    closed = ledger.replay(
        [
            sell_short("ss1", "2024-01-10", "ACME", "10", "50", fee="2"),
            buy_to_cover("bc1", "2024-02-10", "ACME", "10", "40", fee="1"),
        ]
    )
    # Cover 10 at 40 plus a 1 fee costs 401: gain 498 - 401 = 97, booked as proceeds -401
    # against cost basis -498. Cash 498 - 401 = 97; no lot left.
    [gain] = closed.realized_gains
    assert (gain.quantity, gain.proceeds, gain.cost_basis, gain.gain) == (
        D("-10"),
        D("-401"),
        D("-498"),
        D("97"),
    )
    assert gain.is_short
    assert gain.term is HoldingTerm.SHORT
    assert closed.lots == ()
    assert balance(closed, "USD") == D("97")


def test_a_partial_cover_relieves_short_proceeds_pro_rata() -> None:
    state = ledger.replay(
        [
            sell_short("ss1", "2024-01-10", "ACME", "10", "50", fee="2"),
            buy_to_cover("bc1", "2024-02-10", "ACME", "4", "40"),
        ]
    )
    # Cover 4 of 10: cost basis -498 x 4/10 = -199.2; cover cost 160; gain 199.2 - 160 = 39.2.
    assert closed_slices(state) == [("ss1", D("-4"), D("-160"), D("-199.2"), D("39.2"))]
    assert open_lots(state) == [("ss1", D("-6"), D("-298.8"))]
    assert balance(state, "USD") == D("338")  # 498 - 160


def test_buying_while_short_is_refused() -> None:
    with pytest.raises(LedgerError, match="BUY_TO_COVER"):
        ledger.replay(
            [
                sell_short("ss1", "2024-01-10", "ACME", "10", "50"),
                buy("b1", "2024-02-10", "ACME", "5", "40"),
            ]
        )


def test_selling_short_while_long_is_refused() -> None:
    with pytest.raises(LedgerError, match="holding 10 long"):
        ledger.replay(
            [
                buy("b1", "2024-01-10", "ACME", "10", "50"),
                sell_short("ss1", "2024-02-10", "ACME", "5", "60"),
            ]
        )


def test_covering_more_than_is_short_is_refused() -> None:
    with pytest.raises(LedgerError, match=r"covering 12 ACME but only 10 is short"):
        ledger.replay(
            [
                sell_short("ss1", "2024-01-10", "ACME", "10", "50"),
                buy_to_cover("bc1", "2024-02-10", "ACME", "12", "40"),
            ]
        )


def test_selling_more_than_held_is_refused() -> None:
    with pytest.raises(LedgerError) as caught:
        ledger.replay(
            [
                buy("b1", "2024-01-10", "ACME", "10", "50"),
                sell("s1", "2024-02-10", "ACME", "12", "60"),
            ]
        )
    message = str(caught.value)
    assert "selling 12 ACME but only 10 held" in message
    assert "s1" in message
    assert caught.value.tx_id == "s1"
    # A LedgerError is an InputError, so a batch import can report it with the others.
    assert isinstance(caught.value, InputError)


def test_selling_what_was_never_bought_is_refused() -> None:
    with pytest.raises(LedgerError, match="selling 1 ACME but only 0 held"):
        ledger.replay([sell("s1", "2024-02-10", "ACME", "1", "60")])


# --- transfers ----------------------------------------------------------------------------


def test_transfer_in_opens_a_lot_at_the_given_price_without_moving_cash() -> None:
    state = ledger.replay([transfer_in_security("t1", "2024-01-10", "ACME", "10", "80")])
    # 10 x 80 = 800 of cost basis; the shares arrive, no cash moves.
    assert open_lots(state) == [("t1", D("10"), D("800"))]
    assert state.lots[0].acquired_date == dt.date(2024, 1, 10)
    assert balance(state, "USD") == D("0")


def test_transfer_out_closes_lots_without_realizing_gains() -> None:
    state = ledger.replay(
        [
            transfer_in_security("t1", "2024-01-10", "ACME", "10", "80"),
            transfer_out_security("t2", "2024-03-10", "ACME", "4"),
        ]
    )
    # 4 of 10 leave with 4/10 of 800 = 320; 6 shares and 480 stay; nothing is realized.
    assert open_lots(state) == [("t1", D("6"), D("480"))]
    assert state.realized_gains == ()
    assert balance(state, "USD") == D("0")


def test_transferring_out_more_than_held_is_refused() -> None:
    with pytest.raises(LedgerError, match=r"transferring out 11 ACME but only 10 held"):
        ledger.replay(
            [
                transfer_in_security("t1", "2024-01-10", "ACME", "10", "80"),
                transfer_out_security("t2", "2024-03-10", "ACME", "11"),
            ]
        )


def test_cash_transfers_move_cash_in_and_out() -> None:
    state = ledger.replay(
        [
            cash(TxType.TRANSFER_IN, "t1", "2024-01-10", "1000.00", currency="EUR"),
            cash(TxType.TRANSFER_OUT, "t2", "2024-01-20", "300.00", currency="EUR"),
        ]
    )
    assert balance(state, "EUR") == D("700.00")  # 1000.00 - 300.00
    assert state.lots == ()


# --- cash movements -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "amount", "fee", "expected"),
    [
        (TxType.DEPOSIT, "1000.00", "0", "1000.00"),
        (TxType.WITHDRAWAL, "200.00", "0", "-200.00"),
        (TxType.DIVIDEND, "25.00", "0", "25.00"),
        (TxType.DIVIDEND, "25.00", "1.50", "23.50"),  # a collection fee comes off
        (TxType.INTEREST, "3.10", "0", "3.10"),
        (TxType.FEE, "10.00", "0", "-10.00"),
        (TxType.TAX, "4.00", "0", "-4.00"),
        (TxType.WITHDRAWAL, "200.00", "2.00", "-202.00"),  # a wire fee on top
    ],
)
def test_cash_transactions_move_cash_by_their_sign(
    kind: TxType, amount: str, fee: str, expected: str
) -> None:
    state = ledger.replay([cash(kind, "c1", "2024-01-10", amount, fee=fee)])
    assert state.cash == (state.cash[0],)
    assert balance(state, "USD") == D(expected)
    assert state.lots == ()
    assert state.realized_gains == ()


def test_cash_movements_add_up() -> None:
    state = ledger.replay(
        [
            deposit("c1", "2024-01-02", "1000.00"),
            dividend("c2", "2024-02-01", "ACME", "25.00"),
            cash(TxType.INTEREST, "c3", "2024-02-01", "3.00"),
            cash(TxType.FEE, "c4", "2024-03-01", "10.00"),
            cash(TxType.TAX, "c5", "2024-03-01", "4.00"),
            cash(TxType.WITHDRAWAL, "c6", "2024-04-01", "200.00"),
        ]
    )
    # 1000 + 25 + 3 - 10 - 4 - 200 = 814
    assert balance(state, "USD") == D("814.00")
    assert state.transaction_count == 6


def test_fx_conversion_moves_cash_between_currencies_with_the_fee_in_the_sold_currency() -> None:
    state = ledger.replay(
        [
            deposit("d1", "2024-01-02", "1000.00", "USD"),
            fx_conversion("fx1", "2024-01-03", "USD", "500.00", "EUR", "460.00", fee="2.00"),
        ]
    )
    # USD: 1000.00 - 500.00 - 2.00 = 498.00; EUR: 460.00 received.
    assert balance(state, "USD") == D("498.00")
    assert balance(state, "EUR") == D("460.00")
    assert [c.currency for c in state.cash] == ["EUR", "USD"]


# --- base currency ------------------------------------------------------------------------


def test_base_cost_basis_uses_the_trade_date_fx_rate() -> None:
    state = ledger.replay(
        [
            buy("b1", "2024-01-10", "XYZ", "10", "100", fee="5", fx_rate="1.30"),
            sell("s1", "2024-06-10", "XYZ", "4", "120", fx_rate="1.40"),
        ]
    )
    # Bought for 10 x 100 + 5 = 1005 USD at 1.30 = 1306.50 base.
    # Sold 4 for 480 USD at 1.40 = 672.00 base; cost relieved 1005 x 4/10 = 402 USD and
    # 1306.50 x 4/10 = 522.60 base. Gains 78 USD and 672.00 - 522.60 = 149.40 base.
    [gain] = state.realized_gains
    assert (gain.proceeds, gain.cost_basis, gain.gain) == (D("480"), D("402"), D("78"))
    assert (gain.proceeds_base, gain.cost_basis_base, gain.gain_base) == (
        D("672.00"),
        D("522.60"),
        D("149.40"),
    )
    # 6 shares left: 603 USD and 1306.50 - 522.60 = 783.90 base (6 x 100.50 x 1.30).
    [lot] = state.lots
    assert (lot.cost_basis, lot.cost_basis_base) == (D("603"), D("783.90"))


def test_a_transfer_in_carries_its_fx_rate_into_base_cost() -> None:
    state = ledger.replay(
        [transfer_in_security("t1", "2024-01-10", "XYZ", "10", "80", fx_rate="1.25")]
    )
    # 800 USD at 1.25 = 1000 base.
    assert state.lots[0].cost_basis_base == D("1000")


# --- replay order -------------------------------------------------------------------------


def test_day_order_ranks_every_transaction_type() -> None:
    assert set(DAY_ORDER) == set(TxType)
    assert len(set(DAY_ORDER.values())) == len(TxType)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_buy_and_sell_on_the_same_day_work_whichever_order_they_are_passed_in(
    order: tuple[int, ...],
) -> None:
    same_day = [
        deposit("d1", "2024-05-02", "1000"),
        buy("b1", "2024-05-02", "ACME", "10", "50"),
        sell("s1", "2024-05-02", "ACME", "10", "55"),
    ]
    state = ledger.replay([same_day[i] for i in order])
    # Deposit, then the buy, then the sale: 1000 - 500 + 550 = 1050, gain 50.
    assert closed_slices(state) == [("b1", D("10"), D("550"), D("500"), D("50"))]
    assert balance(state, "USD") == D("1050")
    assert state.lots == ()


def test_a_split_takes_effect_before_same_day_trades() -> None:
    state = ledger.replay(
        [
            buy("b2", "2024-03-01", "ACME", "10", "55"),
            split("x1", "2024-03-01", "ACME", "2"),
            buy("b1", "2024-01-10", "ACME", "10", "100"),
        ]
    )
    # The split doubles b1 (bought before) but not b2 (bought on the split day, post-split).
    assert open_lots(state) == [("b1", D("20"), D("1000")), ("b2", D("10"), D("550"))]


def test_same_day_same_type_ties_are_broken_by_tx_id() -> None:
    state = ledger.replay(
        [
            buy("b2", "2024-03-01", "ACME", "10", "200"),
            buy("b1", "2024-03-01", "ACME", "10", "100"),
            sell("s1", "2024-04-01", "ACME", "5", "150"),
        ]
    )
    # Same date: b1 sorts first, so FIFO takes 5 of b1 at 100 whatever the input order.
    assert closed_slices(state) == [("b1", D("5"), D("750"), D("500"), D("250"))]


def test_flipping_from_long_to_short_on_one_day_is_accepted() -> None:
    state = ledger.replay(
        [
            buy("b1", "2024-05-01", "ACME", "10", "50"),
            sell("s1", "2024-05-02", "ACME", "10", "55"),
            sell_short("ss1", "2024-05-02", "ACME", "5", "55"),
        ]
    )
    assert ledger.positions(state) == {"ACME": D("-5")}


def test_a_sale_dated_before_its_buy_is_refused_whatever_the_input_order() -> None:
    with pytest.raises(LedgerError, match="only 0 held"):
        ledger.replay(
            [
                buy("b1", "2024-03-02", "ACME", "10", "50"),
                sell("s1", "2024-03-01", "ACME", "10", "55"),
            ]
        )


def test_replay_leaves_its_input_list_alone() -> None:
    transactions: list[Transaction] = [
        sell("s1", "2024-05-02", "ACME", "10", "55"),
        buy("b1", "2024-05-02", "ACME", "10", "50"),
    ]
    before = list(transactions)
    ledger.replay(transactions)
    assert transactions == before


def test_an_empty_ledger_replays_to_nothing() -> None:
    state = ledger.replay([])
    assert state == LedgerState(lots=(), realized_gains=(), cash=(), transaction_count=0)
    assert ledger.positions(state) == {}


def test_hifo_breaks_a_unit_cost_tie_in_favour_of_the_oldest_lot() -> None:
    # Two lots at the same 100/unit; selling 10 under HIFO should take the 2022 lot, whose
    # gain is long-term, not the 2024 one.
    state = ledger.replay(
        [
            buy("old", "2022-01-03", "ACME", "10", "100"),
            buy("new", "2024-01-03", "ACME", "10", "100"),
            sell("s1", "2024-06-03", "ACME", "10", "120", method=BookingMethod.HIFO),
        ]
    )
    (gain,) = state.realized_gains
    assert gain.lot_id == "old"
    assert gain.term is HoldingTerm.LONG
    assert [lot.lot_id for lot in state.lots] == ["new"]


def test_covering_a_short_held_over_a_year_is_still_a_short_term_gain() -> None:
    # Short 10 at 50 in 2022, cover at 40 in 2024: gain 100, short-term (IRC 1233).
    state = ledger.replay(
        [
            sell_short("ss", "2022-01-03", "ACME", "10", "50"),
            buy_to_cover("bc", "2024-01-03", "ACME", "10", "40"),
        ]
    )
    (gain,) = state.realized_gains
    assert gain.gain == D(100)
    assert gain.term is HoldingTerm.SHORT


def test_a_transfer_in_fee_is_part_of_the_lots_cost() -> None:
    # 10 units carried in at 30 each plus a 5 transfer fee: cost 305; cash pays the fee.
    state = ledger.replay([transfer_in_security("ti", "2024-01-03", "ACME", "10", "30", fee="5")])
    (lot,) = state.lots
    assert lot.cost_basis == D("305")
    assert balance(state, "USD") == D("-5")


def test_a_replay_collecting_errors_skips_each_refused_transaction_and_goes_on() -> None:
    errors: list[LedgerError] = []
    state = ledger.replay(
        [
            buy("b1", "2024-01-03", "ACME", "10", "100"),
            sell("s1", "2024-01-04", "ACME", "11", "120"),  # refused: only 10 held
            sell("s2", "2024-01-05", "ACME", "4", "120"),  # applies: 10 still held
            sell("s3", "2024-01-06", "ACME", "7", "120"),  # refused: only 6 left
        ],
        errors=errors,
    )

    assert [e.tx_id for e in errors] == ["s1", "s3"]
    assert ledger.positions(state) == {"ACME": D(6)}
    assert [g.tx_id for g in state.realized_gains] == ["s2"]


def test_flipping_from_short_to_long_on_one_day_is_accepted() -> None:
    # Short 10 on day one; next day cover all and buy 4, passed in the "wrong" order.
    state = ledger.replay(
        [
            buy("b1", "2024-05-02", "ACME", "4", "40"),
            buy_to_cover("bc1", "2024-05-02", "ACME", "10", "40"),
            sell_short("ss1", "2024-05-01", "ACME", "10", "50"),
        ]
    )
    assert ledger.positions(state) == {"ACME": D("4")}
    (gain,) = state.realized_gains
    assert gain.gain == D(100)  # shorted at 500, covered at 400


def test_a_short_day_trade_from_flat_replays_short_then_cover() -> None:
    state = ledger.replay(
        [
            buy_to_cover("bc1", "2024-05-01", "ACME", "5", "48"),
            sell_short("ss1", "2024-05-01", "ACME", "5", "50"),
        ]
    )
    assert ledger.positions(state) == {}
    assert [g.gain for g in state.realized_gains] == [D(10)]
