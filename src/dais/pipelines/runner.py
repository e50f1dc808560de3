"""Running a pipeline on an engine: per-node status, counts, logs and samples; caching; debug runs.

Public API (what the pipelines service and its job call)::

    result = run_pipeline(
        graph,                      # PipelineGraph
        engine="duckdb",            # an Engine, or a registry name (config: engine_config={...})
        resolver=resolver,          # DatasetResolver: source schemas, version keys, readers
        variables={"ds": "2024-01-02"},
        mode="full",                # or "debug": every source sampled (sample_rows, sample_method)
        sample_rows=1000,
        sample_method="first",      # or "random" (seeded by ``seed``)
        from_node=None,             # re-run this node and its downstream; upstream from the cache
        cache=RunCache(path),       # or None: no reuse, nothing kept
        on_node_event=callback,     # Callable[[NodeEvent], None]: every status change of every node
        sink_writer=writer,         # SinkWriter: writes each sink's rows as a new dataset version
        seed=0,
        workdir=None,               # scratch (spill files); a temporary folder if unset
    ) -> RunResult

The graph is validated first (:class:`~dais.pipelines.validate.PipelineInvalid` before anything runs).
Nodes run in topological order. Operators only build Ibis expressions, so a chain of row-wise
operators stays one expression that the engine runs as one query when a sink writes it; a node's
output is materialised (an engine temporary table, or parquet files in the cache when a cache is
given) only when it is expensive to compute again (aggregates, joins, windows, distinct, raw SQL) or
in debug runs (tiny tables). Fitting operators run their aggregates through ``ctx.execute``; an
aggregate identical to one an earlier node ran is answered from that node's result (one pass for the
fits of mean imputation then standard scaling: see ``column_moments``), and the results are cached, so
a cached node is rebuilt without reading data.

Per node the runner reports (as :class:`NodeEvent`, and in :class:`RunResult`) its status (pending,
running, succeeded, failed, skipped, cached), duration, rows in and out, log lines, an output sample
(first ``sample_size`` rows as JSON-able records, per table output) and its JSON outputs (fitted
transforms, reports, metrics). A failing node is marked failed with its error; the nodes that depend
on it are skipped; independent branches go on; inputs are never written. In debug mode sinks write
nothing. ``from_node`` forces that node and everything downstream to run again; nodes upstream of it
come from the cache when their key matches (else they run); nodes unrelated to it are skipped.
"""

from __future__ import annotations

import base64
import math
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel

from dais.core.errors import DaisError
from dais.pipelines.engines import Engine, EngineSession, SourceSample, get_engine
from dais.pipelines.operators.base import BuildContext, FittedTransform
from dais.pipelines.plan import NodePlan, Plan, plan_graph, run_variables
from dais.pipelines.validate import check_graph

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from dais.pipelines.cache import CacheEntry, RunCache
    from dais.pipelines.datasets import DatasetResolver
    from dais.pipelines.graph import PipelineGraph

SAMPLE_SIZE = 100
REUSED = "Reused the cached output of an identical earlier run."


class NodeStatus(StrEnum):
    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"
    cached = "cached"


