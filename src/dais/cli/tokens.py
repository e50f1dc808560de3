"""``dais tokens``: your API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from dais.cli.connect import client
from dais.cli.output import Format, OutputOpt, print_list, print_object, say

tokens_app = typer.Typer(help="List, create and revoke your API tokens.")

TOKEN_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("PREFIX", "prefix"),
    ("WORKSPACE", "workspace_slug"),
    ("EXPIRES", "expires_at"),
    ("LAST USED", "last_used_at"),
    ("REVOKED", "revoked_at"),
]


@tokens_app.command("list")
def list_tokens(
    all: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    output: OutputOpt = Format.table,
) -> None:
    """Your tokens (never their secrets)."""
    with client() as c:
        print_list(c.tokens.list(include_revoked=all), TOKEN_COLUMNS, output)


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Limit the token to this workspace.")
    ] = None,
    expires_in_days: Annotated[
        float | None, typer.Option("--expires-in-days", help="Lifetime in days (default 90).")
    ] = 90,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="Never expires.")] = False,
    output: OutputOpt = Format.table,
) -> None:
    """Create a token. Its secret is printed once: store it now."""
    with client() as c:
        created = c.tokens.create(
            name, workspace=workspace, expires_in_days=None if no_expiry else expires_in_days
        )
    if output != Format.table:
        print_object(created, output)
        return
    print_object(created, output, fields=["id", "name", "workspace_slug", "expires_at"])
    say(f"\nToken (shown only now): [bold]{created.token}[/bold]")


@tokens_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (see `dais tokens list`).")],
    output: OutputOpt = Format.table,
) -> None:
    """Revoke a token; it stops working at once."""
    with client() as c:
        print_object(c.tokens.revoke(token_id), output)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
