"""Annualisation constants: how many return periods of each frequency make one year.

Every analytics function that annualises takes ``periods_per_year`` and defaults to
``TRADING_DAYS_PER_YEAR``. Rates compound with ``periods_per_year`` as the exponent; dispersion
scales with its square root (docs/conventions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

TRADING_DAYS_PER_YEAR: Final = 252
WEEKS_PER_YEAR: Final = 52
MONTHS_PER_YEAR: Final = 12
QUARTERS_PER_YEAR: Final = 4
YEARS_PER_YEAR: Final = 1

# Keyed like empyrical's ``period`` names, so a frequency read from a file maps to a count.
PERIODS_PER_YEAR: Final[Mapping[str, int]] = MappingProxyType(
    {
        "daily": TRADING_DAYS_PER_YEAR,
        "weekly": WEEKS_PER_YEAR,
        "monthly": MONTHS_PER_YEAR,
        "quarterly": QUARTERS_PER_YEAR,
        "yearly": YEARS_PER_YEAR,
    }
)
