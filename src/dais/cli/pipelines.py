"""``dais pipelines`` and ``dais operators``: list, show, validate, run (full or debug), watch a run's
nodes live, read a node's log and output sample, export as YAML (``dais apply -f`` reads it back)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.datasets import print_rows
from dais.cli.output import Column, Format, OutputOpt, dump, print_list, print_object, say

if TYPE_CHECKING:
    from rich.console import RenderableType

    from dais.client import Client, Pipeline, Run, Validation

pipelines_app = typer.Typer(
    help="Pipelines: DAGs of typed operators over datasets; validate, run (full or debug), watch, export.",
    no_args_is_help=True,
)
operators_app = typer.Typer(
    help="Operators: the steps a pipeline is made of (ports, params, column pickers).",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace slug or id.", envvar="DAIS_WORKSPACE")
]
NameArg = Annotated[str, typer.Argument(help="Pipeline name.")]
RunOpt = Annotated[
    str | None, typer.Option("--run", "-r", help="A run id (default: the pipeline's latest run).")
]
VersionOpt = Annotated[
    int | None, typer.Option("--version", help="This version of the pipeline (default: the current one).")
]

STATUS_STYLE = {
    "succeeded": "green",
    "cached": "cyan",
    "running": "yellow",
    "queued": "dim",
    "pending": "dim",
    "failed": "red",
    "skipped": "dim",
    "cancelled": "magenta",
}

PIPELINE_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("VERSION", "current_version"),
    ("LAST RUN", lambda p: f"{p.last_run.status} ({p.last_run.mode})" if p.last_run else None),
    ("RUN AT", lambda p: p.last_run.created_at if p.last_run else None),
    ("UPDATED", "updated_at"),
    ("DESCRIPTION", lambda p: _esc(p.description[:60])),
]
PIPELINE_FIELDS = ["name", "description", "current_version", "id", "created_by", "created_at", "updated_at"]
VERSION_COLUMNS: list[Column] = [
    ("VERSION", "number"),
    ("NODES", "nodes"),
    ("MESSAGE", lambda v: _esc(v.message)),
    ("BY", "created_by"),
    ("CREATED", "created_at"),
]
RUN_COLUMNS: list[Column] = [
    ("RUN", "id"),
    ("STATUS", "status"),
    ("MODE", lambda r: f"debug ({r.sample_rows} rows)" if r.mode == "debug" else r.mode),
    ("VERSION", "version"),
    ("FROM", "from_node"),
    ("CREATED", "created_at"),
    ("DURATION", lambda r: None if r.duration_s is None else f"{r.duration_s:.1f} s"),
    ("OUTPUTS", lambda r: ", ".join(f"{o.dataset} v{o.version}" for o in r.outputs) or None),
]
ISSUE_COLUMNS: list[Column] = [
    ("NODE", lambda e: e.node_id or "(pipeline)"),
    ("WHERE", lambda e: ".".join(p for p in (e.part, e.field) if p and p != "graph") or None),
    ("PROBLEM", lambda e: _esc(e.message)),
]
OPERATOR_COLUMNS: list[Column] = [
    ("FAMILY", "family"),
    ("OPERATOR", "id"),
    ("VERSION", "version"),
    ("INPUTS", lambda o: ", ".join(f"{p.name}:{p.type}" for p in o.inputs) or None),
    ("OUTPUTS", lambda o: ", ".join(f"{p.name}:{p.type}" for p in o.outputs) or None),
    ("DESCRIPTION", lambda o: _esc(f"broken: {o.error}" if o.error else o.description)),
]
PARAM_COLUMNS: list[Column] = [
    ("PARAM", "name"),
    ("TYPE", lambda p: _param_type(p)),
    ("REQUIRED", "required"),
    ("DEFAULT", lambda p: None if p.default is None else repr(p.default)),
    ("CHOICES", lambda p: ", ".join(map(str, p.choices)) if p.choices else None),
    ("HELP", lambda p: _esc(p.description)),
]
PORT_COLUMNS: list[Column] = [
    ("PORT", "name"),
    ("DIRECTION", lambda p: p.direction),
    ("TYPE", "type"),
    ("REQUIRED", "required"),
    ("HELP", "description"),
]


def _esc(text: Any) -> str | None:
    """Text shown in a rich table as it is (``[...]`` in it is not markup)."""
    from rich.markup import escape

    return None if text is None or text == "" else escape(str(text))


def _param_type(param: Any) -> str:
    """A column picker as ``column (numeric)`` / ``columns (any)``; other params by JSON type."""
    picker = param.columns
    if not picker:
        return str(param.type)
    kinds = ", ".join(picker.get("types") or ["any"])
    return f"{'columns' if picker.get('multiple') else 'column'} ({kinds}) of {picker.get('port', 'in')}"


def _vars(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--var")
        out[key.strip()] = value
    return out


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _params_text(params: dict[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}={text[:40]}")
    return " ".join(parts)


def run_table(run: Run) -> RenderableType:
    """A run as a rich table: one row per node (status, rows in and out, duration, error)."""
    from rich.markup import escape
    from rich.table import Table

    style = STATUS_STYLE.get(run.status, "")
    mode = f"debug on {run.sample_rows} rows" if run.mode == "debug" else run.mode
    title = f"{run.pipeline} v{run.version} · run {run.id} · {mode} · [{style}]{run.status}[/{style}]" + (
        f" · {_duration(run.duration_s)}" if run.duration_s is not None else ""
    )
    table = Table(title=title, header_style="bold", title_justify="left")
    for header in ("NODE", "OPERATOR", "STATUS", "ROWS IN", "ROWS OUT", "TIME", "ERROR"):
        table.add_column(header, overflow="fold")
    for n in run.nodes or []:
        nstyle = STATUS_STYLE.get(n.status, "")
        table.add_row(
            escape(n.node_id),
            escape(n.operator),
            f"[{nstyle}]{n.status}[/{nstyle}]",
            "-" if n.rows_in is None else str(n.rows_in),
            "-" if n.rows_out is None else str(n.rows_out),
            _duration(n.duration_s),
            escape((n.error or "")[:300]),
        )
    return table


def _run_footer(run: Run) -> None:
    from rich.markup import escape

    if run.error and not run.failed_nodes():
        say(f"[red]{escape(run.error)}[/red]")
    for out in run.outputs:
        rows = "" if out.rows is None else f" ({out.rows} rows)"
        say(f"Wrote dataset [bold]{escape(out.dataset)}[/bold] version {out.version}{rows}.")


def watch_run(run: Run, output: Format) -> Run:
    """Follow a run to its end: a live per-node table (or, with -o json/yaml, the final run)."""
    if output != Format.table:
        done = run.wait(check=False)
        typer.echo(dump(done.model_dump(mode="json"), output))
        return done
    from rich.console import Console
    from rich.live import Live

    console = Console()
    with Live(run_table(run), console=console, auto_refresh=False, transient=False) as live:

        def update(current: Run) -> None:
            live.update(run_table(current), refresh=True)

        done = run.wait(progress=update, poll=0.5, check=False)
    _run_footer(done)
    return done


def _exit_for(run: Run) -> None:
    if not run.succeeded:
        raise typer.Exit(1)


def _print_validation(found: Validation, output: Format, label: str) -> None:
    if output != Format.table:
        typer.echo(dump(found.model_dump(mode="json"), output))
    elif found.valid:
        say(f"[green]{label} is valid.[/green]")
    else:
        n = len(found.errors)
        say(f"[red]{label} has {n} error{'s' if n != 1 else ''}:[/red]")
        print_list(found.errors, ISSUE_COLUMNS, output)
    if not found.valid:
        raise typer.Exit(1)


def _show_pipeline(p: Pipeline, output: Format) -> None:
    if output != Format.table:
        typer.echo(dump(p.model_dump(mode="json"), output))
        return
    print_object(p, output, fields=PIPELINE_FIELDS)
    graph = p.graph
    if graph is None:
        return
    inputs: dict[str, list[str]] = {}
    for e in graph.edges:
        src = e.source if e.source_port == "out" else f"{e.source}.{e.source_port}"
        inputs.setdefault(e.target, []).append(src if e.target_port == "in" else f"{src}→{e.target_port}")
    nodes = [
        {"id": n.id, "operator": n.operator, "inputs": inputs.get(n.id, []), "params": n.params}
        for n in graph.nodes
    ]
    columns: list[Column] = [
        ("NODE", lambda n: n["id"]),
        ("OPERATOR", lambda n: n["operator"]),
        ("INPUTS", lambda n: ", ".join(n["inputs"]) or None),
        ("PARAMS", lambda n: _esc(_params_text(n["params"]))),
    ]
    print_list(nodes, columns, output, title="Nodes")
    if graph.variables:
        var_columns: list[Column] = [("VARIABLE", "name"), ("DEFAULT", "default"), ("HELP", "description")]
        print_list(graph.variables, var_columns, output, title="Variables")


def _pick_run(c: Client, name: str, run_id: str | None, workspace: str) -> Run:
    if run_id is None:
        return c.pipelines.latest_run(name, workspace=workspace)
    return c.pipelines.get_run(name, run_id, workspace=workspace)


# -- pipelines ---------------------------------------------------------------------------------------


@pipelines_app.command("list")
def list_pipelines(
    workspace: WorkspaceOpt,
    q: Annotated[
        str | None, typer.Option("--search", "-q", help="Only names or descriptions with this.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    output: OutputOpt = Format.table,
) -> None:
    """The workspace's pipelines, with their current version and last run."""
    with client() as c:
        print_list(c.pipelines.list(q=q, limit=limit, workspace=workspace), PIPELINE_COLUMNS, output)


