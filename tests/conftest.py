"""Shared fixtures: a fresh metadata database per test (SQLite or PostgreSQL), an app, users, tokens.

``DAIS_TEST_DATABASE_URL`` picks the database: unset runs on SQLite, each test on its own copy of a
database file migrated once per session; a PostgreSQL URL runs the tests on one database migrated
once per session (per xdist worker) and emptied around every test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

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
# Servers and workers the tests start do not pre-start heavy job launchers (seconds of CPU each);
# a job of such a kind starts its launcher on first use instead.
os.environ.setdefault("DAIS_JOBS_PREWARM", "false")
ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "test-artifacts"


def _pg_admin_url() -> str | None:
    url = os.environ.get(TEST_DB_ENV)
    return normalize_url(url) if url and not url.startswith("sqlite") else None


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2 with its smallest cost in tests: the same code path, a fraction of the time."""
    from argon2 import PasswordHasher

    from dais.tenancy import security

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fresh_database: on PostgreSQL, give the test a database cloned for it alone (for a test that "
        "changes the schema or the Alembic revision)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only what touches the metadata database.

    A test that uses no database fixture (directly or through another fixture) ran the same way on
    the SQLite pass; running it again would only spend the suite's time.
    """
    if _pg_admin_url() is None:
        return
    keep: list[pytest.Item] = []
    skipped: list[pytest.Item] = []
    for item in items:
        names = getattr(item, "fixturenames", ())
        uses_db = "_db_template" in names or item.nodeid.startswith("tests/db/")
        (keep if uses_db else skipped).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = keep


class _PgDatabases:
    """The test databases on one PostgreSQL server, for one test session (one per xdist worker).

    A template is migrated once and a working database is cloned from it. Tests share the working
    database, emptied before and after each test: emptying ends every other connection to it (a
    server, worker thread or subprocess a test left behind), then deletes the rows of every table but
    ``alembic_version``, children first, in one transaction under a lock timeout. DELETE rather than
    TRUNCATE: on these small tables TRUNCATE, which replaces every table's files, costs more than the
    clone it would save. If emptying fails or the test moved the Alembic revision, the working
    database is replaced by a fresh clone.
    """

    LOCK_TIMEOUT = "5s"

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        tag = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:10]}"
        self.template = f"dais_tpl_{tag}"
        self.name = f"dais_t_{tag}"
        self.engine = create_engine(self.url(self.name))
        try:
            self._execute(f'CREATE DATABASE "{self.template}"')
            upgrade(self.url(self.template))
            self._execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"')
            self._plan()
        except BaseException:
            self.close()
            raise

    def _plan(self) -> None:
        with self.engine.connect() as conn:
            meta = MetaData()
            meta.reflect(bind=conn)
            quote = conn.dialect.identifier_preparer
            tables = [t for t in reversed(meta.sorted_tables) if t.name != "alembic_version"]
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            self._empty_sql = ";\n".join(
                [f"SET LOCAL lock_timeout = '{self.LOCK_TIMEOUT}'"]
                + [str(t.delete().compile(conn)) for t in tables]
                + [f"ALTER SEQUENCE {quote.quote(s)} RESTART" for s in sequences]
            )
            self._revision = self._revisions(conn)

    def url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    @staticmethod
    def _revisions(conn: Connection) -> list[str]:
        return sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())

    def empty(self) -> None:
        """Make the working database as it was after migrating: no rows, the same revision."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                conn.exec_driver_sql(self._empty_sql)
                if self._revisions(conn) == self._revision:
                    return
        except DBAPIError:  # a lock not granted in time, a table the test dropped
            pass
        self.engine.dispose()
        self.drop(self.name)
        self._execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"')

    def clone(self) -> str:
        """A new database cloned from the template (drop it with ``drop``)."""
        name = f"dais_t_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def drop(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.engine.dispose()
        self.drop(self.name)
        self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def _db_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | _PgDatabases]:
    """A migrated SQLite file to copy, or the session's PostgreSQL databases."""
    pg = _pg_admin_url()
    if pg is None:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        yield str(path)
        return
    databases = _PgDatabases(pg)
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def db_url(_db_template: str | _PgDatabases, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database with no rows in it, for this test only.

    SQLite: a copy of the migrated template file. PostgreSQL: the session's working database,
    emptied before and after the test, or with the ``fresh_database`` marker a clone of its own.
    """
    if isinstance(_db_template, str):
        path = tmp_path / "dais.db"
        shutil.copy(_db_template, path)
        yield f"sqlite:///{path}"
        return
    if request.node.get_closest_marker("fresh_database"):
        name = _db_template.clone()
        try:
            yield _db_template.url(name)
        finally:
            _db_template.drop(name)
        return
    _db_template.empty()  # whatever outlived the previous test's teardown is gone too
    try:
        yield _db_template.url(_db_template.name)
    finally:
        _db_template.empty()


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


# -- servers: a real uvicorn server for an app, and moto_server as a real S3 endpoint ------------------


@contextmanager
def serve(app: object) -> Iterator[str]:
    """Run ``app`` under uvicorn in a background thread on a free loopback port; yields its URL."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@dataclass
class S3Server:
    endpoint: str
    key: str = "testing"
    secret: str = "testing"
    region: str = "us-east-1"

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name=self.region,
        )

    def new_bucket(self) -> str:
        name = f"dais-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    @property
    def config(self) -> dict[str, str]:
        return {
            "endpoint_url": self.endpoint,
            "access_key_id": self.key,
            "secret_access_key": self.secret,
            "region": self.region,
        }


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """``moto_server`` on a free loopback port: a real S3-protocol endpoint for this test session."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    exe = Path(sys.executable).with_name("moto_server")
    if not exe.exists():
        pytest.fail(f"moto_server is not installed next to {sys.executable}: install the dev extra")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1):  # noqa: S310 - loopback
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto_server did not start on {endpoint}")
            time.sleep(0.1)
    try:
        yield S3Server(endpoint)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
