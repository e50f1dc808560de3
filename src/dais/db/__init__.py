"""The metadata database: declarative base, engines and sessions, Alembic migrations."""

from dais.db.base import Base, TimestampMixin, utcnow
from dais.db.engine import Database, create_database
from dais.db.migrate import check_schema, current_revision, downgrade, head_revision, upgrade
from dais.db.pagination import Page, decode_cursor, paginate

__all__ = [
    "Base",
    "Database",
    "Page",
    "TimestampMixin",
    "check_schema",
    "create_database",
    "current_revision",
    "decode_cursor",
    "downgrade",
    "head_revision",
    "paginate",
    "upgrade",
    "utcnow",
]
