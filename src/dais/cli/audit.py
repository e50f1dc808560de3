"""``dais audit``: the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from dais.cli.connect import client
from dais.cli.output import Column, Format, OutputOpt, print_list

AUDIT_COLUMNS: list[Column] = [
    ("AT", "at"),
    ("ACTOR", "actor_name"),
    ("ACTION", "action"),
    ("TARGET", lambda e: f"{e.target_type}:{e.target_id}" if e.target_id else e.target_type),
    ("IP", "ip"),
    ("DETAILS", "details"),
]


def audit(
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", "-w", help="One workspace (its admins); omit for all (platform admins)."),
    ] = None,
    action: Annotated[str | None, typer.Option("--action", help="Only this action, e.g. member.add.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor (username).")] = None,
    since: Annotated[
        datetime | None, typer.Option("--since", help="Only events at or after this time (ISO 8601).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many events.")] = 100,
    output: OutputOpt = Format.table,
) -> None:
    """Show who did what, when and from where, newest first."""
    with client() as c:
        events = c.audit.list(workspace, action=action, actor=actor, since=since, limit=limit)
        print_list(events, AUDIT_COLUMNS, output)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
