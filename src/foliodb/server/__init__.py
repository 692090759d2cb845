"""The REST server: `create_app()` builds it, `foliodb serve` runs it (docs/server.md)."""

from foliodb.server.app import create_app

__all__ = ["create_app"]
