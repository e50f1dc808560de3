"""``dais users``: accounts (platform administrators)."""

from __future__ import annotations

from typing import Annotated

import typer

from dais.cli.connect import client
from dais.cli.output import Format, OutputOpt, print_list, print_object

users_app = typer.Typer(help="List, create and change user accounts (platform administrators).")

USER_COLUMNS = [
    ("USERNAME", "username"),
    ("NAME", "display_name"),
    ("EMAIL", "email"),
    ("ADMIN", "is_admin"),
    ("ACTIVE", "is_active"),
    ("LAST LOGIN", "last_login_at"),
]
Username = Annotated[str, typer.Argument(help="Username (or user id).")]


@users_app.command("list")
def list_users(
    q: Annotated[str | None, typer.Option("--search", "-q", help="Filter by a substring.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Every user."""
    with client() as c:
        print_list(c.users.list(q=q, limit=limit), USER_COLUMNS, output)


@users_app.command("create")
def create(
    username: Username,
    email: Annotated[str | None, typer.Option("--email", help="Email address.")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="Full name.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make a platform administrator.")] = False,
    password: Annotated[
        bool,
        typer.Option(
            "--password/--no-password",
            help="Ask for a password (without one the user signs in through a login link).",
        ),
    ] = False,
    output: OutputOpt = Format.table,
) -> None:
    """Create a user."""
    secret = (
        typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True) if password else None
    )
    with client() as c:
        user = c.users.create(
            username, password=secret, email=email, display_name=display_name, is_admin=admin
        )
    print_object(user, output)


@users_app.command("update")
def update(
    username: Username,
    email: Annotated[str | None, typer.Option("--email", help="New email address.")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="New full name.")] = None,
    admin: Annotated[
        bool | None, typer.Option("--admin/--no-admin", help="Grant or take away platform admin.")
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Enable or disable the account.")
    ] = None,
    password: Annotated[bool, typer.Option("--password", help="Ask for a new password.")] = False,
    output: OutputOpt = Format.table,
) -> None:
    """Change a user's details, password, admin flag or active flag."""
    secret = (
        typer.prompt("New password", hide_input=True, confirmation_prompt=True, err=True)
        if password
        else None
    )
    with client() as c:
        user = c.users.update(
            username,
            email=email,
            display_name=display_name,
            is_admin=admin,
            is_active=active,
            password=secret,
        )
    print_object(user, output)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