@dataclass
class NodeEvent:
    """A node's state at one moment (sent on every status change)."""

    node_id: str
    status: NodeStatus
    started_at: datetime | None = None
    duration_s: float | None = None
    rows_in: int | None = None
    #: table output port -> rows
    rows_out: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    #: table output port -> first rows as JSON-able records
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: non-table outputs as JSON (a fitted transform's model_dump, a report, metrics); a sink's write result
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None
    cache_key: str | None = None


NodeResult = NodeEvent


@dataclass
class RunResult:
    status: Literal["succeeded", "failed"]
    mode: str
    duration_s: float
    nodes: dict[str, NodeResult]
    #: fitting node id -> its fitted transform (what a model package carries)
    transforms: dict[str, FittedTransform] = field(default_factory=dict)
    #: sink node id -> what the sink writer returned
    sinks: dict[str, Any] = field(default_factory=dict)


class SinkData:
    """A sink's input as the engine holds it: write it natively to a local folder, or stream it."""

    def __init__(self, session: EngineSession, expr: ir.Table) -> None:
        self._session, self.expr = session, expr

    @property
    def schema(self) -> pa.Schema:
        return self.expr.schema().to_pyarrow()

    def write_parquet(self, folder: Path) -> dict[str, Any]:
        """Engine-native parquet files in a local ``folder``: ``{files, rows}``."""
        return self._session.write_parquet(self.expr, folder)

    def batches(self, batch_rows: int = 65_536) -> pa.RecordBatchReader:
        """The rows as a stream of Arrow batches (for remote stores)."""
        return self._session.batches(self.expr, batch_rows=batch_rows)


class SinkWriter(Protocol):
    """Writes a sink node's rows as a new dataset version; returns JSON (rows, version, files...).
    The result should carry ``rows`` (int) so that the runner can report the sink's rows in."""

    def write(self, node_id: str, params: Any, data: SinkData) -> dict[str, Any]: ...


class FolderSinkWriter:
    """Writes each sink's rows as ``<root>/<dataset>/v<N+1>/part-*.parquet`` (see ParquetFolderResolver)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def write(self, node_id: str, params: Any, data: SinkData) -> dict[str, Any]:
        base = self.root / str(params.dataset)
        versions = [int(p.name[1:]) for p in base.glob("v*") if p.name[1:].isdigit()]
        version = max(versions, default=0) + 1
        written = data.write_parquet(base / f"v{version}")
        return {"dataset": params.dataset, "version": version, **written}


class _Context(BuildContext):
    """The BuildContext of one node: live (recording aggregate results) or replaying a cache entry."""

    def __init__(self, runner: _Runner, plan: NodePlan, replay: list[pa.Table] | None) -> None:
        self.node_id = plan.id
        self.variables = runner.plan.variables
        self.seed = runner.seed
        self.sample = runner.sample is not None
        self._runner = runner
        self._replay = list(replay) if replay is not None else None
        self.executed: list[pa.Table] = []
        self.lines: list[str] = []

    def execute(self, expr: ir.Table) -> pa.Table:
        known = self._runner.executed
        key = expr.op()
        if self._replay:
            result = self._replay.pop(0)
            known.setdefault(key, result)
        elif key in known:
            result = known[key]
            self.log(f"Reused an identical aggregate of an earlier node ({result.num_rows} row(s)).")
        else:
            t0 = time.perf_counter()
            result = self._runner.session.execute(expr)
            known[key] = result
            self.log(f"Ran an aggregate ({result.num_rows} row(s)) in {time.perf_counter() - t0:.2f} s.")
        self.executed.append(result)  # every call, reused or not: a replay pops them in this order
        return result

    def source(self, dataset: str, version: int | None, partitions: list[str] | str | None) -> ir.Table:
        runner = self._runner
        if runner.resolver is None:
            raise DaisError("This run has no dataset resolver: sources cannot be read.")
        reader = runner.resolver.open(dataset, version, partitions, self.variables)
        return runner.session.source(reader, name=self.node_id, sample=runner.sample)

    def log(self, message: str) -> None:
        self.lines.append(str(message))


def _expensive(expr: ir.Table) -> bool:
    """Whether computing ``expr`` again costs more than a scan (blocking or opaque operations)."""
    import ibis.expr.operations as ops

    blocking = (
        ops.Aggregate,
        ops.JoinChain,
        ops.Distinct,
        ops.WindowFunction,
        ops.SQLStringView,
        ops.SQLQueryResult,
    )
    return bool(expr.op().find(blocking))


def _row_preserving(expr: ir.Table, inputs: Mapping[str, Any]) -> ir.Table | None:
    """The input table ``expr`` keeps every row of (projections only on top of it), if any: then its
    row count is the input's and needs no query."""
    import ibis.expr.operations as ops
    import ibis.expr.types as ir

    tables = [v for v in inputs.values() if isinstance(v, ir.Table)]
    if len(tables) != 1:
        return None
    base = tables[0].op()
    known = set(base.find(ops.Relation))
    added = [n for n in expr.op().find(ops.Relation) if n not in known]
    if all(isinstance(n, ops.Project | ops.DropColumns) for n in added):
        return tables[0]
    return None


def jsonable(value: Any) -> Any:
    """A value from an Arrow ``to_pylist()`` as plain JSON (NaN/inf -> None, dates as ISO text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def records(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: jsonable(v) for k, v in row.items()} for row in table.to_pylist()]


def _json_output(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return jsonable(value)


class _Runner:
    def __init__(
        self,
        plan: Plan,
        session: EngineSession,
        *,
        resolver: DatasetResolver | None,
        sample: SourceSample | None,
        seed: int,
        cache: RunCache | None,
        forced: set[str],
        wanted: set[str],
        on_node_event: Callable[[NodeEvent], None] | None,
        sink_writer: SinkWriter | None,
        sample_size: int,
    ) -> None:
        self.plan, self.session, self.resolver = plan, session, resolver
        self.sample, self.seed, self.cache = sample, seed, cache
        self.forced, self.wanted = forced, wanted
        self.on_node_event, self.sink_writer, self.sample_size = on_node_event, sink_writer, sample_size
        self.values: dict[str, dict[str, Any]] = {}
        #: results of ``ctx.execute`` by expression: an identical aggregate runs once per run (mean
        #: imputation and standard scaling of the same columns share one pass, see column_moments)
        self.executed: dict[Any, pa.Table] = {}
        self.results: dict[str, NodeEvent] = {}
        self.transforms: dict[str, FittedTransform] = {}
        self.sinks: dict[str, Any] = {}

    def emit(self, event: NodeEvent) -> None:
        self.results[event.node_id] = event
        if self.on_node_event is not None:
            self.on_node_event(event)

    def run(self) -> None:
        for node_id in self.plan.order:
            self.emit(NodeEvent(node_id, NodeStatus.pending, cache_key=self.plan.nodes[node_id].key))
        for node_id in self.plan.order:
            p = self.plan.nodes[node_id]
            if node_id not in self.wanted:
                self.emit(
                    NodeEvent(node_id, NodeStatus.skipped, cache_key=p.key, log=["Not part of this run."])
                )
                continue
            blocked = [src for src, _ in p.inputs.values() if src not in self.values]
            if blocked:
                self.emit(
                    NodeEvent(
                        node_id,
                        NodeStatus.skipped,
                        cache_key=p.key,
                        log=[f"Skipped: upstream node {blocked[0]!r} did not succeed."],
                    )
                )
                continue
            self.run_node(p)

    def run_node(self, p: NodePlan) -> None:
        entry: CacheEntry | None = None
        if self.cache is not None and p.id not in self.forced and not p.is_sink:
            entry = self.cache.get(p.key)
        started = datetime.now().astimezone()
        t0 = time.perf_counter()
        if entry is None:
            self.emit(NodeEvent(p.id, NodeStatus.running, started_at=started, cache_key=p.key))
        ctx = _Context(self, p, entry.executes if entry is not None else None)
        event = NodeEvent(p.id, NodeStatus.running, started_at=started, cache_key=p.key)
        try:
            inputs = {port: self.values[src][sp] for port, (src, sp) in p.inputs.items()}
            event.rows_in = self.rows_in(p)
            if entry is not None:
                self.replay(p, ctx, inputs, entry, event)
            else:
                self.compute(p, ctx, inputs, event)
        except Exception as exc:
            event.status = NodeStatus.failed
            if isinstance(exc, DaisError):
                event.error, event.error_code = exc.detail, exc.code
            else:
                event.error, event.error_code = f"{type(exc).__name__}: {exc}", "operator_error"
                ctx.log("".join(traceback.format_exception_only(exc)).strip())
            ctx.log(f"Failed: {event.error}")
            self.values.pop(p.id, None)
        event.log = ctx.lines
        event.duration_s = round(time.perf_counter() - t0, 4)
        self.emit(event)

    def rows_in(self, p: NodePlan) -> int | None:
        total, known = 0, False
        for src, sp in p.inputs.values():
            rows = self.results[src].rows_out.get(sp)
            if rows is not None:
                total, known = total + rows, True
        return total if known else None

    def replay(
        self, p: NodePlan, ctx: _Context, inputs: dict[str, Any], entry: CacheEntry, event: NodeEvent
    ) -> None:
        outputs = p.op.build(ctx, p.params, inputs)
        for port, files in entry.tables.items():
            outputs[port] = self.session.read_parquet(files, name=f"{p.id}_{port}")
        self.values[p.id] = outputs
        meta = entry.meta
        event.rows_out = {k: int(v) for k, v in meta.get("rows_out", {}).items()}
        event.samples = meta.get("samples", {})
        event.outputs = meta.get("outputs", {})
        ctx.lines[:0] = [*meta.get("log", []), REUSED]
        self.collect(p, outputs)
        event.status = NodeStatus.cached

    def compute(self, p: NodePlan, ctx: _Context, inputs: dict[str, Any], event: NodeEvent) -> None:
        if p.is_sink:
            self.write_sink(p, ctx, inputs, event)
            return
        outputs = p.op.build(ctx, p.params, inputs)
        missing = [port.name for port in p.op.outputs if port.name not in outputs]
        if missing:
            raise DaisError(f"The operator {p.op.id!r} gave no output {missing[0]!r}.")
        scratch = self.cache.scratch(p.key) if self.cache is not None else None
        tables: dict[str, list[str]] = {}
        try:
            for port in p.table_outputs():
                expr = outputs[port]
                if self.sample is not None or _expensive(expr):
                    outputs[port], files = self.materialize(p, port, expr)
                    if files:
                        tables[port] = files
                t0 = time.perf_counter()
                same_rows = _row_preserving(expr, inputs) if event.rows_in is not None else None
                if same_rows is not None and outputs[port] is expr:
                    event.rows_out[port] = int(event.rows_in or 0)
                else:
                    event.rows_out[port] = self.session.count(outputs[port])
                event.samples[port] = records(self.session.head(outputs[port], self.sample_size))
                ctx.log(
                    f"Output {port!r}: {event.rows_out[port]:,} rows (counted and sampled in "
                    f"{time.perf_counter() - t0:.2f} s)."
                )
            event.outputs = {
                port: _json_output(value) for port, value in outputs.items() if port not in p.table_outputs()
            }
            if self.cache is not None and scratch is not None:
                meta = {
                    "rows_out": event.rows_out,
                    "samples": event.samples,
                    "outputs": event.outputs,
                    "log": ctx.lines,
                }
                self.cache.commit(p.key, scratch, meta, ctx.executed, tables)
                scratch = None
        finally:
            if scratch is not None and self.cache is not None:
                self.cache.discard(scratch)
        self.values[p.id] = outputs
        self.collect(p, outputs)
        event.status = NodeStatus.succeeded

    def materialize(self, p: NodePlan, port: str, expr: ir.Table) -> tuple[ir.Table, list[str]]:
        if self.cache is None or self.sample is not None:
            return self.session.materialize(expr, name=f"{p.id}_{port}"), []
        folder = self.cache.table_folder(p.key, port)
        written = self.session.write_parquet(expr, folder)
        files = [str(f) for f in written["files"]]
        return self.session.read_parquet(files, name=f"{p.id}_{port}"), files

    def collect(self, p: NodePlan, outputs: Mapping[str, Any]) -> None:
        for value in outputs.values():
            if isinstance(value, FittedTransform):
                self.transforms[p.id] = value

    def write_sink(self, p: NodePlan, ctx: _Context, inputs: dict[str, Any], event: NodeEvent) -> None:
        p.op.build(ctx, p.params, inputs)
        data = inputs.get("in")
        if data is None:
            raise DaisError(f"The sink {p.id!r} has no input table.")
        if self.sample is not None:
            ctx.log("Debug run on a sample: nothing written.")
            event.samples["in"] = records(self.session.head(data, self.sample_size))
        elif self.sink_writer is None:
            raise DaisError("This run has no sink writer: sinks cannot write.")
        else:
            t0 = time.perf_counter()
            written = self.sink_writer.write(p.id, p.params, SinkData(self.session, data))
            self.sinks[p.id] = written
            event.outputs = {"written": jsonable(written)}
            if isinstance(written.get("rows"), int):
                event.rows_in = written["rows"]
            ctx.log(f"Wrote {written.get('rows', '?')} rows in {time.perf_counter() - t0:.2f} s.")
        self.values[p.id] = {}
        event.status = NodeStatus.succeeded


def run_pipeline(
    graph: PipelineGraph,
    *,
    engine: Engine | str = "duckdb",
    engine_config: dict[str, Any] | None = None,
    resolver: DatasetResolver | None,
    variables: Mapping[str, str] | None = None,
    mode: Literal["full", "debug"] = "full",
    sample_rows: int = 1000,
    sample_method: Literal["first", "random"] = "first",
    from_node: str | None = None,
    cache: RunCache | None = None,
    on_node_event: Callable[[NodeEvent], None] | None = None,
    sink_writer: SinkWriter | None = None,
    seed: int = 0,
    workdir: str | Path | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> RunResult:
    """Validate, plan and run ``graph`` (see the module docstring for every argument)."""
    t0 = time.perf_counter()
    validation = check_graph(graph, resolver=resolver)
    values = run_variables(graph, variables)
    sample = SourceSample(sample_rows, sample_method, seed) if mode == "debug" else None
    mode_key = "full" if sample is None else f"debug:{sample_method}:{sample_rows}"
    plan = plan_graph(graph, validation, resolver=resolver, variables=values, seed=seed, mode_key=mode_key)
    if from_node is not None:
        if from_node not in plan.nodes:
            from dais.core.errors import NotFound

            raise NotFound(f"No node {from_node!r} in this pipeline.")
        forced = plan.downstream(from_node)
        wanted = forced | plan.upstream(forced)
    else:
        forced, wanted = set(), set(plan.order)
    eng = engine if isinstance(engine, Engine) else get_engine(engine, engine_config)
    with (
        tempfile.TemporaryDirectory(prefix="dais-run-", dir=workdir) as scratch,
        eng.session(Path(scratch)) as session,
    ):
        runner = _Runner(
            plan,
            session,
            resolver=resolver,
            sample=sample,
            seed=seed,
            cache=cache,
            forced=forced,
            wanted=wanted,
            on_node_event=on_node_event,
            sink_writer=sink_writer,
            sample_size=sample_size,
        )
        runner.run()
    failed = any(r.status is NodeStatus.failed for r in runner.results.values())
    return RunResult(
        status="failed" if failed else "succeeded",
        mode=mode,
        duration_s=round(time.perf_counter() - t0, 4),
        nodes=runner.results,
        transforms=runner.transforms,
        sinks=runner.sinks,
    )
