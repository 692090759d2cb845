"""Pricing packs: sealed when complete, restated when inputs change, FAILED with the reason."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
import sqlalchemy as sa

import foliodb
from foliodb.domain.types import FxRate, PackPrice, PackStatus
from foliodb.errors import NotFoundError, SealedPackError
from foliodb.services import pricing
from tests.builders import CsvFiles, buy, fx, price, sell

DAY = dt.date(2024, 6, 28)
EVE = dt.date(2024, 6, 27)
PACK = "PP_2024-06-28"


def holding_aapl_and_shop(db: foliodb.Database, files: CsvFiles) -> None:
    """A CAD portfolio holding a USD and a CAD stock, and a USD stock it no longer holds."""
    db.create_portfolio("Main", base_currency="CAD")
    db.import_transactions(
        "Main",
        files.transactions(
            [
                buy("T1", "2024-06-03", "AAPL", "10", "190.00", "USD", fx_rate="1.36"),
                buy("T2", "2024-06-03", "SHOP", "20", "98.40", "CAD"),
                buy("T3", "2024-06-03", "MSFT", "2", "400.00", "USD", fx_rate="1.36"),
                sell("T4", "2024-06-10", "MSFT", "2", "410.00", "USD", fx_rate="1.37"),
            ]
        ),
    )


def market_of_the_day(db: foliodb.Database, files: CsvFiles, aapl: str = "210.10") -> None:
    db.import_prices(
        files.prices(
            [
                price("AAPL", "2024-06-28", aapl, "USD"),
                price("SHOP", "2024-06-28", "104.25", "CAD"),
            ]
        )
    )
    db.import_fx(files.fx([fx("2024-06-28", "USD", "CAD", "1.3680")]))


def test_a_complete_pack_is_sealed_as_pp_date_with_the_sha256_of_its_contents(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    market_of_the_day(db, files)

    result = db.create_pack(DAY)

    pack = result.pack
    assert result.created
    assert (pack.pack_id, pack.date, pack.status) == (PACK, DAY, PackStatus.COMPLETE)
    assert (pack.supersedes, pack.reason) == (None, None)
    assert pack.sealed_at is not None
    assert pack.prices == (
        PackPrice("AAPL", Decimal("210.10"), "USD", DAY),
        PackPrice("SHOP", Decimal("104.25"), "CAD", DAY),
    )
    assert pack.fx_rates == (FxRate("USD", "CAD", Decimal("1.3680"), DAY),)
    # The seal: SHA-256 of the date line, then one canonical line per price, then per rate,
    # trailing zeros dropped.
    canonical = (
        "D|2024-06-28\n"
        "P|AAPL|210.1|USD|2024-06-28\nP|SHOP|104.25|CAD|2024-06-28\nF|USD|CAD|1.368|2024-06-28\n"
    )
    assert pack.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
    stored = db.pack(PACK)
    assert (stored.status, stored.content_hash) == (PackStatus.COMPLETE, pack.content_hash)
    assert (stored.prices, stored.fx_rates) == (pack.prices, pack.fx_rates)


def test_a_stored_pack_keeps_its_seal_time_as_an_aware_utc_instant(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    market_of_the_day(db, files)
    sealed = db.create_pack(DAY).pack

    stored = db.pack(PACK).sealed_at

    assert stored is not None
    assert stored.utcoffset() == dt.timedelta(0)  # SQLite keeps no zone: UTC is put back
    assert stored == sealed.sealed_at


def test_creating_a_pack_again_from_the_same_inputs_returns_the_sealed_pack(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    market_of_the_day(db, files)
    first = db.create_pack(DAY)

    again = db.create_pack(DAY)

    assert not again.created
    assert (again.pack_id, again.pack.content_hash) == (PACK, first.pack.content_hash)
    assert [p.pack_id for p in db.packs()] == [PACK]


def test_a_changed_price_restates_the_pack_and_leaves_the_sealed_one_untouched(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    market_of_the_day(db, files)
    first = db.create_pack(DAY)
    market_of_the_day(db, files, aapl="210.15")  # the vendor corrects AAPL's close

    restated = db.create_pack(DAY)

    assert restated.created
    assert (restated.pack_id, restated.pack.status) == (f"{PACK}.2", PackStatus.COMPLETE)
    assert restated.pack.supersedes == PACK
    assert restated.pack.content_hash != first.pack.content_hash
    assert restated.pack.prices[0] == PackPrice("AAPL", Decimal("210.15"), "USD", DAY)
    old = db.pack(PACK)
    assert (old.status, old.content_hash) == (PackStatus.COMPLETE, first.pack.content_hash)
    assert old.prices[0] == PackPrice("AAPL", Decimal("210.10"), "USD", DAY)
    assert [p.pack_id for p in db.packs()] == [f"{PACK}.2", PACK]
    assert db.valuation("Main").pack_id == f"{PACK}.2"


def test_a_held_security_without_a_price_fails_the_pack_naming_the_symbol(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)  # MSFT was sold: it needs no price
    db.import_prices(files.prices([price("SHOP", "2024-06-28", "104.25", "CAD")]))
    db.import_fx(files.fx([fx("2024-06-28", "USD", "CAD", "1.3680")]))

    result = db.create_pack(DAY)

    pack = result.pack
    assert (pack.pack_id, pack.status, pack.content_hash) == (PACK, PackStatus.FAILED, None)
    assert pack.reason is not None
    assert "no price on 2024-06-28 for held securities: AAPL" in pack.reason
    assert "MSFT" not in pack.reason
    assert db.pack(PACK).prices == ()
    with pytest.raises(NotFoundError, match="FAILED"):
        db.valuation("Main", pack=PACK)


def test_carry_forward_prices_a_held_security_at_its_last_price_keeping_that_date(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    db.import_prices(
        files.prices(
            [
                price("AAPL", "2024-06-26", "208.00", "USD"),
                price("AAPL", "2024-06-27", "209.00", "USD"),
                price("SHOP", "2024-06-28", "104.25", "CAD"),
            ]
        )
    )
    db.import_fx(files.fx([fx("2024-06-28", "USD", "CAD", "1.3680")]))

    result = db.create_pack(DAY, carry_forward=True)

    assert (result.pack_id, result.pack.status) == (PACK, PackStatus.COMPLETE)
    assert result.carried == ("AAPL",)
    assert result.pack.prices == (
        PackPrice("AAPL", Decimal("209.00"), "USD", EVE),
        PackPrice("SHOP", Decimal("104.25"), "CAD", DAY),
    )
    aapl = db.valuation("Main").positions[0]
    assert (aapl.symbol, aapl.price, aapl.price_date) == ("AAPL", Decimal("209.00"), EVE)


def test_a_missing_fx_rate_fails_the_pack_naming_the_pair(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    db.import_prices(
        files.prices(
            [
                price("AAPL", "2024-06-28", "210.10", "USD"),
                price("SHOP", "2024-06-28", "104.25", "CAD"),
            ]
        )
    )
    db.import_fx(files.fx([fx("2024-06-27", "USD", "CAD", "1.3650")]))  # the day before

    pack = db.create_pack(DAY).pack

    assert pack.status is PackStatus.FAILED
    assert pack.reason is not None
    assert "no FX rate on 2024-06-28 for USD/CAD" in pack.reason


def test_the_application_refuses_to_change_a_sealed_pack(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    market_of_the_day(db, files)
    sealed = db.create_pack(DAY).pack

    with pytest.raises(SealedPackError, match="sealed"):
        pricing.replace_pack_price(db.engine, PACK, PackPrice("AAPL", Decimal("1"), "USD", DAY))

    assert db.pack(PACK).prices == sealed.prices


#: Every kind of write to a sealed pack's contents, and unsealing or deleting the pack itself.
WRITES_TO_A_SEALED_PACK = [
    f"UPDATE pack_prices SET price = 1 WHERE pack_id = '{PACK}'",
    f"DELETE FROM pack_prices WHERE pack_id = '{PACK}'",
    "INSERT INTO pack_prices (pack_id, symbol, price, currency, price_date) "
    f"VALUES ('{PACK}', 'MSFT', 400, 'USD', '2024-06-28')",
    f"UPDATE pack_fx_rates SET rate = 2 WHERE pack_id = '{PACK}'",
    f"DELETE FROM pack_fx_rates WHERE pack_id = '{PACK}'",
    "INSERT INTO pack_fx_rates (pack_id, base, quote, rate, rate_date) "
    f"VALUES ('{PACK}', 'EUR', 'CAD', 1.5, '2024-06-28')",
    f"UPDATE pricing_packs SET status = 'PENDING' WHERE pack_id = '{PACK}'",
    f"DELETE FROM pricing_packs WHERE pack_id = '{PACK}'",
]


def test_the_database_itself_refuses_any_write_to_a_sealed_pack(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    market_of_the_day(db, files)
    sealed = db.create_pack(DAY).pack
    accepted, refused_otherwise = [], []

    for statement in WRITES_TO_A_SEALED_PACK:
        with db.engine.connect() as connection:
            try:
                connection.execute(sa.text(statement))
                connection.commit()
                accepted.append(statement)
            except sa.exc.DBAPIError as exc:
                if "is sealed and cannot change" not in str(exc.orig):
                    refused_otherwise.append(f"{statement}: {exc.orig}")

    assert accepted == []
    assert refused_otherwise == []
    after = db.pack(PACK)
    assert (after.status, after.content_hash) == (PackStatus.COMPLETE, sealed.content_hash)
    assert (after.prices, after.fx_rates) == (sealed.prices, sealed.fx_rates)


def test_a_failed_attempt_is_replaced_by_the_next_and_never_numbered(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    db.import_prices(files.prices([price("SHOP", "2024-06-28", "104.25", "CAD")]))
    db.import_fx(files.fx([fx("2024-06-28", "USD", "CAD", "1.3680")]))
    assert db.create_pack(DAY).pack.status is PackStatus.FAILED  # AAPL has no price

    db.import_prices(files.prices([price("AAPL", "2024-06-28", "210.10", "USD")]))
    sealed = db.create_pack(DAY)

    assert (sealed.pack_id, sealed.pack.status, sealed.pack.supersedes) == (
        PACK,
        PackStatus.COMPLETE,
        None,
    )
    assert [(p.pack_id, p.status) for p in db.packs()] == [(PACK, "COMPLETE")]


def test_a_failed_restatement_leaves_the_sealed_pack_and_records_nothing(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    market_of_the_day(db, files)
    db.create_pack(DAY)
    db.import_prices(files.prices([price("AAPL", "2024-06-28", "211.00", "USD")]))
    with db.engine.begin() as connection:  # the day's FX rate disappears
        connection.exec_driver_sql("delete from fx_rates")

    attempt = db.create_pack(DAY)

    assert (attempt.pack_id, attempt.created) == (PACK, False)
    assert attempt.failure is not None
    assert "no FX rate on 2024-06-28 for USD/CAD" in attempt.failure
    assert [p.pack_id for p in db.packs()] == [PACK]


def test_two_dates_with_the_same_carried_contents_have_different_seals(
    db: foliodb.Database, files: CsvFiles
) -> None:
    holding_aapl_and_shop(db, files)
    market_of_the_day(db, files)

    first = db.create_pack(DAY)
    next_day = db.create_pack(DAY + dt.timedelta(days=3), carry_forward=True)

    assert next_day.pack.prices == first.pack.prices
    assert next_day.pack.content_hash != first.pack.content_hash
