"""``dais train`` and ``dais algorithms``: train a preset on a dataset (or run a training script) and
follow it with a progress bar; list the presets and their params."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.jobs import parse_pairs, wait_with_progress
from dais.cli.output import Column, Format, OutputOpt, print_list, print_object, say

if TYPE_CHECKING:
    from dais.client.training import TrainingRun

train_app = typer.Typer(
    help="Train a preset algorithm on a dataset, or run your own script against a tracking run.",
    no_args_is_help=True,
)
algorithms_app = typer.Typer(
    help="Preset training algorithms: their task, runtime and params.", no_args_is_help=True
)

WorkspaceOpt = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace slug or id.", envvar="DAIS_WORKSPACE")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param", "-p", help="An algorithm param, KEY=VALUE (repeatable; JSON values).", show_default=False
    ),
]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="Show a progress bar until it ends; exit 0 if it succeeded, 1 if not.")
]
ExperimentOpt = Annotated[str | None, typer.Option("--experiment", "-e", help="Experiment name or id.")]
NameOpt = Annotated[str | None, typer.Option("--name", help="The run's name (default: a random one).")]
CpusOpt = Annotated[float | None, typer.Option("--cpus", help="CPU cores the job may use (default 1).")]
MemoryOpt = Annotated[int | None, typer.Option("--memory-mb", help="Memory the job needs in MB.")]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds before the job is stopped.")]
# where a training script runs (also `dais tune start`'s, for a script study's trials)
FilesOpt = Annotated[
    str | None,
    typer.Option("--files", help="An artifact folder of the workspace, copied in as the working dir."),
]
PathOpt = Annotated[
    str | None, typer.Option("--path", help="A folder on an allowed root as the working dir.")
]
EnvOpt = Annotated[
    list[str] | None, typer.Option("--env", help="KEY=VALUE for its environment (repeatable).")
]

ALGORITHM_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("TASK", "task"),
    ("RUNTIME", "runtime"),
    ("TITLE", "title"),
    ("PARAMS", lambda a: ", ".join(a.params_schema.get("properties", {}))[:80] or None),
    ("ERROR", "error"),
]


BOUNDS = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))


def parse_params(values: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs, each value read as JSON when it is (``0.1``, ``true``, ``[1,2]``)."""
    out: dict[str, Any] = {}
    for key, raw in parse_pairs(values or [], "--param").items():
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def script_options(files: str | None, path: str | None, env: list[str] | None) -> dict[str, Any]:
    """``--files``, ``--path`` and ``--env`` as the fields of a training script (those given)."""
    out: dict[str, Any] = {"files": files, "path": path, "env": parse_pairs(env or [], "--env") or None}
    return {k: v for k, v in out.items() if v is not None}


def _resources(cpus: float | None, memory_mb: int | None) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    if cpus is not None:
        out["cpus"] = cpus
    if memory_mb is not None:
        out["memory_mb"] = memory_mb
    return out or None


def _follow(run: TrainingRun, workspace: str, wait: bool, output: Format) -> None:
    if not wait:
        if output != Format.table:
            print_object(run, output)
        else:
            say(f"Run [bold]{run.run_name}[/bold] ({run.run_id}) queued as job {run.job_id}.")
        return
    with client() as c:
        job = wait_with_progress(c, workspace, c.jobs.get(workspace, run.job_id))
    result = job.result or {}
    if output != Format.table:
        print_object({"run_id": run.run_id, "job_id": run.job_id, "state": job.state, **result}, output)
    elif job.state == "succeeded":
        say(f"[green]Run {run.run_name} ({run.run_id}) finished.[/green]")
        for key, value in sorted((result.get("metrics") or {}).items()):
            say(f"  {key:<20} {value:.6g}")
        if result.get("model_version"):
            say(f"  registered as {result.get('registered_model')} version {result['model_version']}")
    else:
        say(f"[red]Run {run.run_name} ({run.run_id}) {job.state}:[/red] {job.error or ''}")
    if job.state != "succeeded":
        raise typer.Exit(1)


