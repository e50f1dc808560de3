"""``dais up`` (everything on this machine) and ``dais api`` (the production API server)."""

from __future__ import annotations

from typing import Annotated

import typer

Host = Annotated[str | None, typer.Option("--host", help="Address to listen on (default: DAIS_API_HOST).")]
Port = Annotated[int | None, typer.Option("--port", help="Port to listen on (default: DAIS_API_PORT).")]


def up(
    host: Host = None,
    port: Port = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Add demo content (a `demo` workspace with data).")
    ] = False,
) -> None:
    """Start Dais on this machine, with the web UI, and print a one-time login link.

    Runs the API server and the background services on the embedded default (SQLite and artifacts
    in DAIS_HOME). Creates the schema and the first admin when the home is new; DAIS_ADMIN_USER and
    DAIS_ADMIN_PASSWORD set that admin. Stop it with Ctrl-C or SIGTERM.
    """
    from dais.cli.embedded import run_up

    run_up(host=host, port=port, demo=demo)


def api(host: Host = None, port: Port = None) -> None:
    """Run the API server alone (production).

    It does not migrate: run `dais db upgrade` first; it refuses a database whose schema is out of
    date. Several can run side by side on PostgreSQL.
    """
    from dais.cli.embedded import run_api

    run_api(host=host, port=port)


def scheduler() -> None:
    """Run the scheduler alone (production): fires schedules, sends notifications, re-queues lost jobs.

    Several may run; one leads at a time through a lease in the database, and a schedule run never
    fires twice. `dais up` runs one by itself.
    """
    from dais.cli.pool import run_scheduler

    run_scheduler()


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("api")(api)
    app.command("scheduler")(scheduler)
