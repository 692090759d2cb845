"""Who may do what: users and passwords, tokens, API keys, portfolio sharing, the access rules
every portfolio-scoped route applies, and PostgreSQL row-level security (docs/security.md).

Functions that manage users take `actor`: the principal asking (None: the local operator at
the CLI, who holds the database itself). Every mutation writes exactly one audit entry, which
never holds a secret or a hash.

Callers use this package as one module (`from foliodb.services import auth`, then
`auth.login(...)`); the modules behind it are:

- `principals`: roles, principals, scopes and access levels; parsing emails, roles, scopes
- `passwords`: hashing, verifying, generating and checking passwords
- `users`: creating users, their roles and passwords
- `tokens`: sign-in, access and refresh tokens
- `api_keys`: API keys
- `permissions`: access levels, the checks routes apply, sharing portfolios
- `rls`: PostgreSQL row-level security and the server's database role
"""

from foliodb.services.auth.api_keys import (
    API_KEY_PREFIX,
    API_KEY_TOUCH_INTERVAL,
    ApiKeyInfo,
    create_api_key,
    list_api_keys,
    principal_from_api_key,
    revoke_api_key,
)
from foliodb.services.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    generate_password,
    hash_password,
    use_password_hasher,
    verify_password,
)
from foliodb.services.auth.permissions import (
    GrantInfo,
    access,
    access_level,
    can_create_portfolio,
    find_portfolio,
    grant,
    list_grants,
    may_share,
    require_portfolio,
    revoke_grant,
    visible_portfolio_ids,
)
from foliodb.services.auth.principals import (
    Access,
    Principal,
    Role,
    Scope,
    parse_email,
    parse_role,
    parse_scope,
)
from foliodb.services.auth.rls import (
    acting_as,
    app_role_sql,
    bind_rls_context,
    create_app_role,
    set_rls_context,
)
from foliodb.services.auth.tokens import (
    ALGORITHM,
    MIN_SECRET_KEY_BYTES,
    REFRESH_TOKEN_PREFIX,
    TokenPair,
    check_settings,
    login,
    principal_from_access_token,
    refresh,
    revoke_refresh,
)
from foliodb.services.auth.users import (
    UserInfo,
    change_password,
    create_user,
    get_user,
    list_users,
    set_password,
    set_role,
)

__all__ = [
    "ALGORITHM",
    "API_KEY_PREFIX",
    "API_KEY_TOUCH_INTERVAL",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "MIN_SECRET_KEY_BYTES",
    "REFRESH_TOKEN_PREFIX",
    "Access",
    "ApiKeyInfo",
    "GrantInfo",
    "Principal",
    "Role",
    "Scope",
    "TokenPair",
    "UserInfo",
    "access",
    "access_level",
    "acting_as",
    "app_role_sql",
    "bind_rls_context",
    "can_create_portfolio",
    "change_password",
    "check_settings",
    "create_api_key",
    "create_app_role",
    "create_user",
    "find_portfolio",
    "generate_password",
    "get_user",
    "grant",
    "hash_password",
    "list_api_keys",
    "list_grants",
    "list_users",
    "login",
    "may_share",
    "parse_email",
    "parse_role",
    "parse_scope",
    "principal_from_access_token",
    "principal_from_api_key",
    "refresh",
    "require_portfolio",
    "revoke_api_key",
    "revoke_grant",
    "revoke_refresh",
    "set_password",
    "set_rls_context",
    "set_role",
    "use_password_hasher",
    "verify_password",
    "visible_portfolio_ids",
]
