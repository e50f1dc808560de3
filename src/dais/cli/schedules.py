"""``dais schedules``: run a job or a DAG on a cron expression or an interval; pause, trigger, see runs."""

from __future__ import annotations

import enum
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.jobs import CpusOpt, GpusOpt, LabelOpt, MemoryOpt, load_spec, parse_pairs, resources_of
from dais.cli.output import Column, Format, OutputOpt, print_list, print_object, say

if TYPE_CHECKING:
    from dais.client import Schedule, ScheduleRun

schedules_app = typer.Typer(
    help="Run a job or a DAG on a cron expression or every N seconds; pause, trigger, see its runs."
)

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id.")]
ScheduleArg = Annotated[str, typer.Argument(help="Schedule name or id.")]


class Catchup(enum.StrEnum):
    """What fires after downtime: the latest missed run only, or each one."""

    skip = "skip"
    all = "all"


SCHEDULE_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("WHEN", lambda s: _timing(s)),
    ("SUBMITS", lambda s: _submits(s)),
    ("NEXT RUN (UTC)", lambda s: "paused" if s.paused else _utc(s.next_runs[0] if s.next_runs else None)),
    ("LAST RUN (UTC)", lambda s: _utc(s.last_run_at)),
    ("LAST ERROR", "last_error"),
]
RUN_COLUMNS: list[Column] = [
    ("ID", "id"),
    ("LOGICAL DATE (UTC)", lambda r: _utc(r.logical_date)),
    ("FIRED (UTC)", lambda r: _utc(r.fired_at)),
    ("JOB", "job_id"),
    ("DAG", "dag_id"),
    ("ERROR", "error"),
]

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _duration(seconds: float) -> str:
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _timing(s: Schedule) -> str:
    if s.cron:
        return s.cron if s.timezone == "UTC" else f"{s.cron} ({s.timezone})"
    return f"every {_duration(s.interval_s or 0)}"


def _submits(s: Schedule) -> str | None:
    job = s.template.get("job")
    if isinstance(job, dict):
        kind = f"job {job.get('kind')}"
        return f"{kind}: {job['name']}" if job.get("name") else kind
    dag = s.template.get("dag")
    if isinstance(dag, dict):
        return f"dag {dag.get('name', 'dag')} ({len(dag.get('nodes') or [])} jobs)"
    return None