@train_app.command("run")
def run(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset name or id.")],
    algorithm: Annotated[
        str, typer.Option("--algorithm", "-a", help="A preset (see `dais algorithms list`).")
    ],
    workspace: WorkspaceOpt,
    target: Annotated[str | None, typer.Option("--target", "-t", help="The column to predict.")] = None,
    param: ParamOpt = None,
    feature: Annotated[
        list[str] | None,
        typer.Option("--feature", "-f", help="A feature column (repeatable; default: every numeric one)."),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="Dataset version (default: current).")
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split", help='The split as JSON, e.g. \'{"kind": "kfold", "k": 5}\' (default: holdout 0.2).'
        ),
    ] = None,
    pipeline_run: Annotated[
        str | None,
        typer.Option("--transforms-from", help="Apply this pipeline run's fitted transforms first."),
    ] = None,
    experiment: ExperimentOpt = None,
    name: NameOpt = None,
    register_as: Annotated[
        str | None, typer.Option("--register-as", help="Register the model under this name.")
    ] = None,
    cpus: CpusOpt = None,
    memory_mb: MemoryOpt = None,
    timeout: TimeoutOpt = None,
    wait: WaitOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Train a preset algorithm on a dataset version; `--wait` shows a progress bar and the metrics."""
    try:
        split_spec = json.loads(split) if split else None
    except ValueError as exc:
        raise typer.BadParameter(f"--split is not JSON: {exc}") from exc
    with client() as c:
        launched = c.training.train(
            dataset=dataset,
            algorithm=algorithm,
            target=target,
            params=parse_params(param),
            features=feature or None,
            version=version,
            split=split_spec,
            transforms={"pipeline_run": pipeline_run} if pipeline_run else None,
            experiment=experiment,
            run_name=name,
            register_as=register_as,
            resources=_resources(cpus, memory_mb),
            timeout_s=timeout,
            workspace=workspace,
        )
    _follow(launched, workspace, wait, output)


@train_app.command("script")
def script(
    command: Annotated[list[str], typer.Argument(help="The command and its arguments (after --).")],
    workspace: WorkspaceOpt,
    files: FilesOpt = None,
    path: PathOpt = None,
    env: EnvOpt = None,
    experiment: ExperimentOpt = None,
    name: NameOpt = None,
    cpus: CpusOpt = None,
    memory_mb: MemoryOpt = None,
    timeout: TimeoutOpt = None,
    wait: WaitOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Run your own training code with the MLflow client pointed at a new run
    (`dais train script -w team -- python train.py --epochs 3`)."""
    with client() as c:
        launched = c.training.run_script(
            command=command,
            **script_options(files, path, env),
            experiment=experiment,
            run_name=name,
            resources=_resources(cpus, memory_mb),
            timeout_s=timeout,
            workspace=workspace,
        )
    _follow(launched, workspace, wait, output)


@algorithms_app.command("list")
def list_algorithms(
    task: Annotated[str | None, typer.Option("--task", help="Only this task's algorithms.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """The preset algorithms."""
    with client() as c:
        print_list(c.training.algorithms(task), ALGORITHM_COLUMNS, output)


@algorithms_app.command("show")
def show_algorithm(
    name: Annotated[str, typer.Argument(help="The algorithm's name.")], output: OutputOpt = Format.table
) -> None:
    """One preset's params: default, range and help."""
    with client() as c:
        found = [a for a in c.training.algorithms() if a.name == name]
    if not found:
        say(f"[red]No algorithm named {name!r}[/red] (see `dais algorithms list`).")
        raise typer.Exit(1)
    algo = found[0]
    if output != Format.table:
        print_object(algo, output)
        return
    say(f"[bold]{algo.title}[/bold] ({algo.name}): {algo.task}, runtime {algo.runtime}")
    if algo.description:
        say(algo.description)
    rows = []
    for key, prop in algo.params_schema.get("properties", {}).items():
        bounds = [f"{op} {prop[k]}" for k, op in BOUNDS if k in prop]
        choices = prop.get("enum")
        rows.append(
            {
                "param": key,
                "default": prop.get("default"),
                "range": ", ".join(bounds) or (" | ".join(map(str, choices)) if choices else None),
                "help": prop.get("description"),
            }
        )
    print_list(rows, [("PARAM", lambda r: r["param"]), ("DEFAULT", lambda r: r["default"]),
                      ("RANGE", lambda r: r["range"]), ("HELP", lambda r: r["help"])], output)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
    app.add_typer(algorithms_app, name="algorithms")
