"""``dais db``: the metadata database's schema."""

from __future__ import annotations

from typing import Annotated

import typer

from dais.cli.output import say

db_app = typer.Typer(
    help="Manage the metadata database schema (DAIS_DATABASE_URL, default SQLite in DAIS_HOME)."
)


def _url() -> str:
    from dais.core.settings import load_settings

    return load_settings().database_url


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create the schema or bring it up to date (back up a database holding data you need first)."""
    from dais.db import upgrade as run_upgrade

    url = _url()
    run_upgrade(url, revision)
    say(f"Database {_safe(url)} is at revision [bold]{_current(url) or 'none'}[/bold].")


@db_app.command("downgrade")
def downgrade(revision: Annotated[str, typer.Argument(help="Revision to go back to (or `base`).")]) -> None:
    """Take the schema back to an older revision (this can drop data)."""
    from dais.db import downgrade as run_downgrade

    url = _url()
    run_downgrade(url, revision)
    say(f"Database {_safe(url)} is at revision [bold]{_current(url) or 'none'}[/bold].")


def _current(url: str) -> str | None:
    from dais.db import create_database, current_revision

    database = create_database(url)
    try:
        return current_revision(database.engine)
    finally:
        database.dispose()


@db_app.command("current")
def current() -> None:
    """Show the schema revision of the database and the one this version of Dais needs."""
    from dais.db import head_revision

    url = _url()
    rev, head = _current(url), head_revision()
    state = "up to date" if rev == head else "run `dais db upgrade`"
    say(f"{_safe(url)}: revision [bold]{rev or 'none'}[/bold], this Dais needs {head} ({state}).")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