def parse_every(value: str) -> float:
    """``--every``: seconds, or a number with a unit (``90s``, ``15m``, ``1h``, ``1d``, ``1w``)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", value.lower())
    if not match:
        raise typer.BadParameter(
            f"{value!r} is not a duration such as 3600, 15m, 1h or 1d", param_hint="--every"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def load_dag_file(file: Path) -> dict[str, Any]:
    """A DAG template from YAML: ``name:`` and ``nodes:`` (or just the list of nodes); ``-`` is stdin."""
    import yaml

    source = "stdin" if str(file) == "-" else str(file)
    try:
        text = typer.get_text_stream("stdin").read() if source == "stdin" else file.read_text()
        value = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"cannot read {source}: {exc}", param_hint="--dag-file") from None
    if isinstance(value, list):
        return {"nodes": value}
    if isinstance(value, dict) and isinstance(value.get("nodes"), list):
        return value
    raise typer.BadParameter(
        f"{source} must hold `nodes:` (a list of jobs, each with `node`, `kind`, `spec`, `after`)",
        param_hint="--dag-file",
    )


def _print_schedule(s: Schedule, output: Format) -> None:
    """A schedule's fields, then its next run times in UTC and in its own time zone."""
    if output != Format.table:
        print_object(s, output)
        return
    print_object(
        {
            "id": s.id,
            "name": s.name,
            "description": s.description or None,
            "when": _timing(s),
            "timezone": s.timezone,
            "submits": _submits(s),
            "template": json.dumps(s.template, ensure_ascii=False),
            "variables": s.variables or None,
            "catchup": s.catchup,
            "paused": s.paused,
            "last_run_at": _utc(s.last_run_at),
            "last_error": s.last_error,
            "created_at": _utc(s.created_at),
        },
        output,
    )
    if s.paused:
        say("[dim]Paused: nothing fires until `dais schedules resume`.[/dim]")
        return
    columns: list[Column] = [("UTC", _utc)]
    if s.timezone != "UTC":
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(s.timezone)
        columns.append((s.timezone, lambda t: (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(zone)))
    print_list(s.next_runs, columns, output, title="Next runs")


@schedules_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A name for the schedule, unique in the workspace.")],
    workspace: WorkspaceOpt,
    cron: Annotated[
        str | None,
        typer.Option("--cron", help='A cron expression: minute hour day month weekday, "0 3 * * *".'),
    ] = None,
    timezone: Annotated[
        str, typer.Option("--timezone", "--tz", help="The IANA time zone --cron is read in (Europe/Paris).")
    ] = "UTC",
    every: Annotated[
        str | None, typer.Option("--every", help="Or fire every N seconds (3600), or 15m, 1h, 1d, 1w.")
    ] = None,
    job_kind: Annotated[
        str | None, typer.Option("--job-kind", help="Submit a job of this kind (see `dais jobs kinds`).")
    ] = None,
    spec: Annotated[str | None, typer.Option("--spec", help="The job's spec as JSON.")] = None,
    spec_file: Annotated[
        Path | None,
        typer.Option("--spec-file", help="The job's spec in a YAML or JSON file.", exists=True),
    ] = None,
    job_name: Annotated[
        str | None,
        typer.Option(
            "--job-name", help="The name of each job, e.g. 'load ${ds}' (default: schedule + time)."
        ),
    ] = None,
    cpus: CpusOpt = None,
    memory_mb: MemoryOpt = None,
    gpus: GpusOpt = None,
    label: LabelOpt = None,
    dag_file: Annotated[
        Path | None,
        typer.Option(
            "--dag-file", help="Or submit this DAG (YAML with `name:` and `nodes:`, as `dais jobs dag`)."
        ),
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var", help="A ${variable} for the template, KEY=VALUE (repeatable).", show_default=False
        ),
    ] = None,
    catchup: Annotated[
        Catchup, typer.Option("--catchup", help="After downtime: fire only the latest missed run, or all.")
    ] = Catchup.skip,
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused (resume it later).")] = False,
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    output: OutputOpt = Format.table,
) -> None:
    """Create a schedule that submits a job (--job-kind) or a DAG (--dag-file) on --cron or --every.

    Strings of the job may use `${ds}` (the run's date, YYYY-MM-DD), `${ts}` (ISO 8601), shifted
    (`${ds-1d}`, `${ds+2h}`) or formatted (`${ds|%Y%m%d}`), and the --var values.
    Example: `dais schedules create -w team nightly --cron "0 3 * * *" --timezone Europe/Paris
    --job-kind script --spec '{"command": ["load", "${ds-1d}"]}' --job-name 'load ${ds}'`.
    """
    if (cron is None) == (every is None):
        raise typer.BadParameter("give exactly one of --cron and --every")
    if (job_kind is None) == (dag_file is None):
        raise typer.BadParameter("give exactly one of --job-kind and --dag-file")
    job: dict[str, Any] | None = None
    dag: dict[str, Any] | None = None
    if job_kind is not None:
        job = {"kind": job_kind, "spec": load_spec(spec, spec_file)}
        if job_name:
            job["name"] = job_name
        if resources := resources_of(cpus, memory_mb, gpus, label):
            job["resources"] = resources
    else:
        if spec is not None or spec_file is not None or job_name is not None:
            raise typer.BadParameter("--spec, --spec-file and --job-name go with --job-kind, not --dag-file")
        assert dag_file is not None
        dag = load_dag_file(dag_file)
    with client() as c:
        schedule = c.schedules.create(
            workspace,
            name,
            cron=cron,
            interval_s=parse_every(every) if every is not None else None,
            timezone=timezone,
            job=job,
            dag=dag,
            variables=parse_pairs(var, "--var"),
            catchup="all" if catchup is Catchup.all else "skip",
            paused=paused,
            description=description,
        )
    _print_schedule(schedule, output)


