"""``dais jobs``: submit jobs and DAGs, follow them with a progress bar or their logs, cancel, retry."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.output import Column, Format, OutputOpt, print_list, print_object, say

if TYPE_CHECKING:
    from dais.client import Client, Dag, Job

jobs_app = typer.Typer(help="Submit, list, follow, cancel and retry jobs; run a Python file as a job.")
dag_app = typer.Typer(help="Submit and show DAGs: jobs that run when the jobs they depend on succeeded.")
jobs_app.add_typer(dag_app, name="dag")

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id.")]
JobIdArg = Annotated[str, typer.Argument(help="Job id.")]

NameOpt = Annotated[str | None, typer.Option("--name", help="A name to find the job by (default: the kind).")]
PriorityOpt = Annotated[int, typer.Option("--priority", help="Higher runs first, -100..100.")]
CpusOpt = Annotated[float | None, typer.Option("--cpus", help="CPU cores it needs (default 1).")]
MemoryOpt = Annotated[int | None, typer.Option("--memory-mb", help="Memory it needs in MB (default 512).")]
GpusOpt = Annotated[int | None, typer.Option("--gpus", help="Whole GPUs it needs (default 0).")]
LabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", help="A worker label it needs, KEY=VALUE (repeatable).", show_default=False),
]
AttemptsOpt = Annotated[int, typer.Option("--max-attempts", help="Attempts before it counts as failed.")]
TimeoutOpt = Annotated[
    float | None, typer.Option("--timeout", help="Seconds an attempt may run before it is killed.")
]
AfterOpt = Annotated[
    list[str] | None,
    typer.Option("--after", help="Id of a job that must succeed first (repeatable).", show_default=False),
]
WaitOpt = Annotated[
    bool,
    typer.Option(
        "--wait", help="Show a progress bar until the job finishes; exit 0 if it succeeded, 1 if not."
    ),
]
FollowOpt = Annotated[
    bool,
    typer.Option(
        "--follow",
        "-f",
        help="Print the job's output live until it finishes; exit 0 if it succeeded, 1 if not.",
    ),
]

JOB_COLUMNS: list[Column] = [
    ("ID", "id"),
    ("NAME", "name"),
    ("KIND", "kind"),
    ("STATE", "state"),
    ("PROGRESS", lambda j: _progress_text(j)),
    ("ATTEMPT", lambda j: f"{j.attempt}/{j.max_attempts}"),
    ("CREATED", "created_at"),
    ("WAITS FOR / ERROR", lambda j: j.error or j.wait_reason),
]
DAG_COLUMNS: list[Column] = [
    ("NODE", "dag_node"),
    ("ID", "id"),
    ("KIND", "kind"),
    ("STATE", "state"),
    ("AFTER", lambda j: ", ".join(j.depends_on) or None),
    ("WAITS FOR / ERROR", lambda j: j.error or j.wait_reason),
]
ATTEMPT_COLUMNS: list[Column] = [
    ("ATTEMPT", "number"),
    ("STATE", "state"),
    ("WORKER", "worker_id"),
    ("STARTED", "started_at"),
    ("FINISHED", "finished_at"),
    ("EXIT", "exit_code"),
    ("ERROR", "error"),
]
JOB_FIELDS = [
    "id",
    "name",
    "kind",
    "state",
    "wait_reason",
    "progress",
    "progress_message",
    "attempt",
    "max_attempts",
    "priority",
    "cpus",
    "memory_mb",
    "gpus",
    "labels",
    "timeout_s",
    "depends_on",
    "dag_id",
    "dag_node",
    "spec",
    "result",
    "error",
    "created_at",
    "started_at",
    "finished_at",
]


def _progress_text(job: Job) -> str | None:
    if job.progress is None:
        return job.progress_message
    text = f"{job.progress:.0%}"
    return f"{text} {job.progress_message}" if job.progress_message else text


def parse_pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """``KEY=VALUE`` options as a dict (a clear error naming the option otherwise)."""
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        out[key.strip()] = value
    return out


def load_spec(spec: str | None, spec_file: Path | None) -> dict[str, Any]:
    """The job spec from ``--spec`` (JSON) or ``--spec-file`` (YAML or JSON)."""
    if spec is not None and spec_file is not None:
        raise typer.BadParameter("give --spec or --spec-file, not both")
    if spec is not None:
        try:
            value = json.loads(spec)
        except ValueError as exc:
            raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="--spec") from None
        hint = "--spec"
    elif spec_file is not None:
        import yaml

        try:
            value = yaml.safe_load(spec_file.read_text())
        except yaml.YAMLError as exc:
            raise typer.BadParameter(
                f"{spec_file} is not valid YAML: {exc}", param_hint="--spec-file"
            ) from None
        hint = "--spec-file"
    else:
        return {}
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise typer.BadParameter("the spec must be an object (KEY: VALUE pairs)", param_hint=hint)
    return value


def resources_of(
    cpus: float | None, memory_mb: int | None, gpus: int | None, labels: list[str] | None
) -> dict[str, Any] | None:
    """The resource request from the options given (``None``: the server's defaults)."""
    out: dict[str, Any] = {}
    if cpus is not None:
        out["cpus"] = cpus
    if memory_mb is not None:
        out["memory_mb"] = memory_mb
    if gpus is not None:
        out["gpus"] = gpus
    if labels:
        out["labels"] = parse_pairs(labels, "--label")
    return out or None


def wait_with_progress(c: Client, workspace: str, job: Job, *, poll: float = 0.5) -> Job:
    """A progress bar (on standard error) fed by the job's progress until it finishes."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[message]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"{job.name} [{job.state}]", total=None, message="")
        while not job.finished:
            time.sleep(poll)
            job = c.jobs.get(workspace, job.id)
            started = job.progress is not None or job.state == "running"
            message = job.progress_message or job.wait_reason or ""
            bar.update(
                task,
                description=f"{job.name} [{job.state}]",
                total=1.0 if started else None,
                completed=job.progress or 0.0,
                message=message,
            )
    return job


def follow_logs(c: Client, workspace: str, job: Job) -> Job:
    """Print the job's output as it comes, until it finishes; the finished job."""
    for line in c.jobs.logs(workspace, job.id, follow=True):
        typer.echo(line)
    return c.jobs.wait(workspace, job.id)


def report_end(job: Job, output: Format) -> None:
    """Print how the job ended, and exit 1 unless it succeeded."""
    if output != Format.table:
        print_object(job, output)
    elif job.succeeded:
        result = f" result: {json.dumps(job.result)}" if job.result else ""
        say(f"Job [bold]{job.id}[/bold] ({job.name}) [green]succeeded[/green].{result}")
    else:
        say(f"Job [bold]{job.id}[/bold] ({job.name}) [red]{job.state}[/red]: {job.error or 'no error given'}")
    if not job.succeeded:
        raise typer.Exit(1)


def _submitted(c: Client, workspace: str, job: Job, *, wait: bool, follow: bool, output: Format) -> None:
    if follow:
        report_end(follow_logs(c, workspace, job), output)
    elif wait:
        report_end(wait_with_progress(c, workspace, job), output)
    elif output != Format.table:
        print_object(job, output)
    else:
        state = f"{job.state}" + (f" ({job.wait_reason})" if job.wait_reason else "")
        say(f"Submitted job [bold]{job.id}[/bold] ({job.name}): {state}.")
        say(f"  Follow it: dais jobs logs -f -w {workspace} {job.id}")


@jobs_app.command("submit")
def submit(
    kind: Annotated[str, typer.Argument(help="The job kind (see `dais jobs kinds`).")],
    workspace: WorkspaceOpt,
    spec: Annotated[str | None, typer.Option("--spec", help="The kind's parameters as JSON.")] = None,
    spec_file: Annotated[
        Path | None,
        typer.Option("--spec-file", help="The kind's parameters in a YAML or JSON file.", exists=True),
    ] = None,
    name: NameOpt = None,
    priority: PriorityOpt = 0,
    cpus: CpusOpt = None,
    memory_mb: MemoryOpt = None,
    gpus: GpusOpt = None,
    label: LabelOpt = None,
    max_attempts: AttemptsOpt = 1,
    timeout: TimeoutOpt = None,
    after: AfterOpt = None,
    wait: WaitOpt = False,
    follow: FollowOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Submit a job of KIND with its spec.

    Example: `dais jobs submit sleep -w team --spec '{"seconds": 5}' --wait`.
    """
    body = load_spec(spec, spec_file)
    with client() as c:
        job = c.jobs.submit(
            workspace,
            kind,
            body,
            name=name,
            priority=priority,
            resources=resources_of(cpus, memory_mb, gpus, label),
            max_attempts=max_attempts,
            timeout_s=timeout,
            depends_on=after or [],
        )
        _submitted(c, workspace, job, wait=wait, follow=follow, output=output)


@jobs_app.command("run-script", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_script(
    workspace: WorkspaceOpt,
    file: Annotated[Path, typer.Argument(help="The Python file to run.", exists=True, dir_okay=False)],
    args: Annotated[
        list[str] | None, typer.Argument(help="Arguments for the file (put `--` before ones like -x).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The job's name (default: the file name).")
    ] = None,
    cpus: CpusOpt = None,
    memory_mb: MemoryOpt = None,
    gpus: GpusOpt = None,
    label: LabelOpt = None,
    max_attempts: AttemptsOpt = 1,
    timeout: TimeoutOpt = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", help="An environment variable, KEY=VALUE (repeatable).", show_default=False),
    ] = None,
    wait: WaitOpt = False,
    follow: FollowOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Run a Python file on a worker as a `script` job.

    The file is uploaded to the workspace's artifacts (under `jobs-src/`) and runs there with
    DAIS_URL and DAIS_TOKEN set, so `dais.Client()` works inside it.
    Example: `dais jobs run-script -w team train.py --epochs 3 --follow`.
    """
    folder = f"jobs-src/{secrets.token_hex(6)}"
    spec = {
        "python": file.name,
        "args": list(args or []),
        "files": folder,
        "env": parse_pairs(env, "--env"),
    }
    with client() as c:
        c.artifacts.upload(workspace, f"{folder}/{file.name}", file)
        job = c.jobs.submit(
            workspace,
            "script",
            spec,
            name=name or file.name,
            resources=resources_of(cpus, memory_mb, gpus, label),
            max_attempts=max_attempts,
            timeout_s=timeout,
        )
        _submitted(c, workspace, job, wait=wait, follow=follow, output=output)


@jobs_app.command("list")
def list_jobs(
    workspace: WorkspaceOpt,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", "-s", help="Only jobs in this state (repeatable).", show_default=False),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only jobs of this kind.")] = None,
    dag: Annotated[str | None, typer.Option("--dag", help="Only jobs of this DAG.")] = None,
    q: Annotated[str | None, typer.Option("--search", "-q", help="Only names containing this.")] = None,
    sort: Annotated[
        str, typer.Option("--sort", help="created_at, priority, name or state; `-` first for descending.")
    ] = "-created_at",
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    output: OutputOpt = Format.table,
) -> None:
    """Jobs of a workspace, newest first."""
    with client() as c:
        jobs = c.jobs.list(workspace, state=state, kind=kind, dag_id=dag, q=q, sort=sort, limit=limit)
        print_list(jobs, JOB_COLUMNS, output)


