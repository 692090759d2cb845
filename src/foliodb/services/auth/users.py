"""Users: creating them, reading them, their roles and passwords.

Functions that manage users take `actor`: the principal asking (None: the local operator at
the CLI, who holds the database itself). Every mutation writes exactly one audit entry, which
never holds a secret or a hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foliodb.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDeniedError
from foliodb.services.auth.passwords import (
    check_password,
    generate_password,
    hash_password,
    verify_password,
)
from foliodb.services.auth.principals import Principal, Role, parse_email, parse_role
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.repos import auth as auth_repo
from foliodb.store.tables import UserRow
from foliodb.store.uow import UnitOfWork


@dataclass(frozen=True)
class UserInfo:
    user_id: int
    email: str
    role: Role
    display_name: str | None
    has_password: bool
    created_at: dt.datetime

    @property
    def principal(self) -> Principal:
        return Principal(self.user_id, self.email, self.role)


def _user_info(row: UserRow) -> UserInfo:
    return UserInfo(
        row.id,
        row.email,
        Role(row.role),
        row.display_name,
        row.password_hash is not None,
        row.created_at,
    )


def _require_admin(actor: Principal | None) -> None:
    if actor is not None and actor.role is not Role.ADMIN:
        raise PermissionDeniedError("only an ADMIN manages users")


def load_user(session: Session, email: str) -> UserRow:
    """A user by email; NotFoundError when there is none."""
    row = auth_repo.user_by_email(session, parse_email(email))
    if row is None:
        raise NotFoundError(f"no user {email.strip()!r}")
    return row


def create_user(
    engine: Engine,
    email: str,
    role: Role | str,
    password: str | None = None,
    *,
    display_name: str | None = None,
    actor: Principal | None = None,
) -> tuple[Principal, str | None]:
    """Create a user; without `password` one is generated and returned (show it once: only
    its hash is kept). Returns the principal and the generated password, if any."""
    _require_admin(actor)
    address, kind = parse_email(email), parse_role(role)
    secret = generate_password() if password is None else password
    check_password(secret)
    password_hash = hash_password(secret)
    with UnitOfWork(engine) as uow:
        existing = auth_repo.user_by_email(uow.session, address)
        if existing is not None:
            hint = (
                ""
                if existing.password_hash
                else f" (it has no password: set one with `foliodb user passwd {address}`)"
            )
            raise ConflictError(f"user {address} already exists{hint}")
        row = UserRow(
            email=address,
            role=kind.value,
            display_name=display_name,
            password_hash=password_hash,
            created_at=utcnow(),
        )
        uow.session.add(row)
        uow.session.flush()
        repos.audit(
            uow.session,
            "create",
            "user",
            str(row.id),
            user_id=actor.user_id if actor else None,
            after={"email": address, "role": kind.value, "display_name": display_name},
        )
        uow.commit()
        return Principal(row.id, address, kind), secret if password is None else None


def get_user(engine: Engine, user: str | int, *, actor: Principal | None = None) -> UserInfo:
    """One user, by email or id (an ADMIN sees anyone, others only themselves)."""
    with UnitOfWork(engine) as uow:
        row = uow.session.get(UserRow, user) if isinstance(user, int) else None
        if isinstance(user, str):
            row = load_user(uow.session, user)
        if row is None or (
            actor is not None and actor.role is not Role.ADMIN and actor.user_id != row.id
        ):
            raise NotFoundError(f"no user {str(user).strip()!r}")
        return _user_info(row)


def list_users(engine: Engine, *, actor: Principal | None = None) -> list[UserInfo]:
    _require_admin(actor)
    with UnitOfWork(engine) as uow:
        return [_user_info(row) for row in auth_repo.list_users(uow.session)]


def set_role(
    engine: Engine, email: str, role: Role | str, *, actor: Principal | None = None
) -> UserInfo:
    """Change a user's role; it takes effect on their next request (tokens re-read it). The
    last ADMIN cannot be demoted."""
    _require_admin(actor)
    kind = parse_role(role)
    with UnitOfWork(engine) as uow:
        row = load_user(uow.session, email)
        before = row.role
        if before == kind.value:
            return _user_info(row)
        if before == Role.ADMIN and auth_repo.count_admins(uow.session) <= 1:
            raise ConflictError(f"{row.email} is the last ADMIN; make another ADMIN first")
        row.role = kind.value
        repos.audit(
            uow.session,
            "set_role",
            "user",
            str(row.id),
            user_id=actor.user_id if actor else None,
            before={"role": before},
            after={"role": kind.value},
        )
        info = _user_info(row)
        uow.commit()
        return info


def set_password(
    engine: Engine, email: str, password: str | None = None, *, actor: Principal | None = None
) -> str | None:
    """Set a user's password (an ADMIN for anyone, a user for themselves); without one a
    password is generated and returned. Every refresh token of the user is revoked."""
    with UnitOfWork(engine) as uow:
        row = load_user(uow.session, email)
        if actor is not None and actor.role is not Role.ADMIN and actor.user_id != row.id:
            raise PermissionDeniedError("only an ADMIN sets another user's password")
    secret = generate_password() if password is None else password
    check_password(secret)
    password_hash = hash_password(secret)
    with UnitOfWork(engine) as uow:
        row = load_user(uow.session, email)
        had_password = row.password_hash is not None
        row.password_hash = password_hash
        auth_repo.revoke_user_refresh_tokens(uow.session, row.id, utcnow())
        repos.audit(
            uow.session,
            "set_password",
            "user",
            str(row.id),
            user_id=actor.user_id if actor else None,
            before={"has_password": had_password},
            after={"has_password": True},
        )
        uow.commit()
    return secret if password is None else None


def change_password(
    engine: Engine, principal: Principal, current_password: str, new_password: str
) -> None:
    """A user changes their own password, proving they know the current one."""
    with UnitOfWork(engine) as uow:
        row = uow.session.get(UserRow, principal.user_id)
        stored = row.password_hash if row is not None else None
    if not verify_password(stored, current_password):
        raise AuthenticationError("the current password is wrong")
    set_password(engine, principal.email, new_password, actor=principal)
