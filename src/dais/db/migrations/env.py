"""Alembic environment for Dais (used by `dais db upgrade` and by autogenerate in development)."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from dais.db.base import Base

# Model modules are imported by name so the migration tree sees every table without `dais.db`
# importing the domains above it.
MODEL_MODULES = [
    "dais.tenancy.models",
    "dais.jobs.models",
    "dais.jobs.notify.models",
    "dais.data.models",
    "dais.pipelines.models",
    "dais.tracking.models",
    "dais.registry.models",
    "dais.training.tuning.models",
]
for _name in MODEL_MODULES:
    importlib.import_module(_name)

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as conn:
        _run(conn)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
