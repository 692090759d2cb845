"""Sign-in and sharing (refresh tokens, API keys, login attempts, portfolio grants) and, on
PostgreSQL, row-level security on portfolios and every table that belongs to one.

Revision ID: 0010
Revises: 0009

Row-level security (docs/security.md): a request's transaction sets `foliodb.user_id` and
`foliodb.user_role` (`set_config(..., true)`, so they end with it); the policies let a role
see a portfolio's rows when it owns the portfolio, holds a grant on it, or is ADMIN, and write
them when it owns it or holds a write grant (never as VIEWER). Unset settings see nothing.
RLS is ENABLEd, not FORCEd: the tables' owner (who runs migrations and the CLI) is not bound
by it; the server connects as a role that is neither owner nor BYPASSRLS.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: Every table holding a portfolio's rows, by its `portfolio_id` column.
PORTFOLIO_TABLES = (
    "accounts",
    "transactions",
    "lots",
    "realized_gains",
    "cash_balances",
    "portfolio_daily_values",
    "portfolio_cash_flows",
    "portfolio_metrics",
    "currency_attribution",
)

#: Caches derived from the ledger and the packs, filled when figures are read: whoever may read
#: a portfolio may also (re)compute them. The app writes only computed values there.
DERIVED_TABLES = frozenset(
    {"portfolio_daily_values", "portfolio_cash_flows", "portfolio_metrics", "currency_attribution"}
)

#: The request's user and role: both set and well-formed, else both NULL (and nothing is seen).
CONTEXT_IS_SET = """
    current_setting('foliodb.user_id', true) ~ '^[0-9]{1,9}$'
    AND current_setting('foliodb.user_role', true) IN ('ADMIN', 'MANAGER', 'USER', 'VIEWER')
"""
CONTEXT_FUNCTIONS = (
    f"""
CREATE FUNCTION foliodb_user_id() RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN {CONTEXT_IS_SET}
                THEN current_setting('foliodb.user_id', true)::integer END
$$
""",
    f"""
CREATE FUNCTION foliodb_user_role() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN {CONTEXT_IS_SET}
                THEN current_setting('foliodb.user_role', true) END
$$
""",
)

# SECURITY DEFINER: they read portfolios and portfolio_grants as their owner (who is not bound
# by RLS), so a policy on one table can consult the other without recursing into its policy.
# search_path is pinned so that nobody's temporary table can stand in for ours.
DEFINER_FUNCTIONS = (
    """
