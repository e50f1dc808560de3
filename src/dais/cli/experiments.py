"""``dais experiments``: list, show, create, delete and restore experiments (groups of tracked runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.output import Column, Format, OutputOpt, dump, print_list, print_object, say

if TYPE_CHECKING:
    from dais.client.experiments import Experiment

experiments_app = typer.Typer(
    help="Experiments: groups of tracked runs (MLflow's experiments); list, show, create, delete, restore.",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace slug or id.", envvar="DAIS_WORKSPACE")
]
ExperimentArg = Annotated[str, typer.Argument(help="Experiment id or name.")]


def when(ms: int | None) -> datetime | None:
    """Epoch milliseconds as a UTC time for a table cell."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


EXPERIMENT_COLUMNS: list[Column] = [
    ("ID", "id"),
    ("NAME", "name"),
    ("RUNS", "run_count"),
    ("LAST RUN", lambda e: when(e.last_run_time)),
    ("CREATED", lambda e: when(e.creation_time)),
    ("DESCRIPTION", lambda e: e.description[:60] or None),
]


def _show(exp: Experiment, output: Format, columns: Any = None) -> None:
    if output != Format.table:
        data = exp.model_dump(mode="json")
        if columns is not None:
            data["columns"] = columns.model_dump(mode="json")
        typer.echo(dump(data, output))
        return
    rows: dict[str, Any] = {
        "id": exp.id,
        "name": exp.name,
        "description": exp.description or None,
        "state": exp.lifecycle_stage,
        "runs": exp.run_count,
        "last run": when(exp.last_run_time),
        "created": when(exp.creation_time),
        "updated": when(exp.last_update_time),
        "artifacts": exp.artifact_location,
    }
    if exp.tags:
        rows["tags"] = {k: v for k, v in exp.tags.items() if k != "mlflow.note.content"} or None
    if columns is not None:
        rows["params"] = ", ".join(columns.params) or None
        rows["metrics"] = ", ".join(columns.metrics) or None
    print_object(rows, output)


@experiments_app.command("list")
def list_experiments(
    workspace: WorkspaceOpt,
    q: Annotated[str | None, typer.Option("--search", "-q", help="Only names with this.")] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Deleted experiments instead.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Active and deleted experiments.")] = False,
    sort: Annotated[
        str, typer.Option("--sort", help="name, creation_time or last_update_time; - for descending.")
    ] = "-creation_time",
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    output: OutputOpt = Format.table,
) -> None:
    """The workspace's experiments, newest first, with their run counts."""
    view = "all" if all_ else "deleted" if deleted else "active"
    with client() as c:
        items = list(c.experiments.list(q=q, view=view, sort=sort, limit=limit, workspace=workspace))
    print_list(items, EXPERIMENT_COLUMNS, output)


@experiments_app.command("show")
def show(experiment: ExperimentArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """An experiment: description, run count, tags, and the param and metric keys of its runs."""
    with client() as c:
        exp = c.experiments.get(experiment, workspace=workspace)
        columns = exp.columns()
    _show(exp, output, columns)


@experiments_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A name unused in the workspace.")],
    workspace: WorkspaceOpt,
    description: Annotated[str, typer.Option("--description", "-d", help="What it is for.")] = "",
    output: OutputOpt = Format.table,
) -> None:
    """Create an experiment (MLflow clients log to it with `mlflow.set_experiment(NAME)`)."""
    with client() as c:
        exp = c.experiments.create(name, description=description, workspace=workspace)
    if output != Format.table:
        _show(exp, output)
        return
    say(f"Created experiment [bold]{exp.name}[/bold] (id {exp.id}).")


@experiments_app.command("delete")
def delete(
    experiment: ExperimentArg,
    workspace: WorkspaceOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an experiment and its runs (restorable with `dais experiments restore`)."""
    if not yes:
        typer.confirm(f"Delete experiment {experiment} of {workspace} with its runs?", abort=True)
    with client() as c:
        exp = c.experiments.get(experiment, workspace=workspace)
        c.experiments.delete(exp.id, workspace=workspace)
    say(f"Deleted experiment [bold]{exp.name}[/bold] (id {exp.id}).")
    say(f"  Undo: dais experiments restore {exp.id} -w {workspace}")


@experiments_app.command("restore")
def restore(experiment: ExperimentArg, workspace: WorkspaceOpt) -> None:
    """Restore a deleted experiment and the runs its deletion deleted."""
    with client() as c:
        exp = c.experiments.restore(experiment, workspace=workspace)
    say(f"Restored experiment [bold]{exp.name}[/bold] (id {exp.id}).")


def register(app: typer.Typer) -> None:
    app.add_typer(experiments_app, name="experiments")
