"""``dais tune``: tuning studies on Optuna (a preset's params or your script's declared space) and
auto models (a task's presets under a time budget); follow them, see trials, importance and the
leaderboard, stop them, promote the best trial to a registered model."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.jobs import parse_pairs
from dais.cli.output import Column, Format, OutputOpt, dump, print_list, print_object, say
from dais.cli.train import EnvOpt, FilesOpt, PathOpt, script_options

if TYPE_CHECKING:
    from dais.client.studies import StudyDetail

tune_app = typer.Typer(
    help="Tune a preset's params or your script's (Optuna: random, grid, TPE; median pruning), or let "
    "`dais tune auto` try a task's presets under a time budget; trials run as parallel jobs.",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace slug or id.", envvar="DAIS_WORKSPACE")
]
StudyArg = Annotated[str, typer.Argument(help="Study name or id.")]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="Follow it until it ends; exit 0 if it completed, 1 if not.")
]
MaxTrialsOpt = Annotated[int | None, typer.Option("--max-trials", help="Most trials to run.")]
MaxTimeOpt = Annotated[
    float | None, typer.Option("--max-time", help="Most seconds the study runs (its wall-time budget).")
]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", "-c", help="Trials running at once.")]
MetricOpt = Annotated[str | None, typer.Option("--metric", help="The objective (a metric the runs log).")]
DirectionOpt = Annotated[
    str | None, typer.Option("--direction", help="minimize or maximize (default: known from the metric).")
]
PromoteOpt = Annotated[
    str | None, typer.Option("--promote-to", help="Register the best trial's model under this name.")
]
CpusOpt = Annotated[float | None, typer.Option("--cpus", help="CPU cores of each trial (default 1).")]

STUDY_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("KIND", "kind"),
    ("ALGORITHM", lambda s: s.algorithm or ("-" if s.kind != "auto" else "(presets)")),
    ("STATE", "state"),
    ("TRIALS", lambda s: _counts(s.trials)),
    ("METRIC", lambda s: f"{s.metric} ({'max' if s.direction == 'maximize' else 'min'})"),
    ("BEST", lambda s: None if s.best_value is None else f"{s.best_value:.6g} (#{s.best_trial})"),
    ("CREATED", "created_at"),
]
TRIAL_COLUMNS: list[Column] = [
    ("#", "number"),
    ("STATE", "state"),
    ("VALUE", lambda t: None if t.value is None else f"{t.value:.6g}"),
    ("ALGORITHM", "algorithm"),
    ("PARAMS", lambda t: _params(t.params)),
    ("DURATION", lambda t: None if t.duration_s is None else f"{t.duration_s:.1f} s"),
    ("RUN", "run_id"),
    ("ERROR", lambda t: (t.error or "")[:60] or None),
]
BOARD_COLUMNS: list[Column] = [
    ("RANK", "rank"),
    ("#", "number"),
    ("ALGORITHM", "algorithm"),
    ("VALUE", lambda r: f"{r.value:.6g}"),
    ("PARAMS", lambda r: _params(r.params)),
    ("RUN", "run_id"),
]
STUDY_FIELDS = [
    "name",
    "id",
    "kind",
    "state",
    "error",
    "metric",
    "direction",
    "sampler",
    "pruner",
    "max_trials",
    "max_wall_time_s",
    "concurrency",
    "best_trial",
    "best_value",
    "promoted",
    "experiment_id",
    "parent_run_id",
    "coordinator_job_id",
    "created_at",
    "started_at",
    "ended_at",
]


def _counts(trials: dict[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in trials.items() if n) or "0"


def _params(params: dict[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{key}={text}")
    return " ".join(parts)[:100]


def _json_option(value: str | None, option: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None


def _space(space: str | None, space_file: Path | None) -> dict[str, Any] | None:
    """The search space from ``--space`` (JSON) or ``--space-file`` (YAML or JSON)."""
    if space is not None and space_file is not None:
        raise typer.BadParameter("give --space or --space-file, not both")
    if space_file is not None:
        import yaml

        try:
            value = yaml.safe_load(space_file.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise typer.BadParameter(f"cannot read it: {exc}", param_hint="--space-file") from None
    else:
        value = _json_option(space, "--space")
    if value is not None and not isinstance(value, dict):
        raise typer.BadParameter("a search space is a mapping of param names", param_hint="--space")
    return value


def _params_of(values: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in parse_pairs(values or [], "--param").items():
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def _trial_job(cpus: float | None) -> dict[str, Any] | None:
    return {"resources": {"cpus": cpus}} if cpus is not None else None


def _follow(workspace: str, study_id: str, name: str, wait: bool, output: Format) -> None:
    if not wait:
        with client() as c:
            detail = c.studies.get(study_id, workspace=workspace)
        if output != Format.table:
            print_object(detail, output)
        else:
            say(f"Study [bold]{name}[/bold] ({study_id}) queued; follow it with `dais tune show {name}`.")
        return
    detail = _wait(workspace, study_id, quiet=output != Format.table)
    if output != Format.table:
        print_object(detail, output)
    else:
        _show(detail)
    if detail.state != "completed":
        raise typer.Exit(1)


def _wait(workspace: str, study_id: str, *, quiet: bool) -> StudyDetail:
    from rich.console import Console

    console = Console(stderr=True)
    with client() as c, console.status("starting", spinner="dots") as status:
        while True:
            detail = c.studies.get(study_id, workspace=workspace)
            if detail.finished:
                return detail
            if not quiet:
                best = "" if detail.best_value is None else f", best {detail.metric} {detail.best_value:.6g}"
                status.update(f"{detail.state}: {_counts(detail.trials)}{best}")
            time.sleep(1.0)


def _show(detail: StudyDetail) -> None:
    print_object(detail, Format.table, fields=STUDY_FIELDS)
    print_list(detail.trial_list, TRIAL_COLUMNS, Format.table, title="Trials")
    if detail.importance:
        say("[bold]Parameter importance[/bold]")
        for key, value in detail.importance.items():
            say(f"  {key:<30} {value:.3f}")
    elif detail.importance_note:
        say(f"[dim]{detail.importance_note}[/dim]")
    if detail.leaderboard:
        print_list(detail.leaderboard[:20], BOARD_COLUMNS, Format.table, title="Leaderboard")


@tune_app.command("start")
def start(
    workspace: WorkspaceOpt,
    command: Annotated[
        list[str] | None,
        typer.Argument(help="Your script's command (after --); `{name}` in it takes each trial's params."),
    ] = None,
    algorithm: Annotated[str | None, typer.Option("--algorithm", "-a", help="A preset to tune.")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Dataset name or id.")] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="The column to predict.")] = None,
    space: Annotated[
        str | None, typer.Option("--space", help='Search space as JSON: {"lr": {"type": "float", ...}}.')
    ] = None,
    space_file: Annotated[
        Path | None, typer.Option("--space-file", help="Search space as a YAML or JSON file.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A fixed param, KEY=VALUE (repeatable; JSON values)."),
    ] = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", "-f", help="A feature column (repeatable).")
    ] = None,
    split: Annotated[str | None, typer.Option("--split", help="The split as JSON.")] = None,
    files: FilesOpt = None,
    path: PathOpt = None,
    env: EnvOpt = None,
    metric: MetricOpt = None,
    direction: DirectionOpt = None,
    sampler: Annotated[str, typer.Option("--sampler", help="tpe, random or grid.")] = "tpe",
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the sampler.")] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Median pruning on the trials' validation loss.")
    ] = False,
    max_trials: MaxTrialsOpt = None,
    max_time: MaxTimeOpt = None,
    concurrency: ConcurrencyOpt = 1,
    name: Annotated[str | None, typer.Option("--name", help="The study's name.")] = None,
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", help="Experiment name or id.")
    ] = None,
    promote_to: PromoteOpt = None,
    cpus: CpusOpt = None,
    wait: WaitOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Start a study over a preset's params (`-a lightgbm_classifier -d customers -t churn`) or your
    script's (`--space-file space.yaml --metric val_loss --files code/ -- python train.py --lr {lr}`)."""
    where = script_options(files, path, env)
    if where and not command:
        raise typer.BadParameter(
            "--files, --path and --env are for a script study: give its command after --"
        )
    options: dict[str, Any] = {
        "params": _params_of(param) or None,
        "features": feature or None,
        "split": _json_option(split, "--split"),
        "seed": seed,
        "pruner": {"kind": "median"} if prune else None,
        "experiment": experiment,
        "promote_to": promote_to,
        "trial_job": _trial_job(cpus),
    }
    with client() as c:
        created = c.studies.create(
            workspace=workspace,
            algorithm=algorithm,
            dataset=dataset,
            target=target,
            script={"command": command, **where} if command else None,
            space=_space(space, space_file),
            name=name,
            metric=metric,
            direction=direction,
            sampler=sampler,
            max_trials=max_trials,
            max_wall_time_s=max_time,
            concurrency=concurrency,
            **{k: v for k, v in options.items() if v is not None},
        )
    _follow(workspace, created.id, created.name, wait, output)


