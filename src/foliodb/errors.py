"""The one exception hierarchy of foliodb: every error a user can cause is a FoliodbError."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class FoliodbError(Exception):
    """Root of every error foliodb raises on purpose."""


@dataclass(frozen=True)
class InputProblem:
    """One problem with one value of user input, located as precisely as we can."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    value: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        parts = [f"{where}: " if where else ""]
        if self.field is not None:
            parts.append(f"field '{self.field}'")
            if self.value is not None:
                parts.append(f" value {self.value!r}")
            parts.append(": ")
        parts.append(self.message)
        if self.expected:
            parts.append(f" (expected {self.expected})")
        return "".join(parts)


class InputError(FoliodbError, ValueError):
    """Bad user input; carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[InputProblem] | InputProblem | str) -> None:
        if isinstance(problems, str):
            problems = [InputProblem(problems)]
        elif isinstance(problems, InputProblem):
            problems = [problems]
        self.problems: Sequence[InputProblem] = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in input:\n" if count > 1 else ""
        super().__init__(head + "\n".join(str(p) for p in self.problems))


class LedgerError(InputError):
    """A transaction the ledger cannot apply (for example selling more than is held)."""

    def __init__(self, message: str, tx_id: str | None = None, field: str = "quantity") -> None:
        self.tx_id = tx_id
        self.field = field  # the transaction field at fault, for the file-and-line report
        super().__init__(InputProblem(message))


class NotFoundError(FoliodbError, LookupError):
    """A named thing (portfolio, pack, security, lot) does not exist."""


class ConflictError(FoliodbError):
    """The request contradicts what is stored (duplicate name, changed external id...)."""


class SealedPackError(ConflictError):
    """Something tried to change a sealed (COMPLETE) pricing pack."""


class FxRateMissingError(FoliodbError, LookupError):
    """No direct, inverse or triangulated FX rate exists for a pair in a pack."""

    def __init__(self, base: str, quote: str, pack_id: str | None) -> None:
        self.base, self.quote, self.pack_id = base, quote, pack_id
        where = f" in pack {pack_id}" if pack_id else ""
        super().__init__(
            f"no FX rate for {base}/{quote}{where}: "
            f"no direct, inverse or triangulated (via USD or EUR) rate"
        )


class StorageError(FoliodbError):
    """The database could not complete a unit of work (locked by another writer past the busy
    timeout, connection lost...). It was rolled back: nothing of it was written."""


class PriceMissingError(FoliodbError, LookupError):
    """A held security has no price in the pack used for valuation."""


class AuthenticationError(FoliodbError):
    """Who is asking is not established: wrong email or password, a bad, expired or revoked
    token or API key (HTTP 401). A failed sign-in never says whether the email or the
    password was wrong."""


class PermissionDeniedError(FoliodbError):
    """Who is asking is known and may see the thing, but may not do this to it (HTTP 403)."""


class RateLimitedError(FoliodbError):
    """Too many attempts in the window; `retry_after` seconds until one is accepted (HTTP 429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)
