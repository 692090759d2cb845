"""Pure analytics over float64 arrays: returns, risk metrics, money-weighted returns."""
