"""A database for a whole test module (the tuning tests share one: creating an app, users and a
dataset for each of their many small tests would cost more than the tests themselves)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import _PgDatabases


@contextmanager
def module_database(template: str | _PgDatabases, tmp: Path) -> Iterator[str]:
    """A migrated database of its own: a copy of the SQLite template, or a PostgreSQL clone."""
    if isinstance(template, str):
        shutil.copy(template, tmp / "dais.db")
        yield f"sqlite:///{tmp / 'dais.db'}"
        return
    name = template.clone()
    try:
        yield template.url(name)
    finally:
        template.drop(name)
