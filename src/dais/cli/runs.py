"""``dais runs``: list an experiment's tracked runs (MLflow's filter grammar, chosen columns), show
one, compare several, print a metric's history with a sparkline, list and download artifacts."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.experiments import WorkspaceOpt, when
from dais.cli.output import Column, Format, OutputOpt, dump, print_list, print_object, say

if TYPE_CHECKING:
    from dais.client.runs import MetricSeries, TrackedRunDetail

runs_app = typer.Typer(
    help="Tracked runs: list with filters and chosen columns, show, compare, metric history, artifacts.",
    no_args_is_help=True,
)

RunArg = Annotated[str, typer.Argument(help="A run id.")]
SPARKS = "▁▂▃▄▅▆▇█"
COLUMN_KINDS = {
    "params": "params",
    "param": "params",
    "metrics": "metrics",
    "metric": "metrics",
    "tags": "tags",
    "tag": "tags",
}


def _number(value: float | None) -> str | None:
    if value is None:
        return None
    return f"{value:.6g}"


def _duration(ms: int | None) -> str | None:
    if ms is None:
        return None
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{sec:02d}s"


def parse_columns(text: str | None) -> dict[str, list[str]]:
    """``metrics.acc,params.lr,tags.team`` -> {"params": ["lr"], "metrics": ["acc"], "tags": ["team"]}."""
    out: dict[str, list[str]] = {"params": [], "metrics": [], "tags": []}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        kind, sep, key = item.partition(".")
        if not sep or not key or kind not in COLUMN_KINDS:
            raise typer.BadParameter(
                f"{item!r} is not metrics.KEY, params.KEY or tags.KEY", param_hint="--columns"
            )
        out[COLUMN_KINDS[kind]].append(key)
    return out


def sparkline(values: list[float | None], width: int = 60) -> str:
    """The values as one line of block characters (a blank where a value is missing or NaN)."""
    if not values:
        return ""
    buckets: list[float | None] = []
    step = max(1, math.ceil(len(values) / width))
    for i in range(0, len(values), step):
        chunk = [v for v in values[i : i + step] if v is not None and math.isfinite(v)]
        buckets.append(sum(chunk) / len(chunk) if chunk else None)
    present = [b for b in buckets if b is not None]
    if not present:
        return " " * len(buckets)
    lo, hi = min(present), max(present)
    span = hi - lo
    out = []
    for b in buckets:
        if b is None:
            out.append(" ")
        else:
            out.append(SPARKS[0 if span == 0 else min(len(SPARKS) - 1, int((b - lo) / span * len(SPARKS)))])
    return "".join(out)


@runs_app.command("list")
def list_runs(
    workspace: WorkspaceOpt,
    experiment: Annotated[
        list[str], typer.Option("--experiment", "-e", help="Experiment id or name (repeatable).")
    ],
    filter: Annotated[
        str,
        typer.Option("--filter", "-f", help="MLflow's grammar: \"metrics.acc > 0.9 AND params.lr = '0.1'\"."),
    ] = "",
    order_by: Annotated[
        list[str] | None,
        typer.Option(
            "--order-by", help="'metrics.acc DESC', 'params.lr', 'attributes.start_time' (repeatable)."
        ),
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", "-c", help="Extra columns: metrics.acc,params.lr,tags.team")
    ] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Deleted runs instead.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    output: OutputOpt = Format.table,
) -> None:
    """An experiment's runs, newest first unless ordered otherwise, with the chosen columns.

    Examples:

    * `dais runs list -w team -e churn --filter "metrics.auc > 0.8" --order-by "metrics.auc DESC"
      --columns metrics.auc,params.lr`
    * `dais runs list -w team -e churn -e fraud -o json`
    """
    chosen = parse_columns(columns)
    with client() as c:
        found = list(
            c.runs.search(
                experiment,
                filter=filter,
                order_by=order_by or [],
                view="deleted" if deleted else "active",
                limit=limit,
                workspace=workspace,
                **chosen,
            )
        )
    table: list[Column] = [
        ("RUN", "id"),
        ("NAME", "name"),
        ("STATUS", "status"),
        ("STARTED", lambda r: when(r.start_time)),
        ("DURATION", lambda r: _duration(r.duration_ms)),
    ]
    for kind in ("params", "metrics", "tags"):
        table += [(f"{kind}.{key}", _cell(kind, key)) for key in chosen[kind]]
    print_list(found, table, output)


def _cell(kind: str, key: str) -> Callable[[Any], Any]:
    """A table cell: the run's param, metric or tag ``key``."""

    def get(run: Any) -> Any:
        value = getattr(run, kind).get(key)
        return _number(value) if kind == "metrics" else value

    return get


def _by_run(run_id: str, *, number: bool = False) -> Callable[[Any], Any]:
    """A compare cell: the value of one run."""

    def get(row: Any) -> Any:
        value = row.values.get(run_id)
        return _number(value) if number else value

    return get