@pipelines_app.command("show")
def show(
    name: NameArg, workspace: WorkspaceOpt, version: VersionOpt = None, output: OutputOpt = Format.table
) -> None:
    """Show a pipeline: its current (or an older) version's nodes, inputs, params and variables."""
    with client() as c:
        p = c.pipelines.get(name, workspace=workspace)
        if version is not None:
            p = p.model_copy(update={"graph": c.pipelines.version(name, version, workspace=workspace).graph})
    _show_pipeline(p, output)


@pipelines_app.command("versions")
def versions(name: NameArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """A pipeline's versions (one per save that changed the graph), newest first."""
    with client() as c:
        print_list(c.pipelines.versions(name, workspace=workspace), VERSION_COLUMNS, output)


@pipelines_app.command("validate")
def validate(
    workspace: WorkspaceOpt,
    name: Annotated[str | None, typer.Argument(help="A saved pipeline.")] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Check an unsaved pipeline: a `kind: Pipeline` YAML (`-`: stdin)."),
    ] = None,
    version: VersionOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Check a pipeline against the workspace's datasets without running it; exit 1 if it has errors.

    Each error names its node and field: unknown columns, wrong column types, out-of-range params,
    unconnected inputs, port type mismatches, cycles.

    Examples:

    * `dais pipelines validate churn -w team`
    * `dais pipelines validate -w team -f churn.yaml` (before `dais apply -f churn.yaml`)
    """
    if (name is None) == (file is None):
        raise typer.BadParameter("give a pipeline NAME or --file, not both")
    with client() as c:
        if file is not None:
            graph, label = _graph_from_file(file)
            found = c.pipelines.validate(graph, workspace=workspace)
        else:
            assert name is not None
            found = c.pipelines.validate(name, version=version, workspace=workspace)
            label = name
    _print_validation(found, output, label)


def _graph_from_file(file: Path) -> tuple[dict[str, Any], str]:
    """The graph of a ``kind: Pipeline`` manifest (or of a bare graph document) in a YAML file."""
    import yaml

    from dais.core.errors import InvalidInput

    text = sys.stdin.read() if str(file) == "-" else file.read_text()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{file} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidInput(f"{file}: expected a `kind: Pipeline` document or a graph (nodes, edges).")
    if doc.get("kind") == "Pipeline":
        spec = doc.get("spec") or {}
        name = str((doc.get("metadata") or {}).get("name") or file)
        return dict(spec.get("graph") or {}), name
    return doc, str(file)


@pipelines_app.command("run")
def run_pipeline(
    name: NameArg,
    workspace: WorkspaceOpt,
    debug: Annotated[
        bool, typer.Option("--debug", help="A debug run on a sample of each source (sinks write nothing).")
    ] = False,
    sample: Annotated[
        int | None, typer.Option("--sample", "-n", help="Debug: rows per source (default 1000).")
    ] = None,
    random: Annotated[
        bool, typer.Option("--random", help="Debug: a random sample, not the first rows.")
    ] = False,
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var", help="A ${variable}'s value, KEY=VALUE: ds=2024-06-01 (repeatable).", show_default=False
        ),
    ] = None,
    from_node: Annotated[
        str | None,
        typer.Option("--from", help="Run this node and its downstream again; upstream from the cache."),
    ] = None,
    version: VersionOpt = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow the run: a live table of its nodes until it ends.")
    ] = False,
    output: OutputOpt = Format.table,
) -> None:
    """Run a pipeline (validated first: an invalid one starts nothing and its errors are listed).

    With --watch the command ends with the run, exit 1 if it failed.

    Examples:

    * `dais pipelines run churn -w team --debug --sample 500 --watch`
    * `dais pipelines run churn -w team --var ds=2024-06-01`
    * `dais pipelines run churn -w team --from scale --watch` (after fixing the scale node)
    """
    if (sample is not None or random) and not debug:
        raise typer.BadParameter("--sample and --random go with --debug")
    with client() as c:
        run = c.pipelines.run(
            name,
            mode="debug" if debug else "full",
            sample_rows=sample,
            sample_method="random" if random else None,
            variables=_vars(var),
            from_node=from_node,
            version=version,
            wait=False,
            workspace=workspace,
        )
        if watch:
            _exit_for(watch_run(run, output))
            return
    if output != Format.table:
        print_object(run, output)
        return
    say(f"Started run [bold]{run.id}[/bold] of {name} v{run.version} ({run.mode}).")
    say(f"  Follow it: dais pipelines watch {name} -w {workspace} --run {run.id}")


@pipelines_app.command("watch")
def watch(
    name: NameArg, workspace: WorkspaceOpt, run: RunOpt = None, output: OutputOpt = Format.table
) -> None:
    """Follow a run: a live table of its nodes (status, rows, time, error) until it ends; exit 1 if it
    failed. A finished run is shown as it ended."""
    with client() as c:
        found = _pick_run(c, name, run, workspace)
        _exit_for(watch_run(found, output))


@pipelines_app.command("runs")
def runs(
    name: NameArg,
    workspace: WorkspaceOpt,
    status: Annotated[
        str | None, typer.Option("--status", help="Only queued, running, succeeded, failed or cancelled.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 20,
    output: OutputOpt = Format.table,
) -> None:
    """A pipeline's runs, newest first."""
    with client() as c:
        print_list(
            c.pipelines.runs(name, status=status, limit=limit, workspace=workspace), RUN_COLUMNS, output
        )


@pipelines_app.command("logs")
def logs(
    name: NameArg,
    node: Annotated[str, typer.Argument(help="A node id.")],
    workspace: WorkspaceOpt,
    run: RunOpt = None,
) -> None:
    """A node's log in a run (its error at the end if it failed)."""
    with client() as c:
        found = _pick_run(c, name, run, workspace)
        node_run = c.pipelines.node(name, found.id, node, workspace=workspace)
    text = node_run.log or ""
    if text:
        typer.echo(text.rstrip("\n"))
    if node_run.error and node_run.error not in text:
        typer.echo(f"error: {node_run.error}", err=True)
    if not text and not node_run.error:
        say(f"[dim]Node {node} ({node_run.status}) logged nothing.[/dim]")


@pipelines_app.command("sample")
def sample_rows(
    name: NameArg,
    node: Annotated[str, typer.Argument(help="A node id.")],
    workspace: WorkspaceOpt,
    run: RunOpt = None,
    port: Annotated[
        str | None, typer.Option("--port", "-p", help="An output port (default: each one).")
    ] = None,
    rows: Annotated[int, typer.Option("--rows", help="Rows to show.")] = 20,
    output: OutputOpt = Format.table,
) -> None:
    """A node's output sample in a run (its first rows per output port), and its report if any."""
    with client() as c:
        found = _pick_run(c, name, run, workspace)
        node_run = c.pipelines.node(name, found.id, node, workspace=workspace)
    samples = node_run.sample or {}
    if port is not None:
        samples = {port: samples.get(port, [])}
    if output != Format.table:
        typer.echo(dump({"sample": samples, "report": node_run.report or {}}, output))
        return
    if not samples and not node_run.report:
        say(f"[dim]Node {node} ({node_run.status}) kept no sample.[/dim]")
    for name_of, items in samples.items():
        print_rows(items, limit=rows, title=f"{node}.{name_of}")
    if node_run.report:
        typer.echo(dump(node_run.report, Format.yaml))


@pipelines_app.command("cancel")
def cancel(
    name: NameArg, run: Annotated[str, typer.Argument(help="A run id.")], workspace: WorkspaceOpt
) -> None:
    """Cancel a run (a running one is stopped)."""
    with client() as c:
        found = c.pipelines.cancel(name, run, workspace=workspace)
    say(f"Run [bold]{found.id}[/bold]: {found.status}.")


@pipelines_app.command("compare")
def compare(
    name: NameArg,
    a: Annotated[str, typer.Argument(help="A run id.")],
    b: Annotated[str, typer.Argument(help="Another run id.")],
    workspace: WorkspaceOpt,
    output: OutputOpt = Format.table,
) -> None:
    """Two runs side by side: per node status, rows and time, and the params that changed."""
    with client() as c:
        found = c.pipelines.compare(name, a, b, workspace=workspace)
    if output != Format.table:
        typer.echo(dump(found.model_dump(mode="json"), output))
        return

    def side(s: Any) -> str | None:
        if s is None:
            return None
        return (
            f"{s.status} · {s.rows_out if s.rows_out is not None else '-'} rows · {_duration(s.duration_s)}"
        )

    columns: list[Column] = [
        ("NODE", "node_id"),
        ("OPERATOR", "operator"),
        (f"A ({a[-6:]})", lambda n: side(n.a)),
        (f"B ({b[-6:]})", lambda n: side(n.b)),
        ("CHANGED PARAMS", lambda n: _esc("; ".join(f"{d.field}: {d.a!r} → {d.b!r}" for d in n.params))),
    ]
    print_list(found.nodes, columns, output)


@pipelines_app.command("export")
def export(
    name: NameArg,
    workspace: WorkspaceOpt,
    version: VersionOpt = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Write a pipeline as YAML (`kind: Pipeline`); `dais apply -f` creates or updates it from that.

    Example: `dais pipelines export churn -w team > churn.yaml`, edit, `dais apply -f churn.yaml`.
    """
    with client() as c:
        text = c.pipelines.export(name, version=version, workspace=workspace)
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text)
        say(f"Wrote pipeline {name} to {file}.")


@pipelines_app.command("schedule")
def schedule(
    name: NameArg,
    schedule_name: Annotated[str, typer.Argument(help="A name for the schedule.")],
    workspace: WorkspaceOpt,
    cron: Annotated[str | None, typer.Option("--cron", help="A cron expression: '0 3 * * *'.")] = None,
    every: Annotated[float | None, typer.Option("--every", help="Or every this many seconds.")] = None,
    timezone: Annotated[str, typer.Option("--timezone", help="The time zone the cron is read in.")] = "UTC",
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var", help="A variable, KEY=VALUE; may use the date: ds='${ds}'.", show_default=False
        ),
    ] = None,
    version: VersionOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Run a pipeline on a schedule (a `pipeline.run` job each time; failures alert like any job's).

    Example: `dais pipelines schedule churn nightly -w team --cron '0 2 * * *' --var 'ds=${ds}'`.
    """
    if (cron is None) == (every is None):
        raise typer.BadParameter("give --cron or --every")
    with client() as c:
        made = c.pipelines.schedule(
            name,
            schedule_name,
            cron=cron,
            interval_s=every,
            timezone=timezone,
            variables=_vars(var),
            version=version,
            workspace=workspace,
        )
    if output != Format.table:
        print_object(made, output)
        return
    nxt = made.next_runs[0].strftime("%Y-%m-%d %H:%M:%S %Z") if made.next_runs else "-"
    say(
        f"Scheduled [bold]{name}[/bold] as {made.name}; next run {nxt}. "
        f"See `dais schedules list -w {workspace}`."
    )


@pipelines_app.command("delete")
def delete(
    name: NameArg,
    workspace: WorkspaceOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a pipeline with its versions, runs and cache (datasets its runs wrote stay)."""
    if not yes:
        typer.confirm(f"Delete pipeline {name} of {workspace}?", abort=True)
    with client() as c:
        c.pipelines.delete(name, workspace=workspace)
    say(f"Deleted pipeline [bold]{name}[/bold].")


# -- operators ---------------------------------------------------------------------------------------


@operators_app.command("list")
def list_operators(
    family: Annotated[
        str | None, typer.Option("--family", help="Only this family (io, cleaning...).")
    ] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Every operator a pipeline can use, by family, with its input and output ports."""
    with client() as c:
        print_list(c.pipelines.operators(family=family), OPERATOR_COLUMNS, output)


@operators_app.command("show")
def show_operator(
    operator: Annotated[str, typer.Argument(help="An operator id: scale, split, join...")],
    output: OutputOpt = Format.table,
) -> None:
    """An operator: its ports and params (types, defaults, choices, column pickers, help)."""
    from rich.markup import escape

    with client() as c:
        op = c.pipelines.operator(operator)
    if output != Format.table:
        typer.echo(dump(op.model_dump(mode="json"), output))
        return
    say(f"[bold]{op.id}[/bold] v{op.version} ({op.family}): {op.title}")
    if op.description:
        say(op.description)
    if op.error:
        say(f"[red]Failed to load: {escape(op.error)}[/red]")
    ports = [_Port("in", p) for p in op.inputs] + [_Port("out", p) for p in op.outputs]
    print_list(ports, PORT_COLUMNS, output, title="Ports")
    print_list(op.params(), PARAM_COLUMNS, output, title="Params")


class _Port:
    def __init__(self, direction: str, port: Any) -> None:
        self.direction = direction
        self.name, self.type, self.required, self.description = (
            port.name,
            port.type,
            port.required,
            port.description,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(pipelines_app, name="pipelines")
    app.add_typer(operators_app, name="operators")
