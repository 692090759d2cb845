"""Unit of work: one use case, one database transaction."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from foliodb.errors import StorageError


class UnitOfWork:
    """`with uow:` opens a session; `uow.commit()` makes the work durable, and leaving the
    block without committing (or by an exception) rolls everything back."""

    def __init__(self, engine: Engine) -> None:
        self._factory = sessionmaker(engine, expire_on_commit=False)
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()
        if isinstance(exc, OperationalError):
            # Not a bug and not bad input: the database is busy or gone. Say so, keep the cause.
            raise StorageError(
                f"the database did not complete the operation and nothing was written: "
                f"{exc.orig} (if another foliodb is writing, try again when it is done)"
            ) from exc

    def commit(self) -> None:
        self.session.commit()