CREATE FUNCTION foliodb_portfolio_ids(level text) RETURNS integer[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
    SELECT coalesce(array_agg(id), '{{}}') FROM (
        SELECT id FROM portfolios WHERE foliodb_user_role() = 'ADMIN'
        UNION
        SELECT id FROM portfolios
        WHERE owner_id = foliodb_user_id()
          AND (level = 'read' OR foliodb_user_role() <> 'VIEWER')
        UNION
        SELECT portfolio_id FROM portfolio_grants
        WHERE grantee_id = foliodb_user_id()
          AND (level = 'read'
               OR (level = 'write' AND scope = 'write' AND foliodb_user_role() <> 'VIEWER')
               OR (level = 'share' AND scope = 'write' AND foliodb_user_role() = 'MANAGER'))
    ) AS reachable
$$
""",
    """
CREATE FUNCTION foliodb_portfolio_owner(portfolio integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
    SELECT owner_id FROM portfolios WHERE id = portfolio
$$
""",
)

ADMIN = "foliodb_user_role() = 'ADMIN'"


def _ids(level: str) -> str:
    # A sub-select: computed once per statement (an InitPlan), not once per row.
    # The cast makes it one array value (a bare sub-select in ANY would be a set of rows).
    return f"(SELECT foliodb_portfolio_ids('{level}'))::integer[]"


def _policies() -> list[str]:
    read, write, share = _ids("read"), _ids("write"), _ids("share")
    me = "foliodb_user_id()"
    may_own = "foliodb_user_role() IN ('MANAGER', 'USER')"
    statements = [
        # The owner arm lets INSERT ... RETURNING see the new row, which the sub-select's
        # snapshot does not hold yet.
        f"CREATE POLICY portfolios_read ON portfolios FOR SELECT "
        f"USING ({ADMIN} OR owner_id = {me} OR id = ANY ({read}))",
        f"CREATE POLICY portfolios_insert ON portfolios FOR INSERT "
        f"WITH CHECK ({ADMIN} OR (owner_id = {me} AND {may_own}))",
        # Writers change a portfolio, not whose it is: only ADMIN moves a portfolio.
        f"CREATE POLICY portfolios_update ON portfolios FOR UPDATE "
        f"USING ({ADMIN} OR id = ANY ({write})) "
        f"WITH CHECK ({ADMIN} OR (id = ANY ({write}) AND owner_id = foliodb_portfolio_owner(id)))",
        f"CREATE POLICY portfolios_delete ON portfolios FOR DELETE "
        f"USING ({ADMIN} OR (owner_id = {me} AND {may_own}))",
    ]
    for table in PORTFOLIO_TABLES:
        can_read = f"{ADMIN} OR portfolio_id = ANY ({read})"
        can_write = f"{ADMIN} OR portfolio_id = ANY ({read if table in DERIVED_TABLES else write})"
        statements += [
            f"CREATE POLICY {table}_read ON {table} FOR SELECT USING ({can_read})",
            f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({can_write})",
            f"CREATE POLICY {table}_update ON {table} FOR UPDATE "
            f"USING ({can_write}) WITH CHECK ({can_write})",
            f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({can_write})",
        ]
    # Grants: a grantee sees (and may drop) their own; those who may share see and change all.
    can_share = f"{ADMIN} OR portfolio_id = ANY ({share})"
    statements += [
        f"CREATE POLICY portfolio_grants_read ON portfolio_grants FOR SELECT "
        f"USING ({can_share} OR grantee_id = {me})",
        f"CREATE POLICY portfolio_grants_insert ON portfolio_grants FOR INSERT "
        f"WITH CHECK ({can_share})",
        f"CREATE POLICY portfolio_grants_update ON portfolio_grants FOR UPDATE "
        f"USING ({can_share}) WITH CHECK ({can_share})",
        f"CREATE POLICY portfolio_grants_delete ON portfolio_grants FOR DELETE "
        f"USING ({can_share} OR grantee_id = {me})",
    ]
    return statements


#: Tables under row-level security, portfolios first.
RLS_TABLES = ("portfolios", *PORTFOLIO_TABLES, "portfolio_grants")


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _enable_rls() -> None:
    bind = op.get_bind()
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
    for function in CONTEXT_FUNCTIONS:
        op.execute(function)
    for function in DEFINER_FUNCTIONS:
        op.execute(function.format(schema=_quote_identifier(schema)))
    for table in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    for statement in _policies():
        op.execute(statement)


def _disable_rls() -> None:
    for table in RLS_TABLES:
        for kind in ("read", "insert", "update", "delete"):
            op.execute(f"DROP POLICY IF EXISTS {table}_{kind} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS foliodb_portfolio_owner(integer)")
    op.execute("DROP FUNCTION IF EXISTS foliodb_portfolio_ids(text)")
    op.execute("DROP FUNCTION IF EXISTS foliodb_user_role()")
    op.execute("DROP FUNCTION IF EXISTS foliodb_user_id()")


def upgrade() -> None:
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", timestamp, nullable=False),
        sa.Column("expires_at", timestamp, nullable=False),
        sa.Column("revoked_at", timestamp, nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by"],
            ["refresh_tokens.id"],
            name=op.f("fk_refresh_tokens_replaced_by_refresh_tokens"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("last_used_at", timestamp, nullable=True),
        sa.Column("revoked_at", timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", timestamp, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    op.create_index("ix_login_attempts_email_at", "login_attempts", ["email", "at"])
    op.create_index("ix_login_attempts_ip_at", "login_attempts", ["ip", "at"])
    op.create_table(
        "portfolio_grants",
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("grantee_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=5), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("granted_at", timestamp, nullable=False),
        sa.CheckConstraint("scope IN ('read','write')", name=op.f("ck_portfolio_grants_scope")),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["portfolios.id"],
            name=op.f("fk_portfolio_grants_portfolio_id_portfolios"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["grantee_id"],
            ["users.id"],
            name=op.f("fk_portfolio_grants_grantee_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["users.id"],
            name=op.f("fk_portfolio_grants_granted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("portfolio_id", "grantee_id", name=op.f("pk_portfolio_grants")),
    )
    op.create_index("ix_portfolio_grants_grantee_id", "portfolio_grants", ["grantee_id"])
    if op.get_bind().dialect.name == "postgresql":
        _enable_rls()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _disable_rls()
    op.drop_table("portfolio_grants")
    op.drop_table("login_attempts")
    op.drop_table("api_keys")
    op.drop_table("refresh_tokens")
