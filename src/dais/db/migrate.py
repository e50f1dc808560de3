"""Schema migrations: one Alembic tree shipped inside the package, driven from code and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from dais.core.errors import SchemaOutOfDate
from dais.db.engine import normalize_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def _run(url: str, fn: Callable[[Config], None]) -> None:
    from dais.db.engine import create_database

    db = create_database(url)
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                # Batch migrations rebuild tables; foreign keys must be off while they do (Alembic docs).
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            with conn.begin():
                cfg = alembic_config(url)
                cfg.attributes["connection"] = conn
                fn(cfg)
    finally:
        db.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (creating it from nothing if empty)."""
    _run(url, lambda cfg: command.upgrade(cfg, revision))


def downgrade(url: str, revision: str) -> None:
    _run(url, lambda cfg: command.downgrade(cfg, revision))


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Refuse to serve a database whose schema is not at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate(
            "The metadata database has no Dais schema yet. Run `dais db upgrade` to create it."
        )
    raise SchemaOutOfDate(
        f"The metadata database schema is at revision {current}, but this version of Dais needs "
        f"{head}. Run `dais db upgrade` (back up the database first if it holds data you need)."
    )
