"""Rerunning an idempotent use case that lost a race for a natural key."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError

from foliodb.errors import ConflictError

P = ParamSpec("P")
R = TypeVar("R")

#: Attempts before a use case that keeps losing the race gives up.
ATTEMPTS = 3


def rerun_on_conflict(use_case: Callable[P, R]) -> Callable[P, R]:
    """Run an idempotent use case again when a concurrent writer stored the same natural key
    first (the database refuses ours with an IntegrityError): the rerun sees that row and
    adds only what is still missing."""

    @functools.wraps(use_case)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                return use_case(*args, **kwargs)
            except IntegrityError as exc:
                if attempt == ATTEMPTS - 1:
                    raise ConflictError(
                        f"{use_case.__name__}: concurrent writes kept conflicting; nothing was "
                        f"written, run it again ({exc.orig})"
                    ) from exc
        raise AssertionError("unreachable")

    return run
