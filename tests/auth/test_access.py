"""Who may read, write and share a portfolio: every role against every relation to it, and
sharing itself (grant, change of scope, revoke, list)."""

from __future__ import annotations

from typing import Any

import pytest

import foliodb
from foliodb.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from foliodb.services import auth
from tests.auth.conftest import make_user

ROLES = ("ADMIN", "MANAGER", "USER", "VIEWER")
RELATIONS = ("none", "read grant", "write grant", "owner")

#: The rules of docs/security.md, written out by hand: (access, may share) per role and
#: relation to the portfolio.
EXPECTED: dict[tuple[str, str], tuple[str | None, bool]] = {
    ("ADMIN", "none"): ("owner", True),
    ("ADMIN", "read grant"): ("owner", True),
    ("ADMIN", "write grant"): ("owner", True),
    ("ADMIN", "owner"): ("owner", True),
    ("MANAGER", "none"): (None, False),
    ("MANAGER", "read grant"): ("read", False),
    ("MANAGER", "write grant"): ("write", True),
    ("MANAGER", "owner"): ("owner", True),
    ("USER", "none"): (None, False),
    ("USER", "read grant"): ("read", False),
    ("USER", "write grant"): ("write", False),
    ("USER", "owner"): ("owner", True),
    ("VIEWER", "none"): (None, False),
    ("VIEWER", "read grant"): ("read", False),
    ("VIEWER", "write grant"): ("read", False),
    ("VIEWER", "owner"): ("read", False),
}


def set_up_case(db: foliodb.Database, role: str, relation: str) -> tuple[auth.Principal, int]:
    """A principal with `role` standing in `relation` to a portfolio; both returned."""
    tag = f"{role}-{relation.replace(' ', '-')}".lower()
    owner = make_user(db, f"owner-{tag}@example.com")
    # A VIEWER owns a portfolio only by having been demoted after creating it.
    who = make_user(db, f"{tag}@example.com", "USER" if role == "VIEWER" else role)
    portfolio = db.create_portfolio(tag, owner=who.email if relation == "owner" else owner.email)
    portfolio_id, _ = auth.find_portfolio(db.engine, portfolio.name)
    if relation.endswith("grant"):
        auth.grant(db.engine, owner, portfolio_id, who.email, relation.split()[0])
    if role == "VIEWER":
        auth.set_role(db.engine, who.email, "VIEWER")
        who = auth.get_user(db.engine, who.email).principal
    return who, portfolio_id


def outcome(call: Any, *args: Any) -> str:
    try:
        call(*args)
    except NotFoundError:
        return "not found"
    except PermissionDeniedError:
        return "denied"
    return "ok"


def test_every_role_gets_exactly_the_access_its_relation_allows(db: foliodb.Database) -> None:
    make_user(db, "spare@example.com")  # someone to share with
    wrong = []
    for (role, relation), (level, shares) in EXPECTED.items():
        who, portfolio_id = set_up_case(db, role, relation)
        got = {
            "access": auth.access(db.engine, who, portfolio_id),
            "read": outcome(auth.require_portfolio, db.engine, who, portfolio_id, "read"),
            "write": outcome(auth.require_portfolio, db.engine, who, portfolio_id, "write"),
            "own": outcome(auth.require_portfolio, db.engine, who, portfolio_id, "owner"),
            "share": outcome(auth.grant, db.engine, who, portfolio_id, "spare@example.com", "read"),
            "visible": (
                (visible := auth.visible_portfolio_ids(db.engine, who)) is None
                or portfolio_id in visible
            ),
        }
        want = {
            "access": level,
            "read": "ok" if level else "not found",
            "write": "ok" if level in ("owner", "write") else "denied" if level else "not found",
            "own": "ok" if level == "owner" else "denied" if level else "not found",
            "share": "ok" if shares else "denied" if level else "not found",
            "visible": level is not None,
        }
        if got != want:
            wrong.append(f"{role} with {relation}: got {got}, expected {want}")
    assert wrong == []


def test_only_an_admin_sees_all_portfolios_as_none(sqlite_db: foliodb.Database) -> None:
    db = sqlite_db
    admin = make_user(db, "admin@example.com", "ADMIN")
    alice = make_user(db, "alice@example.com")
    assert auth.visible_portfolio_ids(db.engine, admin) is None
    assert auth.visible_portfolio_ids(db.engine, alice) == set()


@pytest.mark.parametrize(
    ("role", "may_create"), [("ADMIN", True), ("MANAGER", True), ("USER", True), ("VIEWER", False)]
)
def test_a_viewer_cannot_create_portfolios(role: str, may_create: bool) -> None:
    principal = auth.Principal(1, "x@example.com", auth.Role(role))
    assert auth.can_create_portfolio(principal) is may_create


def test_a_portfolio_that_does_not_exist_looks_like_one_that_is_not_visible(
    sqlite_db: foliodb.Database,
) -> None:
    db = sqlite_db
    owner = make_user(db, "owner@example.com")
    stranger = make_user(db, "stranger@example.com")
    db.create_portfolio("Secret", owner=owner.email)
    secret_id, _ = auth.find_portfolio(db.engine, "Secret")
    missing_id = secret_id + 1000
    answers = set()
    for portfolio_id in (secret_id, missing_id):
        with pytest.raises(NotFoundError) as caught:
            auth.require_portfolio(db.engine, stranger, portfolio_id, "read")
        answers.add(str(caught.value).replace(str(portfolio_id), "<id>"))
        for email in ("owner@example.com", "nobody@example.com"):  # nor whether a user exists
            with pytest.raises(NotFoundError) as caught:
                auth.grant(db.engine, stranger, portfolio_id, email, "read")
            answers.add(str(caught.value).replace(str(portfolio_id), "<id>"))
            with pytest.raises(NotFoundError) as caught:
                auth.revoke_grant(db.engine, stranger, portfolio_id, email)
            answers.add(str(caught.value).replace(str(portfolio_id), "<id>"))
    assert answers == {"no portfolio <id>"}


