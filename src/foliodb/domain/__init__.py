"""Pure domain logic: types, money, the ledger replay, booking, pricing lookups, valuation."""
