"""Real data sources for connector tests: PostgreSQL and MariaDB on this machine (each test run in a
database or table of its own), SQLite files, moto_server with authentication switched on, and a TCP
server on loopback that accepts connections and never answers.

Outside CI a missing PostgreSQL or MariaDB server skips the tests that need it; in CI (``CI`` set) it
fails them.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import S3Server

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


def _missing(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({exc.__class__.__name__}: {exc})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must provide it")
    pytest.skip(f"{message}; skipped outside CI")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards); yields its URL without a password."""
    name = f"dais_src_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        _missing("PostgreSQL at 127.0.0.1:5432", exc)
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def mariadb_tables() -> Iterator[tuple[str, str]]:
    """MariaDB's ``test`` database and a unique table-name prefix; tables with it are dropped after."""
    engine = create_engine(MARIADB_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        _missing("MariaDB at 127.0.0.1:3306", exc)
    prefix = f"dais_t_{uuid.uuid4().hex[:10]}"
    try:
        yield "mysql://root@127.0.0.1:3306/test", prefix
    finally:
        with engine.begin() as conn:
            names = conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'test'")
            ).scalars()
            for table_name in [n for n in names if n.startswith(prefix)]:
                conn.execute(text(f"DROP TABLE IF EXISTS `{table_name}`"))
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    """Run set-up SQL against a source (with the admin's full rights, not through a connector)."""
    from dais.db.engine import normalize_url

    full = normalize_url(url).replace("mysql://", "mysql+pymysql://")
    engine = create_engine(full)
    try:
        with engine.begin() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def _moto(server: S3Server, path: str, body: bytes) -> None:
    request = urllib.request.Request(  # noqa: S310 - moto_server on loopback
        server.endpoint + path, data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback
        pass


@contextmanager
def s3_with_auth(server: S3Server) -> Iterator[tuple[str, str]]:
    """Turn on moto's authentication; yields an access key id and secret allowed to do anything.

    moto checks credentials only once it counts that many unauthenticated requests, so the IAM user
    and its key are made first (3 requests) and authentication is switched off again afterwards.
    """
    import boto3  # type: ignore[import-untyped]

    _moto(server, "/moto-api/reset-auth", b"3")
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=server.endpoint,
            aws_access_key_id=server.key,
            aws_secret_access_key=server.secret,
            region_name=server.region,
        )
        user = f"dais-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=json.dumps(policy))
        yield key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        _moto(server, "/moto-api/reset-auth", b"inf")


class HangingServer:
    """A TCP server on loopback that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port: int = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@contextmanager
def hanging_server() -> Iterator[HangingServer]:
    server = HangingServer()
    try:
        yield server
    finally:
        server.close()
