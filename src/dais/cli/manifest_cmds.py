"""``dais export`` and ``dais apply``: configuration as YAML, applied like ``kubectl apply``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dais.cli.connect import client
from dais.cli.output import Format, OutputOpt, dump, say


def export(
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id.")],
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Write a workspace, its members, quota, data connections, datasets and pipelines as YAML.

    The documents (apiVersion dais/v1) can be applied with `dais apply -f` here or on another
    server.
    """
    from dais.cli.manifests import dump_manifests, export_workspace

    with client() as c:
        text = dump_manifests(export_workspace(c, workspace))
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text)
        say(f"Wrote {text.count('kind:')} objects of {workspace} to {file}.")


def apply(
    file: Annotated[
        Path, typer.Option("--file", "-f", help="YAML file of dais/v1 documents (`-` reads stdin).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    output: OutputOpt = Format.table,
) -> None:
    """Create or update objects to match a YAML file, like `kubectl apply`.

    Running it again changes nothing. Members not in the file are kept.
    """
    from dais.cli.manifests import apply_manifests, load_manifests

    source = "stdin" if str(file) == "-" else str(file)
    text = sys.stdin.read() if source == "stdin" else file.read_text()
    manifests = load_manifests(text, source=source)
    with client() as c:
        changes = apply_manifests(c, manifests, dry_run=dry_run)
    if output != Format.table:
        typer.echo(
            dump(
                [
                    {"kind": ch.kind, "name": ch.name, "action": ch.action, "details": ch.details}
                    for ch in changes
                ],
                output,
            )
        )
        return
    suffix = " (dry run)" if dry_run else ""
    for ch in changes:
        style = {"created": "green", "configured": "yellow"}.get(ch.action, "dim")
        extra = f" ({'; '.join(ch.details)})" if ch.details else ""
        say(f"{ch.kind.lower()}/{ch.name} [{style}]{ch.action}[/{style}]{suffix}{extra}")
    if not any(ch.changed for ch in changes):
        say("No changes.")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("apply")(apply)
