"""``dais quotas``: a workspace's resource limits and priority."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.output import Format, OutputOpt, print_object

quotas_app = typer.Typer(help="Show and set a workspace's resource quota and priority.")

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id.")]
UNLIMITED = ("none", "unlimited", "null", "-")
Limit = Annotated[str | None, typer.Option(help="A number, or `unlimited`.", show_default=False)]


def parse_limit(name: str, value: str, kind: type[int] | type[float]) -> int | float | None:
    """A quota value from the command line: a number, or one of ``unlimited``/``none``."""
    if value.strip().lower() in UNLIMITED:
        return None
    try:
        return kind(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number or `unlimited`", param_hint=name) from None


@quotas_app.command("get")
def get(workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Show a workspace's quota (`-` is unlimited) and priority."""
    with client() as c:
        print_object(c.quotas.get(workspace), output)


@quotas_app.command("set")
def set_quota(
    workspace: WorkspaceOpt,
    max_concurrent_jobs: Limit = None,
    max_cpus: Limit = None,
    max_memory_mb: Limit = None,
    max_gpus: Limit = None,
    priority: Annotated[int | None, typer.Option(help="Scheduling priority, -100..100.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Set some quota limits and the priority (platform admins); the others stay as they are."""
    changes: dict[str, Any] = {}
    for name, value, kind in (
        ("max_concurrent_jobs", max_concurrent_jobs, int),
        ("max_cpus", max_cpus, float),
        ("max_memory_mb", max_memory_mb, int),
        ("max_gpus", max_gpus, int),
    ):
        if value is not None:
            changes[name] = parse_limit(f"--{name.replace('_', '-')}", value, kind)
    if priority is not None:
        changes["priority"] = priority
    if not changes:
        raise typer.BadParameter("give at least one limit or --priority")
    with client() as c:
        print_object(c.quotas.set(workspace, **changes), output)


def register(app: typer.Typer) -> None:
    app.add_typer(quotas_app, name="quotas")