@tune_app.command("auto")
def auto(
    workspace: WorkspaceOpt,
    task: Annotated[str, typer.Option("--task", help="classification, regression or clustering.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset name or id.")],
    max_time: Annotated[float, typer.Option("--max-time", help="The time budget in seconds.")],
    target: Annotated[str | None, typer.Option("--target", "-t", help="The column to predict.")] = None,
    algorithm: Annotated[
        list[str] | None,
        typer.Option("--algorithm", "-a", help="A preset to try (repeatable; default: the task's)."),
    ] = None,
    metric: MetricOpt = None,
    max_trials: MaxTrialsOpt = None,
    concurrency: ConcurrencyOpt = 1,
    name: Annotated[str | None, typer.Option("--name", help="The study's name.")] = None,
    promote_to: PromoteOpt = None,
    cpus: CpusOpt = None,
    wait: WaitOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """An auto model: try the task's presets, each over its own space, for `--max-time` seconds, and
    rank them on a leaderboard."""
    options = {"metric": metric, "name": name, "promote_to": promote_to, "trial_job": _trial_job(cpus)}
    with client() as c:
        created = c.studies.auto(
            workspace=workspace,
            task=task,
            dataset=dataset,
            target=target,
            max_wall_time_s=max_time,
            algorithms=algorithm or None,
            max_trials=max_trials,
            concurrency=concurrency,
            **{k: v for k, v in options.items() if v is not None},
        )
    _follow(workspace, created.id, created.name, wait, output)


@tune_app.command("list")
def list_studies(
    workspace: WorkspaceOpt,
    state: Annotated[str | None, typer.Option("--state", help="Only studies in this state.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="preset, auto or script.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Studies of the workspace, newest first."""
    with client() as c:
        items = list(c.studies.list(state=state, kind=kind, limit=limit, workspace=workspace))
    print_list(items, STUDY_COLUMNS, output)


@tune_app.command("show")
def show(
    study: StudyArg,
    workspace: WorkspaceOpt,
    leaderboard: Annotated[
        bool, typer.Option("--leaderboard", help="Only the leaderboard (complete trials, best first).")
    ] = False,
    output: OutputOpt = Format.table,
) -> None:
    """A study: its settings, trials, parameter importance and leaderboard."""
    with client() as c:
        detail = c.studies.get(study, workspace=workspace)
    if leaderboard:
        print_list(detail.leaderboard, BOARD_COLUMNS, output)
    elif output != Format.table:
        typer.echo(dump(detail, output))
    else:
        _show(detail)


@tune_app.command("stop")
def stop(study: StudyArg, workspace: WorkspaceOpt) -> None:
    """Stop a study: no new trials; the running ones are cancelled."""
    with client() as c:
        found = c.studies.stop(study, workspace=workspace)
    say(f"Study {found.name} is {'stopping' if found.state == 'running' else found.state}.")


@tune_app.command("promote")
def promote(
    study: StudyArg,
    model: Annotated[str, typer.Argument(help="The registered model to add a version to.")],
    workspace: WorkspaceOpt,
    trial: Annotated[int | None, typer.Option("--trial", help="This trial (default: the best).")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Register the best trial's model (or `--trial N`'s) as a new version of MODEL."""
    with client() as c:
        promoted = c.studies.promote(study, model, trial=trial, workspace=workspace)
    if output != Format.table:
        print_object(promoted, output)
    else:
        say(f"Trial {promoted.trial} registered as {promoted.name} version {promoted.version}.")


def register(app: typer.Typer) -> None:
    app.add_typer(tune_app, name="tune")
