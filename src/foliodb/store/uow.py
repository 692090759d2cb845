"""Unit of work: one use case, one database transaction."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


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

    def commit(self) -> None:
        self.session.commit()
