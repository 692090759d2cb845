"""`foliodb data gaps SYMBOL`: expected sessions or minutes without a bar, as ranges."""

from __future__ import annotations
