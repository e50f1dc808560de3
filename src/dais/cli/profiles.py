"""``dais profile``: the servers and tokens stored by ``dais login``."""

from __future__ import annotations

from typing import Annotated

import typer

from dais.cli.output import Format, OutputOpt, print_list, say

profile_app = typer.Typer(help="List and switch the stored server profiles (written by `dais login`).")


@profile_app.command("list")
def list_profiles(output: OutputOpt = Format.table) -> None:
    """Every stored profile; the current one is marked."""
    from dais.client import config_path, load_config

    config = load_config()
    rows = [
        {"name": p.name, "url": p.url, "current": p.name == config.current, "token": bool(p.token)}
        for p in config.profiles.values()
    ]
    print_list(
        rows,
        [
            ("", lambda r: "*" if r["current"] else ""),
            ("NAME", lambda r: r["name"]),
            ("URL", lambda r: r["url"]),
            ("TOKEN", lambda r: "stored" if r["token"] else "-"),
        ],
        output,
        title=str(config_path()) if output == Format.table else None,
    )


@profile_app.command("use")
def use(name: Annotated[str, typer.Argument(help="The profile to make current.")]) -> None:
    """Make NAME the profile that commands use by default."""
    from dais.client import use_profile

    profile = use_profile(name)
    say(f"Now using profile [bold]{name}[/bold] ({profile.url}).")


def register(app: typer.Typer) -> None:
    app.add_typer(profile_app, name="profile")
