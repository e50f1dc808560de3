"""Schema migrations on SQLite and PostgreSQL, and refusing to serve a stale schema."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from dais.app import create_app
from dais.core.errors import SchemaOutOfDate
from dais.db import create_database, current_revision, downgrade, head_revision, upgrade
from dais.db.engine import normalize_url
from tests.conftest import TEST_DB_ENV, make_settings

TABLES = {"users", "workspaces", "memberships", "api_tokens", "auth_sessions", "login_links", "audit_log"}


@pytest.fixture
def empty_db_url(tmp_path: Path) -> Iterator[str]:
    """A brand-new database with nothing in it (not a copy of the migrated template)."""
    pg = os.environ.get(TEST_DB_ENV)
    if not pg or pg.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin_url = normalize_url(pg)
    name = f"dais_e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(url: str) -> set[str]:
    db = create_database(url)
    try:
        return set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


def _revision(url: str) -> str | None:
    db = create_database(url)
    try:
        return current_revision(db.engine)
    finally:
        db.dispose()


def test_upgrade_downgrade_upgrade_round_trip(empty_db_url: str) -> None:
    assert _revision(empty_db_url) is None
    upgrade(empty_db_url)
    assert _tables(empty_db_url) >= TABLES
    assert _revision(empty_db_url) == head_revision()
    downgrade(empty_db_url, "base")
    assert not (TABLES & _tables(empty_db_url))
    assert _revision(empty_db_url) is None
    upgrade(empty_db_url)
    assert _tables(empty_db_url) >= TABLES
    assert _revision(empty_db_url) == head_revision()
    # Upgrading an up-to-date database is a no-op.
    upgrade(empty_db_url)
    assert _revision(empty_db_url) == head_revision()


def test_migrated_schema_works_after_round_trip(empty_db_url: str, tmp_path: Path) -> None:
    upgrade(empty_db_url)
    downgrade(empty_db_url, "base")
    upgrade(empty_db_url)
    app = create_app(make_settings(tmp_path / "home", empty_db_url))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200


def test_create_app_refuses_a_database_without_schema(empty_db_url: str, tmp_path: Path) -> None:
    with pytest.raises(SchemaOutOfDate) as err:
        create_app(make_settings(tmp_path / "home", empty_db_url))
    assert "dais db upgrade" in str(err.value)
    del err
    gc.collect()  # a connection left open by the refused app would warn here


def test_create_app_leaves_a_database_it_was_given_open(empty_db_url: str, tmp_path: Path) -> None:
    db = create_database(empty_db_url)
    try:
        with pytest.raises(SchemaOutOfDate):
            create_app(make_settings(tmp_path / "home", empty_db_url), db=db)
        with db.engine.connect() as conn:  # still usable by its owner
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        db.dispose()


def test_create_app_refuses_a_database_at_an_old_revision(empty_db_url: str, tmp_path: Path) -> None:
    upgrade(empty_db_url)
    db = create_database(empty_db_url)
    with db.session() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    db.dispose()
    with pytest.raises(SchemaOutOfDate) as err:
        create_app(make_settings(tmp_path / "home", empty_db_url))
    message = str(err.value)
    assert "dais db upgrade" in message
    assert "0000" in message
    assert head_revision() in message


@pytest.mark.fresh_database  # it moves the Alembic revision back
def test_readyz_answers_503_problem_when_the_schema_goes_stale(db_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "home", db_url))
    with TestClient(app) as client:
        assert client.get("/readyz").json() == {"status": "ready"}
        db = create_database(db_url)
        with db.session() as s:
            s.execute(text("UPDATE alembic_version SET version_num = '0000'"))
        db.dispose()
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "schema_out_of_date"
        assert "dais db upgrade" in r.json()["detail"]
        assert client.get("/healthz").status_code == 200


def test_readyz_on_an_app_started_without_the_check(empty_db_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "home", empty_db_url), check_db=False)
    with TestClient(app) as client:
        r = client.get("/readyz")
    assert r.status_code == 503
    assert "dais db upgrade" in r.json()["detail"]
