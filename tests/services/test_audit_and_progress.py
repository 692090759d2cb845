"""Every import leaves an audit entry, names its accounts and reports its progress."""

from __future__ import annotations

from sqlalchemy import select

import foliodb
from foliodb.store.tables import AccountRow, AuditLogRow
from tests.builders import CsvFiles, buy, deposit, fx, price


def audit_actions(db: foliodb.Database) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(AuditLogRow.action, AuditLogRow.entity_type).order_by(AuditLogRow.id)
        ).all()
    return [(action, entity) for action, entity in rows]


def test_each_import_that_changes_something_writes_one_audit_entry(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    tx = files.transactions(
        [
            deposit("d1", "2024-01-02", "1000", "USD"),
            buy("b1", "2024-01-03", "ACME", "2", "100", "USD"),
        ]
    )
    prices = files.prices([price("ACME", "2024-01-03", "101", "USD")])
    rates = files.fx([fx("2024-01-03", "EUR", "USD", "1.09")])

    for _ in range(2):  # the second round changes nothing and so records nothing
        db.import_transactions("Main", tx)
        db.import_prices(prices)
        db.import_fx(rates)

    assert audit_actions(db) == [
        ("create", "portfolio"),
        ("import_transactions", "portfolio"),
        ("import_prices", "prices"),
        ("import_fx", "fx_rates"),
    ]


def test_the_accounts_transactions_name_are_recorded_once(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    rows = [
        deposit("d1", "2024-01-02", "1000", "USD", account="ib-main"),
        deposit("d2", "2024-01-03", "500", "USD", account="ib-main"),
        deposit("d3", "2024-01-04", "500", "USD", account="questrade"),
    ]
    db.import_transactions("Main", files.transactions(rows))
    db.import_transactions(
        "Main",
        files.transactions([{**deposit("d4", "2024-01-05", "1", "USD"), "account": "questrade"}]),
    )
    with db.engine.connect() as conn:
        names = conn.execute(select(AccountRow.name).order_by(AccountRow.name)).scalars().all()
    assert names == ["ib-main", "questrade"]


def test_an_import_reports_reading_checking_and_writing(
    db: foliodb.Database, files: CsvFiles
) -> None:
    db.create_portfolio("Main")
    rows = [deposit("d0", "2024-01-02", "100000", "USD")] + [
        buy(f"b{i:04d}", "2024-01-03", "ACME", "1", "10", "USD") for i in range(2500)
    ]
    seen: list[tuple[str, int, int]] = []
    db.import_transactions(
        "Main", files.transactions(rows), progress=lambda *event: seen.append(event)
    )
    stages = [stage for stage, _, _ in seen]
    assert stages[0] == "reading"
    assert ("reading", 999, 2501) in seen  # at line 1000: 999 data rows of 2501 read
    assert stages.index("checking") < stages.index("writing")
    assert seen[-1] == ("writing", 2501, 2501)
