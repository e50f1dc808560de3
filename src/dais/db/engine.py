"""Engines and sessions.

SQLite runs with WAL, foreign keys and a busy timeout. Write transactions on SQLite begin with
``BEGIN IMMEDIATE`` so that two writers queue on the busy timeout instead of one failing with
"database is locked" when it upgrades a read lock; PostgreSQL needs nothing special.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass
class Database:
    """One metadata database: an engine plus read and write session factories."""

    url: str
    engine: Engine
    write_engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        factory = self.write_sessions if write else self.read_sessions
        with factory() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def create_database(
    url: str, *, echo: bool = False, busy_timeout_s: float = 30.0, pool_size: int = 10
) -> Database:
    """Open (not create tables in) the database at ``url``."""
    url = normalize_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": busy_timeout_s, "check_same_thread": False}
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, busy_timeout_s)
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
        engine = create_engine(url, **kwargs)
    write_engine = engine.execution_options(dais_begin="IMMEDIATE")
    return Database(
        url=url,
        engine=engine,
        write_engine=write_engine,
        read_sessions=sessionmaker(engine, expire_on_commit=False),
        write_sessions=sessionmaker(write_engine, expire_on_commit=False),
    )


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN (the pysqlite recipe in the SQLAlchemy docs).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("dais_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
