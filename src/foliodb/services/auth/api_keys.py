"""API keys: long-lived secrets a user creates for scripts, kept only as a digest."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, select

from foliodb.errors import AuthenticationError, InputError, InputProblem, NotFoundError
from foliodb.services.auth.passwords import digest
from foliodb.services.auth.principals import Principal, Role
from foliodb.store import repos
from foliodb.store.base import utcnow
from foliodb.store.repos import auth as auth_repo
from foliodb.store.tables import UserRow
from foliodb.store.tables_auth import ApiKeyRow
from foliodb.store.uow import UnitOfWork


@dataclass(frozen=True)
class ApiKeyInfo:
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


API_KEY_PREFIX = "fdb_"
#: last_used_at of an API key is written at most this often (not one write per request).
API_KEY_TOUCH_INTERVAL = dt.timedelta(seconds=60)
_API_KEY = re.compile(r"fdb_([0-9]{1,18})_[A-Za-z0-9_-]{20,100}")


def _key_info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.name, row.created_at, row.last_used_at, row.revoked_at)


def create_api_key(engine: Engine, principal: Principal, name: str) -> tuple[ApiKeyInfo, str]:
    """A new API key of the principal's; the secret is returned once and kept only hashed."""
    label = name.strip()
    if not label or len(label) > 100:
        raise InputError(
            InputProblem(
                "must be 1 to 100 characters", field="name", value=name, expected="a label"
            )
        )
    with UnitOfWork(engine) as uow:
        row = ApiKeyRow(user_id=principal.user_id, name=label, key_hash="", created_at=utcnow())
        uow.session.add(row)
        uow.session.flush()
        secret = f"{API_KEY_PREFIX}{row.id}_{secrets.token_urlsafe(32)}"
        row.key_hash = digest(secret)
        repos.audit(
            uow.session,
            "create",
            "api_key",
            str(row.id),
            user_id=principal.user_id,
            after={"name": label, "user_id": principal.user_id},
        )
        info = _key_info(row)
        uow.commit()
        return info, secret


def list_api_keys(engine: Engine, principal: Principal) -> list[ApiKeyInfo]:
    with UnitOfWork(engine) as uow:
        return [_key_info(r) for r in auth_repo.list_api_keys(uow.session, principal.user_id)]


def revoke_api_key(engine: Engine, principal: Principal, key_id: int) -> ApiKeyInfo:
    """Revoke one of the principal's keys (an ADMIN: anyone's). Revoking twice changes
    nothing; someone else's key is not found."""
    with UnitOfWork(engine) as uow:
        row = uow.session.get(ApiKeyRow, key_id)
        if row is None or (principal.role is not Role.ADMIN and row.user_id != principal.user_id):
            raise NotFoundError(f"no API key {key_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            repos.audit(
                uow.session,
                "revoke",
                "api_key",
                str(row.id),
                user_id=principal.user_id,
                before={"revoked_at": None},
                after={"revoked_at": row.revoked_at.isoformat()},
            )
        info = _key_info(row)
        uow.commit()
        return info


def principal_from_api_key(engine: Engine, secret: str) -> Principal:
    """The principal of a valid, unrevoked API key; its last use is recorded (to the minute)."""
    match = _API_KEY.fullmatch(secret)
    if match is None:
        raise AuthenticationError("invalid API key")
    with UnitOfWork(engine) as uow:
        found = uow.session.execute(
            select(ApiKeyRow, UserRow)
            .join(UserRow, ApiKeyRow.user_id == UserRow.id)
            .where(ApiKeyRow.id == int(match.group(1)))
        ).one_or_none()
        if found is None:
            raise AuthenticationError("invalid API key")
        row, user = found
        if row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest(secret)):
            raise AuthenticationError("invalid API key")
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= API_KEY_TOUCH_INTERVAL:
            row.last_used_at = now
            uow.commit()
        return Principal(user.id, user.email, Role(user.role))
