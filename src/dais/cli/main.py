"""The ``dais`` command: the root Typer app, its global options and error reporting."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dais.cli import (
    artifacts,
    audit,
    auth,
    connections,
    datasets,
    db,
    experiments,
    jobs,
    manifest_cmds,
    members,
    notify,
    pipelines,
    plugins,
    profiles,
    quotas,
    runs,
    schedules,
    server,
    tokens,
    train,
    tune,
    users,
    workers,
    workspaces,
)
from dais.cli.connect import GLOBALS
from dais.core.errors import DaisError


def report_error(error: DaisError) -> None:
    """Print a Dais error as a person should read it: the message, field errors, the request id."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]Error:[/bold red] {error.detail}")
    for item in error.errors:
        loc = ".".join(str(p) for p in item.get("loc", []) if p not in ("body", "query", "path"))
        console.print(f"  [red]-[/red] {loc or 'input'}: {item.get('msg', '')}")
    if rid := error.extra.get("request_id"):
        console.print(f"  [dim]request id: {rid}[/dim]")


class DaisGroup(TyperGroup):
    """The root group: a :class:`DaisError` anywhere below ends the command with its message, exit 1."""

    def invoke(self, ctx: Any) -> Any:  # Typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except DaisError as exc:
            report_error(exc)
            raise typer.Exit(1) from exc


app = typer.Typer(
    name="dais",
    cls=DaisGroup,
    help="Dais: an end-to-end machine-learning platform. `dais up` starts it on this machine.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root(
    url: Annotated[
        str | None, typer.Option("--url", help="Server URL (default: DAIS_URL, then the profile).")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="Profile of the config file to use (see `dais profile`).")
    ] = None,
) -> None:
    """Dais: an end-to-end machine-learning platform."""
    GLOBALS.url, GLOBALS.profile = url, profile


server.register(app)
db.register(app)
auth.register(app)
profiles.register(app)
workspaces.register(app)
users.register(app)
members.register(app)
tokens.register(app)
quotas.register(app)
audit.register(app)
plugins.register(app)
artifacts.register(app)
jobs.register(app)
notify.register(app)
schedules.register(app)
workers.register(app)
connections.register(app)
datasets.register(app)
pipelines.register(app)
train.register(app)
tune.register(app)
experiments.register(app)
runs.register(app)
manifest_cmds.register(app)


def main() -> None:
    """Entry point of the ``dais`` script."""
    app()


if __name__ == "__main__":
    main()
