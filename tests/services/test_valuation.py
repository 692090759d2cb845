"""Valuation at sealed packs, lots and realized gains, checked against hand-worked figures.

The portfolio (base CAD) behind most tests, worked by hand:

    2024-01-02  DEPOSIT 10,000 CAD;  DEPOSIT 5,000 USD
    2024-01-03  BUY 10 AAPL @ 187.50 USD, fee 1.25, fx 1.3625 -> cost 1,876.25 USD
                                                    = 2,556.390625 CAD at trade-date FX
    2024-01-04  BUY 20 SHOP @ 98.40 CAD, fee 4.95           -> cost 1,972.95 CAD
    2024-03-28  DIVIDEND 10 CAD on SHOP                      (on the March pack's date)
    2024-05-01  BUY 5 SHOP @ 100 CAD                         (after the March pack)

    pack 2024-03-28: AAPL 171.20 USD, SHOP  95.00 CAD, USD/CAD 1.3550
    pack 2024-06-28: AAPL 210.10 USD, SHOP 104.25 CAD, USD/CAD 1.3950

At the June pack:
    AAPL  2,101.00 USD x 1.395 = 2,930.895 CAD; P&L 2,930.895 - 2,556.390625 = 374.504375
          price effect    (2,101.00 - 1,876.25) x 1.395    = 313.52625
          currency effect  1,876.25 x (1.395 - 1.3625)      =  60.978125
    SHOP  25 x 104.25 = 2,606.25 CAD; cost 2,472.95; P&L 133.30, all price effect
    cash  CAD 10,000 - 1,972.95 + 10 - 500 = 7,537.05
          USD  5,000 - 1,876.25 = 3,123.75 x 1.395 = 4,357.63125 CAD
    total 2,930.895 + 2,606.25 + 7,537.05 + 4,357.63125 = 17,431.82625 CAD
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
import sqlalchemy as sa

import foliodb
from foliodb.config import Settings
from foliodb.domain.types import HoldingTerm
from foliodb.errors import NotFoundError
from foliodb.services import portfolios
from foliodb.store.tables import LotRow
from tests.builders import CsvFiles, buy, deposit, fx, price, sell

D = Decimal
JUNE = "PP_2024-06-28"
MARCH = "PP_2024-03-28"


def hand_worked_portfolio(db: foliodb.Database, files: CsvFiles) -> None:
    db.create_portfolio("Main", base_currency="CAD")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                deposit("T1", "2024-01-02", "10000", "CAD"),
                deposit("T2", "2024-01-02", "5000", "USD", fx_rate="1.3600"),
                buy(
                    "T3", "2024-01-03", "AAPL", "10", "187.50", "USD", fee="1.25", fx_rate="1.3625"
                ),
                buy("T4", "2024-01-04", "SHOP", "20", "98.40", "CAD", fee="4.95"),
                {
                    "external_id": "T5",
                    "trade_date": "2024-03-28",
                    "type": "DIVIDEND",
                    "symbol": "SHOP",
                    "amount": "10.00",
                    "currency": "CAD",
                },
                buy("T6", "2024-05-01", "SHOP", "5", "100.00", "CAD"),
            ]
        ),
    )
    db.import_prices(
        files.prices(
            [
                price("AAPL", "2024-03-28", "171.20", "USD"),
                price("SHOP", "2024-03-28", "95.00", "CAD"),
                price("AAPL", "2024-06-28", "210.10", "USD"),
                price("SHOP", "2024-06-28", "104.25", "CAD"),
            ]
        )
    )
    db.import_fx(
        files.fx(
            [
                fx("2024-03-28", "USD", "CAD", "1.3550"),
                fx("2024-06-28", "USD", "CAD", "1.3950"),
            ]
        )
    )
    assert db.create_pack("2024-03-28").pack_id == MARCH
    assert db.create_pack("2024-06-28").pack_id == JUNE


def close_to(value: Decimal, expected: Fraction) -> bool:
    """Equal to 30 decimal places (a ratio has no exact decimal form)."""
    return abs(Fraction(value) - expected) < Fraction(1, 10**30)


def test_positions_are_valued_at_the_pack_with_cost_at_trade_date_fx(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)

    aapl, shop = db.valuation("Main", pack=JUNE).positions

    assert (aapl.symbol, aapl.currency, aapl.quantity) == ("AAPL", "USD", D("10"))
    assert (aapl.price, aapl.price_date, aapl.fx_rate) == (
        D("210.10"),
        dt.date(2024, 6, 28),
        D("1.3950"),
    )
    assert aapl.market_value == D("2101.00")
    assert aapl.market_value_base == D("2930.895")
    assert (aapl.cost_basis, aapl.cost_basis_base) == (D("1876.25"), D("2556.390625"))
    assert aapl.unrealized_pnl_base == D("374.504375")
    assert aapl.price_effect_base == D("313.52625")
    assert aapl.currency_effect_base == D("60.978125")

    assert (shop.symbol, shop.currency, shop.quantity, shop.fx_rate) == (
        "SHOP",
        "CAD",
        D("25"),
        D("1"),
    )
    assert (shop.market_value, shop.market_value_base) == (D("2606.25"), D("2606.25"))
    assert (shop.cost_basis, shop.cost_basis_base) == (D("2472.95"), D("2472.95"))
    assert (shop.unrealized_pnl_base, shop.price_effect_base, shop.currency_effect_base) == (
        D("133.30"),
        D("133.30"),
        D("0"),
    )


def test_cash_is_converted_at_the_pack_rate_and_every_weight_is_its_share_of_the_total(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)

    result = db.valuation("Main", pack=JUNE)

    cad, usd = result.cash
    assert (cad.currency, cad.balance, cad.fx_rate, cad.value_base) == (
        "CAD",
        D("7537.05"),
        D("1"),
        D("7537.05"),
    )
    assert (usd.currency, usd.balance, usd.fx_rate, usd.value_base) == (
        "USD",
        D("3123.75"),
        D("1.3950"),
        D("4357.63125"),
    )
    total = Fraction("17431.82625")
    weights = {p.symbol: p.weight for p in result.positions} | {
        c.currency: c.weight for c in result.cash
    }
    expected = {
        "AAPL": Fraction("2930.895") / total,
        "SHOP": Fraction("2606.25") / total,
        "CAD": Fraction("7537.05") / total,
        "USD": Fraction("4357.63125") / total,
    }
    assert {k: close_to(w, expected[k]) for k, w in weights.items()} == dict.fromkeys(
        expected, True
    )
    assert close_to(sum(weights.values(), D(0)), Fraction(1))


def test_the_totals_add_up_positions_and_cash_in_the_base_currency(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)

    totals = db.valuation("Main", pack=JUNE).totals()

    assert totals == {
        "portfolio": "Main",
        "base_currency": "CAD",
        "pack_id": JUNE,
        "ledger_version": 1,  # one import
        "date": dt.date(2024, 6, 28),
        "securities_value": D("5537.145"),
        "cash_value": D("11894.68125"),
        "total_value": D("17431.82625"),
        "cost_basis_base": D("5029.340625"),
        "unrealized_pnl_base": D("507.804375"),
        "price_effect_base": D("446.82625"),
        "currency_effect_base": D("60.978125"),
    }


def test_valuing_by_date_uses_the_newest_sealed_pack_and_the_ledger_of_its_day(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)
    assert db.create_pack("2024-04-30").pack.status.value == "FAILED"  # no prices that day

    in_may = db.valuation("Main", date="2024-05-15")
    on_the_day = db.valuation("Main", date=dt.date(2024, 6, 28))
    day_before = db.valuation("Main", date="2024-06-27")
    latest = db.valuation("Main")

    assert [r.pack_id for r in (in_may, on_the_day, day_before, latest)] == [
        MARCH,
        JUNE,
        MARCH,
        JUNE,
    ]
    march = in_may.valuation
    assert march.date == dt.date(2024, 3, 28)
    # The March pack sees the dividend of its own day, not May's purchase.
    assert {p.symbol: p.quantity for p in march.positions} == {"AAPL": D("10"), "SHOP": D("20")}
    assert {c.currency: c.balance for c in march.cash} == {"CAD": D("8037.05"), "USD": D("3123.75")}
    aapl = march.positions[0]
    assert (aapl.market_value_base, aapl.price_effect_base, aapl.currency_effect_base) == (
        D("2319.76"),
        D("-222.55875"),
        D("-14.071875"),
    )
    assert march.total_value == D("16489.49125")


def test_valuing_before_the_first_sealed_pack_is_refused(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)

    with pytest.raises(NotFoundError, match="no sealed pricing pack dated on or before 2024-03-27"):
        db.valuation("Main", date="2024-03-27")
    with pytest.raises(NotFoundError, match="no pricing pack 'PP_2099-01-01'"):
        db.valuation("Main", pack="PP_2099-01-01")


def test_the_valuation_frame_has_the_documented_columns_as_floats(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)

    frame = db.valuation("Main", pack=JUNE).to_frame()

    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "symbol",
        "currency",
        "quantity",
        "price",
        "price_date",
        "market_value",
        "fx_rate",
        "market_value_base",
        "cost_basis",
        "cost_basis_base",
        "unrealized_pnl_base",
        "price_effect_base",
        "currency_effect_base",
        "weight",
    ]
    assert list(frame["symbol"]) == ["AAPL", "SHOP"]
    numeric = frame.columns.drop(["symbol", "currency", "price_date"])
    assert all(frame[name].dtype == "float64" for name in numeric)
    assert pd.api.types.is_datetime64_any_dtype(frame["price_date"])
    assert list(frame["market_value_base"]) == pytest.approx([2930.895, 2606.25])
    assert list(frame["currency_effect_base"]) == pytest.approx([60.978125, 0.0])


def test_a_ledger_rebuild_reproduces_the_stored_state_and_repairs_a_tampered_one(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)

    clean = db.rebuild("Main")
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(LotRow).where(LotRow.lot_id == "T3").values(open_quantity=D("999"))
        )
    tampered = db.rebuild("Main")
    repaired = db.rebuild("Main")

    assert (clean.identical, clean.transactions, clean.lots, clean.realized_gains) == (
        True,
        6,
        3,
        0,
    )
    assert not tampered.identical
    assert [d.split(":")[0] for d in tampered.differences] == ["lot T3"]
    assert repaired.identical
    assert {lot.lot_id: lot.open_quantity for lot in db.lots("Main").lots}["T3"] == D("10")


def test_a_fifo_sale_realizes_each_lot_slice_at_trade_date_fx(
    db: foliodb.Database, files: CsvFiles
) -> None:
    """15 XYZ sold for 15 x 130 - 3 fee = 1,947 USD at 1.35: 10 from the 2023 lot (bought at
    100, FX 1.30) and 5 from the 2024 lot (bought at 120, FX 1.40); proceeds split 10:5."""
    db.create_portfolio("Taxable", base_currency="CAD")
    db.import_transactions(
        "Taxable",
        files.transactions(
            [
                deposit("G1", "2023-01-10", "3000", "USD", fx_rate="1.34"),
                buy("G2", "2023-01-10", "XYZ", "10", "100", "USD", fx_rate="1.30"),
                buy("G3", "2024-02-01", "XYZ", "10", "120", "USD", fx_rate="1.40"),
                sell("G4", "2024-03-01", "XYZ", "15", "130", "USD", fee="3", fx_rate="1.35"),
            ]
        ),
    )

    gains = db.realized_gains("Taxable", year=2024)

    assert [
        (g.lot_id, g.tx_id, g.quantity, g.proceeds, g.cost_basis, g.gain) for g in gains.gains
    ] == [
        ("G2", "G4", D("10"), D("1298"), D("1000"), D("298")),
        ("G3", "G4", D("5"), D("649"), D("600"), D("49")),
    ]
    assert [(g.proceeds_base, g.cost_basis_base, g.gain_base, g.term) for g in gains.gains] == [
        (D("1752.30"), D("1300"), D("452.30"), HoldingTerm.LONG),
        (D("876.15"), D("840"), D("36.15"), HoldingTerm.SHORT),
    ]
    assert gains.total_base() == D("488.45")
    assert db.realized_gains("Taxable", year=2023).gains == ()
    assert len(db.realized_gains("Taxable").gains) == 2
    (lot,) = db.lots("Taxable").lots
    assert (
        lot.lot_id,
        lot.original_quantity,
        lot.open_quantity,
        lot.cost_basis,
        lot.cost_basis_base,
    ) == ("G3", D("10"), D("5"), D("600"), D("840"))
    assert list(gains.to_frame().columns) == [
        "lot_id",
        "symbol",
        "currency",
        "tx_id",
        "acquired_date",
        "disposed_date",
        "quantity",
        "proceeds",
        "cost_basis",
        "gain",
        "proceeds_base",
        "cost_basis_base",
        "gain_base",
        "term",
        "is_short",
    ]
    assert list(db.lots("Taxable").to_frame()["open_quantity"]) == [5.0]


def test_a_rebuild_check_names_the_differing_fields_and_changes_nothing(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(LotRow).where(LotRow.lot_id == "T3").values(open_quantity=D("999"))
        )

    first = db.rebuild("Main", repair=False)
    second = db.rebuild("Main", repair=False)

    (difference,) = first.differences
    assert difference.startswith("lot T3: open_quantity stored 999, replayed ")
    assert "cost_basis" not in difference
    assert not first.repaired
    assert second.differences == first.differences


def test_a_valuation_names_the_ledger_version_and_counts_the_transactions_it_leaves_out(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)
    before = db.valuation("Main", pack=JUNE)
    db.import_transactions(
        "Main", files.transactions([deposit("LATE", "2024-07-15", "100", "CAD")])
    )

    after = db.valuation("Main", pack=JUNE)

    assert (before.ledger_version, before.later_transactions) == (1, 0)
    assert (after.ledger_version, after.later_transactions) == (2, 1)
    assert after.valuation.total_value == before.valuation.total_value


def test_a_repeated_valuation_comes_from_memory_until_the_ledger_or_the_pack_changes(
    db: foliodb.Database, db_url: str, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)
    first = db.valuation("Main", pack=JUNE)
    assert db.valuation("Main", pack=JUNE) is first  # the same ledger at the same sealed pack
    assert db.valuation("Main") is first  # the newest sealed pack is JUNE
    assert db.valuation("Main", pack=MARCH) is not first

    # an edit through another connection (another server worker) is seen at once
    other = foliodb.connect(db_url)
    try:
        other.import_transactions(
            "Main", files.transactions([deposit("T7", "2024-06-01", "1000", "CAD")])
        )
    finally:
        other.close()
    edited = db.valuation("Main", pack=JUNE)
    assert edited is not first
    assert edited.valuation.total_value == first.valuation.total_value + 1000

    # a restated pack is a new pack id, and the default follows it
    db.import_prices(files.prices([price("SHOP", "2024-06-28", "105.25", "CAD")]))
    restated = db.create_pack("2024-06-28")
    assert restated.pack_id == JUNE + ".2"
    newest = db.valuation("Main")
    assert newest.pack_id == JUNE + ".2"
    assert newest.valuation.total_value == edited.valuation.total_value + 25
    assert db.valuation("Main", pack=JUNE) is edited  # the old pack's figures stay as they were


def test_a_valuation_cache_of_zero_keeps_nothing(
    db: foliodb.Database, db_url: str, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)
    uncached = foliodb.connect(db_url, settings=Settings(valuation_cache=0))
    try:
        first = uncached.valuation("Main", pack=JUNE)
        again = uncached.valuation("Main", pack=JUNE)
    finally:
        uncached.close()
    assert again is not first and again == first


def test_a_portfolio_made_under_a_deleted_ones_id_is_not_valued_from_its_memory(
    db: foliodb.Database, files: CsvFiles
) -> None:
    hand_worked_portfolio(db, files)
    gone = db.valuation("Main", pack=JUNE)
    deleted = portfolios.find_record(db.engine, portfolios.LOCAL_USER, "Main")
    portfolios.delete_portfolio(db.engine, deleted.id)
    db.create_portfolio("Main", base_currency="CAD", owner="bob@example.com")
    db.import_transactions(
        "Main",
        files.transactions([deposit("B1", "2024-01-02", "5", "CAD")]),
        owner="bob@example.com",
    )
    fresh = db.valuation("Main", pack=JUNE, owner="bob@example.com")
    assert fresh.valuation.total_value == 5 and fresh.valuation.positions == ()
    assert fresh is not gone