@jobs_app.command("get")
def get(job_id: JobIdArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Show a job: state, progress, why it waits, result or error, and its attempts."""
    with client() as c:
        job = c.jobs.get(workspace, job_id)
    print_object(job, output, fields=JOB_FIELDS if output == Format.table else None)
    if output == Format.table and job.attempts:
        print_list(job.attempts, ATTEMPT_COLUMNS, output, title="Attempts")


@jobs_app.command("logs")
def logs(
    job_id: JobIdArg,
    workspace: WorkspaceOpt,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new output until the job finishes.")
    ] = False,
    tail: Annotated[int | None, typer.Option("--tail", help="Only the last N lines.")] = None,
    attempt: Annotated[
        int | None, typer.Option("--attempt", help="This attempt (default: the latest).")
    ] = None,
) -> None:
    """Print a job's output (stdout and stderr), streamed."""
    with client() as c:
        for line in c.jobs.logs(workspace, job_id, follow=follow, tail=tail, attempt=attempt):
            typer.echo(line)


@jobs_app.command("cancel")
def cancel(job_id: JobIdArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Cancel a job; a running one is stopped, with every process it started."""
    with client() as c:
        job = c.jobs.cancel(workspace, job_id)
    if output != Format.table:
        print_object(job, output)
    elif job.state == "cancelled":
        say(f"Cancelled job [bold]{job.id}[/bold].")
    else:
        say(f"Cancelling job [bold]{job.id}[/bold]: its worker stops it.")


@jobs_app.command("retry")
def retry(
    job_id: JobIdArg,
    workspace: WorkspaceOpt,
    wait: WaitOpt = False,
    follow: FollowOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Run a failed, cancelled or upstream-failed job again (its DAG continues from there)."""
    with client() as c:
        job = c.jobs.retry(workspace, job_id)
        _submitted(c, workspace, job, wait=wait, follow=follow, output=output)


@jobs_app.command("kinds")
def kinds(output: OutputOpt = Format.table) -> None:
    """The job kinds the server can run."""
    with client() as c:
        items = c.jobs.kinds()
    print_list(items, [("KIND", "name"), ("DESCRIPTION", "description"), ("ERROR", "error")], output)


def _load_dag(file: Path) -> tuple[str | None, list[dict[str, Any]]]:
    import yaml

    source = "stdin" if str(file) == "-" else str(file)
    try:
        text = typer.get_text_stream("stdin").read() if source == "stdin" else file.read_text()
        value = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"cannot read {source}: {exc}", param_hint="--file") from None
    if isinstance(value, list):
        return None, value
    if isinstance(value, dict) and isinstance(value.get("nodes"), list):
        return value.get("name"), value["nodes"]
    raise typer.BadParameter(
        f"{source} must hold `nodes:` (a list of jobs, each with `node`, `kind`, `spec`, `after`)",
        param_hint="--file",
    )


def _print_dag(dag: Dag, output: Format) -> None:
    if output != Format.table:
        print_object(dag, output)
        return
    names = {j.id: j.dag_node for j in dag.jobs}
    rows = [j.model_copy(update={"depends_on": [names.get(d) or d for d in j.depends_on]}) for j in dag.jobs]
    print_list(rows, DAG_COLUMNS, output, title=f"DAG {dag.name} ({dag.dag_id})")


@dag_app.command("submit")
def dag_submit(
    workspace: WorkspaceOpt,
    file: Annotated[Path, typer.Option("--file", "-f", help="The DAG as YAML (`-` reads stdin).")],
    name: Annotated[
        str | None, typer.Option("--name", help="The DAG's name (default: from the file).")
    ] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Submit a DAG from a YAML file.

    The file holds `name:` and `nodes:`, each node a job with a unique `node` name, its `kind`,
    `spec` (and any of `name`, `priority`, `resources`, `max_attempts`, `timeout_s`), and `after:`,
    the nodes that must succeed first.
    """
    file_name, nodes = _load_dag(file)
    with client() as c:
        dag = c.jobs.submit_dag(workspace, nodes, name=name or file_name or "dag")
    _print_dag(dag, output)


@dag_app.command("get")
def dag_get(
    dag_id: Annotated[str, typer.Argument(help="DAG id.")],
    workspace: WorkspaceOpt,
    output: OutputOpt = Format.table,
) -> None:
    """Show a DAG: its jobs, their states and what each waits for."""
    with client() as c:
        dag = c.jobs.dag(workspace, dag_id)
    _print_dag(dag, output)


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
