"""The PostgreSQL test databases: emptied between tests without waiting on what a test left behind."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from dais.db import head_revision
from tests.conftest import World, _pg_admin_url, _PgDatabases

pytestmark = pytest.mark.skipif(_pg_admin_url() is None, reason="the PostgreSQL test databases")


@pytest.fixture
def databases(request: pytest.FixtureRequest) -> _PgDatabases:
    """The session's PostgreSQL test databases (what ``db_url`` hands out)."""
    value = request.getfixturevalue("_db_template")
    assert isinstance(value, _PgDatabases)
    return value


def _count(url: str, sql: str) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_emptying_removes_every_row_and_ends_a_transaction_left_open(
    databases: _PgDatabases, db_url: str, world: World
) -> None:
    world.workspace("team", world.user("ann"))
    lingering = create_engine(db_url).connect()
    lingering.execute(text("SELECT * FROM users FOR UPDATE"))  # row locks, idle in transaction
    started = time.monotonic()
    databases.empty()
    assert time.monotonic() - started < 2
    for table in ("users", "workspaces", "memberships", "api_tokens", "audit_log"):
        assert _count(db_url, f"SELECT count(*) FROM {table}") == 0, table  # noqa: S608
    with pytest.raises(Exception, match="terminat"):
        lingering.execute(text("SELECT 1"))
    lingering.invalidate()
    lingering.close()


def test_a_moved_revision_gets_a_fresh_clone(databases: _PgDatabases, db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    databases.empty()
    assert _count(db_url, "SELECT version_num FROM alembic_version") == head_revision()
