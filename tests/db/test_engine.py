"""Engines: SQLite pragmas, write transactions, URL handling, UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from dais.db import Database, create_database
from dais.db.engine import normalize_url
from dais.tenancy.models import User


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db = create_database(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_s=7.5)
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7500
    finally:
        db.dispose()


def test_sqlite_enforces_foreign_keys(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("a SQLite pragma")
    with pytest.raises(Exception, match="FOREIGN KEY"), db.session() as s:
        s.execute(
            text(
                "INSERT INTO memberships (id, workspace_id, user_id, role, created_at, updated_at) "
                "VALUES ('m1', 'no-such-ws', 'no-such-user', 'viewer', '2026-01-01', '2026-01-01')"
            )
        )


def test_sqlite_database_folder_is_created(tmp_path: Path) -> None:
    db = create_database(f"sqlite:///{tmp_path / 'deep' / 'er' / 'dais.db'}")
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        db.dispose()
    assert (tmp_path / "deep" / "er" / "dais.db").exists()


def _add_then_fail(db: Database) -> None:
    with db.session() as s:
        s.add(User(username="ghost"))
        s.flush()
        raise RuntimeError("boom")


def test_session_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        _add_then_fail(db)
    with db.session(write=False) as s:
        assert s.scalar(select(User).where(User.username == "ghost")) is None


def test_datetimes_come_back_in_utc(db: Database) -> None:
    local = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with db.session() as s:
        s.add(User(username="tz", last_login_at=local))
    with db.session(write=False) as s:
        got = s.scalar(select(User.last_login_at).where(User.username == "tz"))
    assert got == local
    assert got is not None
    assert got.tzinfo is not None
    assert got.utcoffset() == timedelta(0)
    assert got.astimezone(UTC).hour == 10


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_are_normalised(url: str, expected: str) -> None:
    assert normalize_url(url) == expected