# --- sharing ----------------------------------------------------------------------------------
@pytest.fixture
def shared(db: foliodb.Database) -> dict[str, Any]:
    people = {
        "owner": make_user(db, "owner@example.com"),
        "bob": make_user(db, "bob@example.com"),
        "carol": make_user(db, "carol@example.com", "MANAGER"),
    }
    db.create_portfolio("Family", owner="owner@example.com")
    portfolio_id, _ = auth.find_portfolio(db.engine, "Family")
    return {**people, "id": portfolio_id}


def test_granting_again_changes_the_scope(db: foliodb.Database, shared: dict[str, Any]) -> None:
    owner, bob, pid = shared["owner"], shared["bob"], shared["id"]
    first = auth.grant(db.engine, owner, pid, "BOB@example.com", "read")
    assert (first.grantee_email, first.scope, first.granted_by) == (
        "bob@example.com",
        "read",
        "owner@example.com",
    )
    assert auth.access(db.engine, bob, pid) == "read"
    auth.grant(db.engine, owner, pid, "bob@example.com", "WRITE")
    assert auth.access(db.engine, bob, pid) == "write"
    assert [g.scope for g in auth.list_grants(db.engine, owner, pid)] == ["write"]


def test_sharers_see_every_grant_and_grantees_only_their_own(
    db: foliodb.Database, shared: dict[str, Any]
) -> None:
    owner, bob, carol, pid = shared["owner"], shared["bob"], shared["carol"], shared["id"]
    stranger = make_user(db, "stranger@example.com")
    auth.grant(db.engine, owner, pid, "bob@example.com", "read")
    auth.grant(db.engine, owner, pid, "carol@example.com", "write")
    everyone = ["bob@example.com", "carol@example.com"]
    assert [g.grantee_email for g in auth.list_grants(db.engine, owner, pid)] == everyone
    assert [g.grantee_email for g in auth.list_grants(db.engine, carol, pid)] == everyone
    assert [g.grantee_email for g in auth.list_grants(db.engine, bob, pid)] == ["bob@example.com"]
    with pytest.raises(NotFoundError):
        auth.list_grants(db.engine, stranger, pid)


def test_a_manager_with_write_access_shares_onwards(
    db: foliodb.Database, shared: dict[str, Any]
) -> None:
    owner, carol, bob, pid = shared["owner"], shared["carol"], shared["bob"], shared["id"]
    auth.grant(db.engine, owner, pid, "carol@example.com", "write")
    auth.grant(db.engine, carol, pid, "bob@example.com", "read")
    assert auth.list_grants(db.engine, owner, pid)[0].granted_by == "carol@example.com"
    assert auth.access(db.engine, bob, pid) == "read"
    auth.revoke_grant(db.engine, carol, pid, "bob@example.com")
    assert auth.access(db.engine, bob, pid) is None


def test_sharing_mistakes_are_refused(db: foliodb.Database, shared: dict[str, Any]) -> None:
    owner, pid = shared["owner"], shared["id"]
    with pytest.raises(ConflictError, match="owns"):
        auth.grant(db.engine, owner, pid, "owner@example.com", "read")
    with pytest.raises(NotFoundError, match="nobody"):
        auth.grant(db.engine, owner, pid, "nobody@example.com", "read")
    with pytest.raises(InputError) as caught:
        auth.grant(db.engine, owner, pid, "bob@example.com", "admin")
    assert caught.value.problems[0].field == "scope"
    with pytest.raises(NotFoundError, match="not shared"):
        auth.revoke_grant(db.engine, owner, pid, "bob@example.com")


def test_a_grantee_may_leave_but_not_remove_others(
    db: foliodb.Database, shared: dict[str, Any]
) -> None:
    owner, bob, pid = shared["owner"], shared["bob"], shared["id"]
    auth.grant(db.engine, owner, pid, "bob@example.com", "write")
    auth.grant(db.engine, owner, pid, "carol@example.com", "read")
    with pytest.raises(PermissionDeniedError):
        auth.revoke_grant(db.engine, bob, pid, "carol@example.com")
    auth.revoke_grant(db.engine, bob, pid, "bob@example.com")
    assert auth.access(db.engine, bob, pid) is None
    assert auth.access(db.engine, shared["carol"], pid) == "read"


def test_a_granted_portfolio_is_found_with_its_name_and_its_owner(
    db: foliodb.Database,
) -> None:
    owner = make_user(db, "owner@example.com")
    reader = make_user(db, "reader@example.com")
    db.create_portfolio("Shared Growth", owner=owner.email)
    portfolio_id, _ = auth.find_portfolio(db.engine, "Shared Growth")
    auth.grant(db.engine, owner, portfolio_id, reader.email, "read")
    found = auth.require_portfolio(db.engine, reader, portfolio_id, "read")
    assert (found.id, found.name, found.owner, found.owner_id) == (
        portfolio_id,
        "Shared Growth",
        "owner@example.com",
        owner.user_id,
    )
    with pytest.raises(
        PermissionDeniedError, match=f"read-only access to portfolio {portfolio_id}"
    ):
        auth.require_portfolio(db.engine, reader, portfolio_id, "write")