@schedules_app.command("list")
def list_schedules(
    workspace: WorkspaceOpt,
    sort: Annotated[
        str, typer.Option("--sort", help="name, created_at or next_run_at; `-` first for descending.")
    ] = "name",
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    output: OutputOpt = Format.table,
) -> None:
    """The workspace's schedules: when each fires, what it submits, its next run.

    Example: `dais schedules list -w team --sort next_run_at`.
    """
    with client() as c:
        print_list(c.schedules.list(workspace, sort=sort, limit=limit), SCHEDULE_COLUMNS, output)


@schedules_app.command("get")
def get(schedule: ScheduleArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Show a schedule and its next five run times (in UTC and in its time zone).

    Example: `dais schedules get -w team nightly`.
    """
    with client() as c:
        _print_schedule(c.schedules.get(workspace, schedule), output)


@schedules_app.command("runs")
def runs(
    schedule: ScheduleArg,
    workspace: WorkspaceOpt,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many, newest first.")] = 50,
    output: OutputOpt = Format.table,
) -> None:
    """The runs a schedule fired, newest first: the job or DAG each submitted, or why it could not.

    Example: `dais schedules runs -w team nightly -n 10`.
    """
    with client() as c:
        print_list(c.schedules.runs(workspace, schedule, limit=limit), RUN_COLUMNS, output)


@schedules_app.command("pause")
def pause(schedule: ScheduleArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Stop a schedule firing until it is resumed.

    Example: `dais schedules pause -w team nightly`.
    """
    with client() as c:
        s = c.schedules.pause(workspace, schedule)
    if output != Format.table:
        print_object(s, output)
    else:
        say(f"Paused schedule [bold]{s.name}[/bold].")


@schedules_app.command("resume")
def resume(schedule: ScheduleArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Fire a paused schedule again, from now on (runs missed while paused are not fired).

    Example: `dais schedules resume -w team nightly`.
    """
    with client() as c:
        s = c.schedules.resume(workspace, schedule)
    if output != Format.table:
        print_object(s, output)
    else:
        nxt = _utc(s.next_runs[0]) if s.next_runs else None
        when = f" Next run: {nxt:%Y-%m-%d %H:%M:%S} UTC." if nxt else ""
        say(f"Resumed schedule [bold]{s.name}[/bold].{when}")


@schedules_app.command("trigger")
def trigger(schedule: ScheduleArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Fire one run now, whatever the timing says; exit 1 if its job or DAG could not be submitted.

    Example: `dais schedules trigger -w team nightly`.
    """
    with client() as c:
        run = c.schedules.trigger(workspace, schedule)
    if output != Format.table:
        print_object(run, output)
    else:
        _report_run(run, workspace, schedule)
    if run.error:
        raise typer.Exit(1)


def _report_run(run: ScheduleRun, workspace: str, schedule: str) -> None:
    if run.error:
        say(f"[red]Run {run.id} of {schedule} did not submit:[/red] {run.error}")
    elif run.job_id:
        say(f"Fired run {run.id} of {schedule}: job [bold]{run.job_id}[/bold].")
        say(f"  Follow it: dais jobs logs -f -w {workspace} {run.job_id}")
    else:
        say(f"Fired run {run.id} of {schedule}: DAG [bold]{run.dag_id}[/bold].")
        say(f"  See it: dais jobs dag get -w {workspace} {run.dag_id}")


@schedules_app.command("delete")
def delete(
    schedule: ScheduleArg,
    workspace: WorkspaceOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a schedule; the jobs it submitted stay.

    Example: `dais schedules delete -w team nightly --yes`.
    """
    if not yes:
        typer.confirm(f"Delete schedule {schedule}?", abort=True)
    with client() as c:
        c.schedules.delete(workspace, schedule)
    say(f"Deleted schedule {schedule}.")


def register(app: typer.Typer) -> None:
    app.add_typer(schedules_app, name="schedules")
