"""Every mutation of the auth service writes exactly one audit entry, with the right before
and after; what changes nothing, and signing in, write none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import foliodb
from foliodb.config import Settings
from foliodb.services import auth
from tests.auth.conftest import PASSWORD, audit_entries, make_user


def test_each_mutation_writes_exactly_one_entry(db: foliodb.Database, settings: Settings) -> None:
    owner = make_user(db, "owner@example.com")
    db.create_portfolio("Family", owner="owner@example.com")
    pid, _ = auth.find_portfolio(db.engine, "Family")
    state: dict[str, Any] = {}

    def new_user() -> None:
        state["alice"], _ = auth.create_user(db.engine, "alice@example.com", "USER", PASSWORD)

    def new_key() -> None:
        state["key"], _ = auth.create_api_key(db.engine, state["alice"], "ci")

    def alice_id() -> str:  # called once alice exists
        return str(state["alice"].user_id)

    def grant_id() -> str:
        return f"{pid}:{state['alice'].user_id}"

    def revoked_at() -> str:
        (key,) = auth.list_api_keys(db.engine, state["alice"])
        assert key.revoked_at is not None
        return key.revoked_at.isoformat()

    def grant_of(scope: str) -> dict[str, Any]:
        return {"portfolio_id": pid, "grantee": "alice@example.com", "scope": scope}

    # (mutation, expected (action, entity_type, entity_id, user_id, before, after) or None)
    steps: list[tuple[str, Callable[[], object], Callable[[], tuple[Any, ...]] | None]] = [
        (
            "create user",
            new_user,
            lambda: (
                "create",
                "user",
                alice_id(),
                None,
                None,
                {"email": "alice@example.com", "role": "USER", "display_name": None},
            ),
        ),
        (
            "set role",
            lambda: auth.set_role(db.engine, "alice@example.com", "MANAGER"),
            lambda: ("set_role", "user", alice_id(), None, {"role": "USER"}, {"role": "MANAGER"}),
        ),
        (
            "set the same role",
            lambda: auth.set_role(db.engine, "alice@example.com", "MANAGER"),
            None,
        ),
        (
            "set password",
            lambda: auth.set_password(db.engine, "alice@example.com", "another password"),
            lambda: (
                "set_password",
                "user",
                alice_id(),
                None,
                {"has_password": True},
                {"has_password": True},
            ),
        ),
        (
            "create API key",
            new_key,
            lambda: (
                "create",
                "api_key",
                str(state["key"].id),
                state["alice"].user_id,
                None,
                {"name": "ci", "user_id": state["alice"].user_id},
            ),
        ),
        (
            "revoke API key",
            lambda: auth.revoke_api_key(db.engine, state["alice"], state["key"].id),
            lambda: (
                "revoke",
                "api_key",
                str(state["key"].id),
                state["alice"].user_id,
                {"revoked_at": None},
                {"revoked_at": revoked_at()},
            ),
        ),
        (
            "revoke it again",
            lambda: auth.revoke_api_key(db.engine, state["alice"], state["key"].id),
            None,
        ),
        (
            "grant",
            lambda: auth.grant(db.engine, owner, pid, "alice@example.com", "read"),
            lambda: ("grant", "portfolio_grant", grant_id(), owner.user_id, None, grant_of("read")),
        ),
        (
            "grant the same",
            lambda: auth.grant(db.engine, owner, pid, "alice@example.com", "read"),
            None,
        ),
        (
            "change scope",
            lambda: auth.grant(db.engine, owner, pid, "alice@example.com", "write"),
            lambda: (
                "set_scope",
                "portfolio_grant",
                grant_id(),
                owner.user_id,
                grant_of("read"),
                grant_of("write"),
            ),
        ),
        (
            "revoke grant",
            lambda: auth.revoke_grant(db.engine, owner, pid, "alice@example.com"),
            lambda: (
                "revoke",
                "portfolio_grant",
                grant_id(),
                owner.user_id,
                grant_of("write"),
                None,
            ),
        ),
        (
            "sign in, refresh, sign out",
            lambda: auth.revoke_refresh(
                db.engine,
                auth.refresh(
                    db.engine,
                    settings,
                    auth.login(
                        db.engine, settings, "alice@example.com", "another password", None
                    ).refresh_token,
                ).refresh_token,
            ),
            None,
        ),
    ]
    wrong = []
    for name, mutate, expected in steps:
        before = len(audit_entries(db))
        mutate()
        new = audit_entries(db)[before:]
        got = [(e.action, e.entity_type, e.entity_id, e.user_id, e.before, e.after) for e in new]
        want = [] if expected is None else [expected()]
        if got != want:
            wrong.append(f"{name}: wrote {got}, expected {want}")
    assert wrong == []