def _show_run(run: TrackedRunDetail, output: Format) -> None:
    if output != Format.table:
        typer.echo(dump(run.model_dump(mode="json"), output))
        return
    fields: dict[str, Any] = {
        "id": run.id,
        "name": run.name,
        "experiment": f"{run.experiment_name} ({run.experiment_id})",
        "status": run.status,
        "state": run.lifecycle_stage,
        "started": when(run.start_time),
        "ended": when(run.end_time),
        "duration": _duration(run.duration_ms),
        "user": run.user_id or None,
        "description": run.description or None,
        "job": f"{run.job.id} ({run.job.kind}, {run.job.state})" if run.job else None,
        "parent": f"{run.parent.name} ({run.parent.id})" if run.parent else None,
        "children": run.child_count or None,
        "artifacts": run.artifact_uri,
    }
    if run.logged_models:
        fields["logged models"] = ", ".join(f"{m.name} ({m.id}, {m.status})" for m in run.logged_models)
    if run.registered_versions:
        fields["registered as"] = ", ".join(f"{v.model} v{v.version}" for v in run.registered_versions)
    print_object(fields, output)
    if run.params:
        print_list(sorted(run.params.items()), [("PARAM", lambda p: p[0]), ("VALUE", lambda p: p[1])], output)
    if run.latest_metrics:
        metric_columns: list[Column] = [
            ("METRIC", "key"),
            ("VALUE", lambda m: _number(m.value) if m.value is not None else "NaN"),
            ("STEP", "step"),
        ]
        print_list(run.latest_metrics, metric_columns, output)
    user_tags = [(k, v) for k, v in run.tags.items() if not k.startswith("mlflow.")]
    if user_tags:
        print_list(user_tags, [("TAG", lambda t: t[0]), ("VALUE", lambda t: t[1][:80])], output)
    if run.inputs:
        inputs: list[Column] = [
            ("DATASET", "name"),
            ("DIGEST", "digest"),
            ("CONTEXT", "context"),
            ("SOURCE", "source"),
        ]
        print_list(run.inputs, inputs, output)


@runs_app.command("show")
def show(run: RunArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """A run: status, times, job, parent and children, params, latest metrics, tags, inputs, models."""
    with client() as c:
        found = c.runs.get(run, workspace=workspace)
    _show_run(found, output)


@runs_app.command("compare")
def compare(
    runs: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    workspace: WorkspaceOpt,
    diff: Annotated[bool, typer.Option("--diff", help="Only the params that differ.")] = False,
    output: OutputOpt = Format.table,
) -> None:
    """Runs side by side: params (`*` where they differ) and latest metrics."""
    if len(runs) < 2:
        raise typer.BadParameter("give two or more run ids", param_hint="RUNS")
    with client() as c:
        found = c.runs.compare(runs, workspace=workspace)
    if output != Format.table:
        typer.echo(dump(found.model_dump(mode="json"), output))
        return
    ids = [r.id for r in found.runs]
    names = {r.id: r.name for r in found.runs}
    params = found.differing_params() if diff else found.params
    columns: list[Column] = [("PARAM", lambda p: f"* {p.key}" if p.differs else f"  {p.key}")]
    for rid in ids:
        columns.append((f"{names[rid]} ({rid[:8]})", _by_run(rid)))
    print_list(params, columns, output, title="Params (* differs)")
    metric_columns: list[Column] = [("METRIC", "key")]
    for rid in ids:
        metric_columns.append((f"{names[rid]} ({rid[:8]})", _by_run(rid, number=True)))
    print_list(found.metrics, metric_columns, output, title="Metrics (latest)")


def _print_series(series: MetricSeries, rows: int) -> None:
    points = series.points
    if not points:
        say(f"[dim]No points for {series.key}.[/dim]")
        return
    shown = points
    if len(points) > rows:
        idx = sorted({round(i * (len(points) - 1) / (rows - 1)) for i in range(rows)})
        shown = [points[i] for i in idx]
    print_list(
        shown,
        [
            ("STEP", "step"),
            ("VALUE", lambda p: _number(p.value) if p.value is not None else "NaN"),
            ("TIME", lambda p: when(p.timestamp)),
        ],
        Format.table,
        title=f"{series.key} of run {series.run_id}",
    )
    values = [p.value for p in points]
    present = [v for v in values if v is not None]
    say(sparkline(values))
    extra = f" (downsampled to {len(points)} points)" if series.downsampled else ""
    if present:
        say(
            f"steps {points[0].step}..{points[-1].step}{extra}; min {_number(min(present))}, "
            f"max {_number(max(present))}, last {_number(values[-1])}"
        )


@runs_app.command("metrics")
def metrics(
    run: RunArg,
    key: Annotated[str, typer.Argument(help="A metric key (train/loss, accuracy...).")],
    workspace: WorkspaceOpt,
    max_points: Annotated[
        int, typer.Option("--max-points", help="Downsample to at most this many points.")
    ] = 200,
    rows: Annotated[int, typer.Option("--rows", help="Table rows (evenly spread over the steps).")] = 10,
    output: OutputOpt = Format.table,
) -> None:
    """A metric's history: a small table over its steps and a sparkline (`-o json`: every point)."""
    with client() as c:
        series = c.runs.metric_history(run, key, max_points=max_points, workspace=workspace)
    if output != Format.table:
        typer.echo(dump(series.model_dump(mode="json"), output))
        return
    _print_series(series, max(rows, 2))


@runs_app.command("artifacts")
def artifacts(
    run: RunArg,
    workspace: WorkspaceOpt,
    path: Annotated[str, typer.Argument(help="A folder under the run's artifacts.")] = "",
    download: Annotated[
        Path | None, typer.Option("--download", "-d", help="Download the file PATH to this file or folder.")
    ] = None,
    output: OutputOpt = Format.table,
) -> None:
    """A run's artifacts, one folder level (`--download DEST` fetches the file PATH instead)."""
    with client() as c:
        if download is not None:
            if not path:
                raise typer.BadParameter("give the PATH of a file to download", param_hint="PATH")
            written = c.runs.download(run, path, download, workspace=workspace)
            say(f"Wrote {written}.")
            return
        items = c.runs.artifacts(run, path, workspace=workspace)
    columns: list[Column] = [
        ("PATH", lambda a: f"{a.path}/" if a.is_dir else a.path),
        ("SIZE", "size"),
        ("MODIFIED", lambda a: when(a.modified)),
    ]
    print_list(items, columns, output)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
