"""Persistence: SQLAlchemy rows, repositories, migrations. No financial math here."""
