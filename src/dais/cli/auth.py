"""``dais login``, ``dais whoami`` and ``dais login-link``."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from dais.cli.connect import GLOBALS, client
from dais.cli.output import Format, OutputOpt, print_list, print_object, say


def login(
    url: Annotated[
        str | None, typer.Argument(help="Server URL (default: DAIS_URL, else http://127.0.0.1:8765).")
    ] = None,
    username: Annotated[str | None, typer.Option("--username", "-u", help="Your username.")] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="Store this API token instead of creating one.")
    ] = None,
    profile: Annotated[str, typer.Option("--profile", help="Name of the profile to write.")] = "default",
) -> None:
    """Log in to a server and store its URL and a token as a profile.

    With a username it asks for your password and creates an API token (the password is never
    stored); with --token it checks and stores that token instead.
    """
    import os

    from dais.client import Client, Profile, save_profile
    from dais.client.config import DEFAULT_URL

    server = (url or GLOBALS.url or os.environ.get("DAIS_URL") or DEFAULT_URL).rstrip("/")
    if token is None:
        if not username:
            username = typer.prompt("Username", err=True)
        password = typer.prompt("Password", hide_input=True, err=True)
        with Client(server, username=username, password=password) as basic:
            created = basic.tokens.create(f"cli@{socket.gethostname()}"[:128], expires_in_days=None)
        token = created.token
    with Client(server, token) as c:
        me = c.me()
    path = save_profile(Profile(profile, server, token))
    say(
        f"Logged in to {server} as [bold]{me.user.username}[/bold]; profile [bold]{profile}[/bold] in {path}."
    )


def whoami(output: OutputOpt = Format.table) -> None:
    """Show who you are on the current server, and your workspaces with your role in each."""
    with client() as c:
        me = c.me()
        url = c.url
    if output != Format.table:
        print_object(me, output)
        return
    admin = " (platform admin)" if me.user.is_admin else ""
    say(f"[bold]{me.user.username}[/bold]{admin} on {url}, via {me.auth}")
    print_list(me.workspaces, [("WORKSPACE", "slug"), ("NAME", "name"), ("ROLE", "role")], output)


def login_link(
    user: Annotated[str | None, typer.Option("--user", help="Make the link for this user (admins).")] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="Make it straight in the database of DAIS_HOME (a locked-out admin on the server machine).",
        ),
    ] = False,
) -> None:
    """Print a one-time login link (for you, or for --user) that opens the web UI signed in."""
    if local:
        from dais.cli.local import local_login_link

        say(local_login_link(user))
        return
    with client() as c:
        link = c.auth.login_link(user)
    say(link.url)
    say(f"[dim]Works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC.[/dim]")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("whoami")(whoami)
    app.command("login-link")(login_link)
