"""``dais members``: who belongs to a workspace, with which role."""

from __future__ import annotations

from typing import Annotated

import typer

from dais.cli.connect import client
from dais.cli.output import Format, OutputOpt, print_list, print_object, say

members_app = typer.Typer(help="List, add, change and remove the members of a workspace.")

ROLES = "owner, admin, editor, viewer, annotator or reviewer"
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id.")]
UserArg = Annotated[str, typer.Argument(help="Username (or user id, or membership id).")]
MEMBER_COLUMNS = [
    ("USERNAME", "username"),
    ("NAME", "display_name"),
    ("ROLE", "role"),
    ("SINCE", "created_at"),
]


@members_app.command("list")
def list_members(
    workspace: WorkspaceOpt,
    role: Annotated[str | None, typer.Option("--role", help="Only this role.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """The members of a workspace."""
    with client() as c:
        print_list(c.members.list(workspace, role=role), MEMBER_COLUMNS, output)


@members_app.command("add")
def add(
    workspace: WorkspaceOpt,
    username: UserArg,
    role: Annotated[str, typer.Option("--role", "-r", help=f"Role: {ROLES}.")] = "viewer",
    output: OutputOpt = Format.table,
) -> None:
    """Add a user to a workspace (workspace admins and owners)."""
    with client() as c:
        print_object(c.members.add(workspace, username, role), output)


@members_app.command("set-role")
def set_role(
    workspace: WorkspaceOpt,
    username: UserArg,
    role: Annotated[str, typer.Argument(help=f"New role: {ROLES}.")],
    output: OutputOpt = Format.table,
) -> None:
    """Change a member's role."""
    with client() as c:
        print_object(c.members.set_role(workspace, username, role), output)


@members_app.command("remove")
def remove(workspace: WorkspaceOpt, username: UserArg) -> None:
    """Remove a member from a workspace."""
    with client() as c:
        c.members.remove(workspace, username)
    say(f"Removed [bold]{username}[/bold] from {workspace}.")


def register(app: typer.Typer) -> None:
    app.add_typer(members_app, name="members")
