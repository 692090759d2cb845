"""Paging limits shared by the list use cases."""

from __future__ import annotations

from foliodb.errors import InputError, InputProblem

#: The most rows one page may hold.
MAX_PAGE = 1000


def check_limit(limit: int) -> None:
    """Refuse a page size outside 1..MAX_PAGE, naming the field."""
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(
            InputProblem(
                "is out of range", field="limit", value=str(limit), expected=f"1 to {MAX_PAGE}"
            )
        )
