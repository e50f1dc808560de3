"""Shared fixtures: a fresh metadata database per test (SQLite or PostgreSQL), an app, users, tokens.

``DAIS_TEST_DATABASE_URL`` picks the database: unset runs on SQLite; a PostgreSQL URL runs every
test on a fresh database cloned from a template migrated once per session.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dais.app import create_app
from dais.core.settings import (
    AdminSettings,
    ApiSettings,
    ArtifactSettings,
    DatabaseSettings,
    LogSettings,
    SecuritySettings,
    Settings,
)
from dais.db import Database, create_database, upgrade
from dais.db.engine import normalize_url
from dais.tenancy.access import AuditContext, Principal
from dais.tenancy.auth import create_token
from dais.tenancy.schemas import TokenCreate, UserCreate, WorkspaceCreate
from dais.tenancy.service import create_user, create_workspace

TEST_DB_ENV = "DAIS_TEST_DATABASE_URL"
ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "test-artifacts"


def _pg_admin_url() -> str | None:
    url = os.environ.get(TEST_DB_ENV)
    return normalize_url(url) if url and not url.startswith("sqlite") else None


@pytest.fixture(scope="session")
def _db_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to copy: a SQLite file, or a PostgreSQL template database name."""
    pg = _pg_admin_url()
    if pg is None:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        yield str(path)
        return
    name = f"dais_tpl_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(make_url(pg).set(database=name).render_as_string(hide_password=False))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db_url(_db_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test only."""
    pg = _pg_admin_url()
    if pg is None:
        path = tmp_path / "dais.db"
        shutil.copy(_db_template, path)
        yield f"sqlite:///{path}"
        return
    name = f"dais_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_db_template}"'))
    yield make_url(pg).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_settings(home: Path, db_url: str, *, artifacts_url: str | None = None, **api: object) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    return Settings(
        home=home,
        database=DatabaseSettings(url=db_url),
        artifacts=ArtifactSettings(url=artifacts_url),
        api=ApiSettings(cookie_secure=False, **api),  # type: ignore[arg-type]
        admin=AdminSettings(),
        security=SecuritySettings(),
        log=LogSettings(to_file=False),
    )


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "home", db_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = create_database(settings.database_url)
    yield database
    database.dispose()


@dataclass
class Actor:
    """A user with a token, for calling the API as that user."""

    username: str
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class World:
    """Builds users, workspaces and memberships directly in the database for a test."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def user(
        self,
        username: str,
        *,
        password: str = "password-123",
        admin: bool = False,
        token_workspace: str | None = None,
    ) -> Actor:
        with self.db.session() as s:
            ctx = AuditContext.system()
            user = create_user(
                s,
                ctx,
                UserCreate.model_validate({"username": username, "password": password, "is_admin": admin}),
            )
            _, secret = create_token(
                s, ctx, Principal(user, "password"), TokenCreate(name="test", workspace=token_workspace)
            )
            return Actor(username, user.id, secret)

    def token(self, actor: Actor, *, workspace: str | None = None, days: float | None = 30) -> str:
        from dais.tenancy.service import get_user

        with self.db.session() as s:
            user = get_user(s, actor.username)
            _, secret = create_token(
                s,
                AuditContext.system(),
                Principal(user, "password"),
                TokenCreate(name="extra", workspace=workspace, expires_in_days=days),
            )
            return secret

    def workspace(self, slug: str, owner: Actor, members: dict[str, str] | None = None) -> str:
        from dais.tenancy.models import Membership
        from dais.tenancy.service import get_user

        with self.db.session() as s:
            ws = create_workspace(
                s, AuditContext.system(), WorkspaceCreate(slug=slug), owner=get_user(s, owner.username)
            )
            for username, role in (members or {}).items():
                s.add(Membership(workspace_id=ws.id, user_id=get_user(s, username).id, role=role))
            return ws.id


@pytest.fixture
def world(db: Database) -> World:
    return World(db)


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, db=db)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def admin(world: World) -> Actor:
    return world.user("root-admin", admin=True)


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test keeps what a person should look at (screenshots): ``test-artifacts/<test>``."""
    path = ARTIFACTS_DIR / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path
