"""``dais workspaces``: the tenant boundary."""

from __future__ import annotations

from typing import Annotated

import typer

from dais.cli.connect import client
from dais.cli.output import Format, OutputOpt, print_list, print_object, say

workspaces_app = typer.Typer(help="List, create, show, change and delete workspaces.")

WS_COLUMNS = [
    ("SLUG", "slug"),
    ("NAME", "name"),
    ("ROLE", "role"),
    ("PRIORITY", "priority"),
    ("CREATED", "created_at"),
    ("DESCRIPTION", "description"),
]
Workspace = Annotated[str, typer.Argument(help="Workspace slug or id.")]


@workspaces_app.command("list")
def list_workspaces(
    all: Annotated[bool, typer.Option("--all", help="Every workspace (platform admins).")] = False,
    q: Annotated[str | None, typer.Option("--search", "-q", help="Filter by a substring.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Your workspaces with your role in each."""
    with client() as c:
        print_list(c.workspaces.list(all=all, q=q, limit=limit), WS_COLUMNS, output)


@workspaces_app.command("create")
def create(
    slug: Annotated[str, typer.Argument(help="Short name: lower-case letters, digits, dashes.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the slug).")] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What it is for.")] = "",
    output: OutputOpt = Format.table,
) -> None:
    """Create a workspace; you become its owner."""
    with client() as c:
        print_object(c.workspaces.create(slug, name=name, description=description), output)


@workspaces_app.command("get")
def get(workspace: Workspace, output: OutputOpt = Format.table) -> None:
    """Show one workspace."""
    with client() as c:
        print_object(c.workspaces.get(workspace), output)


@workspaces_app.command("update")
def update(
    workspace: Workspace,
    name: Annotated[str | None, typer.Option("--name", help="New display name.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d", help="New description.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Rename or describe a workspace (workspace admins and owners)."""
    with client() as c:
        print_object(c.workspaces.update(workspace, name=name, description=description), output)


@workspaces_app.command("delete")
def delete(
    workspace: Workspace,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a workspace and everything in it (owners only)."""
    if not yes:
        typer.confirm(f"Delete workspace {workspace!r} and everything in it?", abort=True, err=True)
    with client() as c:
        c.workspaces.delete(workspace)
    say(f"Deleted workspace [bold]{workspace}[/bold].")


def register(app: typer.Typer) -> None:
    app.add_typer(workspaces_app, name="workspaces")
