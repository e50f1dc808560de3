"""Pipelines: build a graph of operators in Python, save it (a new version per change), validate it,
run it (full, or a debug run on a sample), follow its nodes, and export it as YAML.

A small builder names nodes after their operator and links each step to the next::

    p = client.pipelines.builder("churn-features", workspace="team")
    src = p.source("customers")
    clean = src.then("impute", strategy="mean", columns=["age", "income"])
    scaled = clean.then("scale", method="standard", columns=["age", "income"])
    scaled.then("sink", dataset="customers-features")
    pipeline = p.save(message="first cut")

    run = pipeline.run(mode="debug", sample_rows=500)      # waits; raises PipelineRunFailed on failure
    print(run.summary())                                   # "4 succeeded"
    print(run.node("scale").sample["out"][:3])

Multi-output operators (``split``) are reached with ``step.port("train")``; operators with several
inputs (``join``, ``union``, ``sql``) take them in order, ``p.node("join", left, right, ...)``.
"""

from __future__ import annotations

import builtins
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr

from dais.client.http import Transport, route
from dais.client.models import Model, Schedule
from dais.client.uploads import WorkspaceResource
from dais.core.errors import DaisError, InvalidInput, NotFound
from dais.core.errors import PipelineInvalid as _CorePipelineInvalid

OPERATORS = route("GET", "/api/v1/operators")
LIST = route("GET", "/api/v1/workspaces/{workspace}/pipelines")
CREATE = route("POST", "/api/v1/workspaces/{workspace}/pipelines")
VALIDATE_GRAPH = route("POST", "/api/v1/workspaces/{workspace}/pipelines/validate")
GET = route("GET", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}")
APPLY = route("PUT", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}")
EXPORT = route("GET", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/export")
VERSIONS = route("GET", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/versions")
SAVE = route("POST", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/versions")
VERSION = route("GET", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/versions/{number}")
VALIDATE = route("POST", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/validate")
RUNS = route("GET", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/runs")
SUBMIT = route("POST", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/runs")
COMPARE = route("GET", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/runs/compare")
RUN = route("GET", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/runs/{run}")
NODE = route("GET", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/runs/{run}/nodes/{node}")
CANCEL = route("POST", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/runs/{run}/cancel")
SCHEDULE = route("POST", "/api/v1/workspaces/{workspace}/pipelines/{pipeline}/schedules")

#: Run statuses after which nothing changes.
FINISHED = frozenset({"succeeded", "failed", "cancelled"})

RunProgress = Callable[["Run"], None]
"""Called with the run (and its nodes) each time it is polled while :meth:`Run.wait` waits."""


# -- errors ------------------------------------------------------------------------------------------


class PipelineInvalid(_CorePipelineInvalid):
    """The pipeline has errors (422); ``errors`` lists each with ``loc`` (``["nodes", node, part, field...]``)
    and ``msg``; :attr:`issues` gives them as :class:`ValidationIssue`."""

    @property
    def issues(self) -> builtins.list[ValidationIssue]:
        """Each error as a node id, part (``params``, ``inputs``...), field and message."""
        return [ValidationIssue.from_error(e) for e in self.errors]


class PipelineRunFailed(DaisError):
    """A run ended failed or cancelled; ``run`` is it (its nodes say which failed and why)."""

    code = "pipeline_run_failed"
    status = 422
    title = "The pipeline run failed"

    run: Run | None = None

    @classmethod
    def of(cls, run: Run) -> PipelineRunFailed:
        """The error for a run that ended without succeeding."""
        failed = run.failed_nodes()
        where = f" at node {failed[0].node_id!r}: {failed[0].error}" if failed else ""
        reason = "" if failed else f": {run.error}" if run.error else ""
        error = cls(
            f"Pipeline run {run.id} of {run.pipeline!r} {run.status}{where}{reason}",
            run_id=run.id,
            pipeline=run.pipeline,
        )
        error.run = run
        return error


def _pipeline_error(exc: DaisError) -> DaisError:
    """A ``pipeline_invalid`` reply as the SDK's :class:`PipelineInvalid`, whichever class decoded it."""
    if exc.code == PipelineInvalid.code and not isinstance(exc, PipelineInvalid):
        converted = PipelineInvalid(exc.detail, errors=exc.errors, **exc.extra)
        converted.__cause__ = exc
        return converted
    return exc


# -- the graph ---------------------------------------------------------------------------------------


class _GraphModel(Model):
    # Fields a newer server adds travel through unchanged.
    model_config = ConfigDict(extra="allow", frozen=True)


class Position(_GraphModel):
    """Where a node sits on the canvas."""

    x: float = 0.0
    y: float = 0.0


class GraphNode(_GraphModel):
    """A node: an operator (id, version: latest if unset) with its params."""

    id: str
    operator: str
    version: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None
    position: Position = Field(default_factory=Position)


class GraphEdge(_GraphModel):
    """Output ``source_port`` of node ``source`` feeds input ``target_port`` of node ``target``."""

    source: str
    source_port: str = "out"
    target: str
    target_port: str = "in"


class PipelineVariable(_GraphModel):
    """A ``${variable}`` the params may use, with its default (a run's ``variables`` override it)."""

    name: str
    default: str | None = None
    description: str | None = None


class PipelineGraph(_GraphModel):
    """A whole pipeline as data: what is saved, validated, run and exported."""

    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)
    variables: list[PipelineVariable] = Field(default_factory=list)

    def node(self, node_id: str) -> GraphNode | None:
        """The node with this id, if any."""
        return next((n for n in self.nodes if n.id == node_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The graph as the API takes it (defaults left out, as in an export)."""
        return self.model_dump(mode="json", exclude_defaults=True)


def _graph_body(graph: PipelineGraph | PipelineBuilder | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(graph, PipelineBuilder):
        return graph.graph().to_dict()
    if isinstance(graph, PipelineGraph):
        return graph.to_dict()
    return PipelineGraph.model_validate(dict(graph)).to_dict()


# -- read models -------------------------------------------------------------------------------------


class PortInfo(Model):
    """A port of an operator: its name, type (``table``, ``transform``, ``report``...), whether required."""

    name: str
    type: str
    required: bool = True
    description: str = ""


class ParamInfo(Model):
    """One parameter of an operator, from its JSON schema."""

    name: str
    type: str
    required: bool
    default: Any = None
    description: str = ""
    choices: list[Any] | None = None
    columns: dict[str, Any] | None = None
    """For a column picker: ``{port, types, multiple}`` (the input port's columns it picks from)."""


class Operator(Model):
    """An operator of the palette: its ports and the JSON schema of its params."""

    id: str
    version: int
    family: str
    title: str = ""
    description: str = ""
    inputs: list[PortInfo] = Field(default_factory=list)
    outputs: list[PortInfo] = Field(default_factory=list)
    params_schema: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    """Why the operator's plugin failed to load (``None``: it is usable)."""

    def params(self) -> builtins.list[ParamInfo]:
        """Its parameters (name, type, default, help, choices, column picker), in declared order."""
        schema = self.params_schema
        required = set(schema.get("required", []))
        defs = schema.get("$defs", {})
        out = []
        for name, prop in schema.get("properties", {}).items():
            resolved = _resolve(prop, defs)
            out.append(
                ParamInfo(
                    name=name,
                    type=_type_text(resolved, defs),
                    required=name in required,
                    default=prop.get("default"),
                    description=str(prop.get("description") or resolved.get("description") or ""),
                    choices=resolved.get("enum"),
                    columns=prop.get("x-dais-columns") or resolved.get("x-dais-columns"),
                )
            )
        return out


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {
            **defs.get(ref.removeprefix("#/$defs/"), {}),
            **{k: v for k, v in prop.items() if k != "$ref"},
        }
    return prop


def _type_text(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "enum" in prop:
        return "choice"
    if "anyOf" in prop:
        parts = [_type_text(_resolve(p, defs), defs) for p in prop["anyOf"]]
        return " | ".join(dict.fromkeys(p for p in parts if p != "null")) or "null"
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type_text(_resolve(prop.get('items', {}), defs), defs)}"
    if kind == "object":
        return "mapping"
    return str(kind or prop.get("title") or "any")


class RunSummary(Model):
    """A pipeline's latest run, in short."""

    id: str
    status: str
    mode: str
    version: int
    created_at: datetime
    finished_at: datetime | None = None


class PipelineVersion(Model):
    """A saved graph: its number, message, node count and (read one by one) the graph itself."""

    number: int
    message: str = ""
    nodes: int = 0
    created_by: str | None = None
    created_at: datetime
    graph: PipelineGraph | None = None


class ValidationIssue(Model):
    """One problem, on node ``node_id`` (``None``: the graph as a whole) in ``part`` at ``field``."""

    node_id: str | None = None
    part: str = "graph"
    field: str | None = None
    message: str
    code: str = "invalid"
    loc: list[str] = Field(default_factory=list)

    @classmethod
    def from_error(cls, error: Mapping[str, Any]) -> ValidationIssue:
        """An issue from a 422 reply's error (``{"loc": ["nodes", id, part, *field], "msg": ...}``)."""
        loc = [str(p) for p in error.get("loc", [])]
        node_id = part = field = None
        if len(loc) >= 2 and loc[0] == "nodes":
            node_id = loc[1]
            part = loc[2] if len(loc) > 2 else None
            field = ".".join(loc[3:]) or None
        elif loc and loc[0] == "graph":
            part, field = "graph", ".".join(loc[1:]) or None
        elif loc and loc[0] in ("body", "query"):
            part, field = loc[0], ".".join(loc[1:]) or None
        return cls(
            node_id=node_id,
            part=part or "graph",
            field=field,
            message=str(error.get("msg", "")),
            code=str(error.get("code", "invalid")),
            loc=loc,
        )

    def __str__(self) -> str:
        where = f"node {self.node_id}" if self.node_id else "pipeline"
        at = ".".join(p for p in (self.part, self.field) if p and p != "graph")
        return f"{where}{' ' + at if at else ''}: {self.message}"


class Validation(Model):
    """What checking a pipeline found: errors per node and field, and each node's output schemas
    (``schemas[node][port]``: ``{"columns": [{"name", "type"}...], "open": bool}``, ``None`` for a
    port that is not a table)."""

    valid: bool
    errors: list[ValidationIssue] = Field(default_factory=list)
    schemas: dict[str, dict[str, dict[str, Any] | None]] = Field(default_factory=dict)

    def raise_for_errors(self) -> None:
        """Raise :class:`PipelineInvalid` (as a run would) if there is any error."""
        if self.valid:
            return
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        raise PipelineInvalid(
            f"The pipeline is invalid: {first}{more}",
            errors=[{"loc": e.loc, "msg": e.message, "code": e.code} for e in self.errors],
        )

    def columns(self, node_id: str, port: str = "out") -> builtins.list[str]:
        """The column names a node's output port will have (empty if unknown)."""
        schema = (self.schemas.get(node_id) or {}).get(port) or {}
        return [str(c["name"]) for c in schema.get("columns", [])]


class RunOutput(Model):
    """A dataset version a sink of the run wrote."""

    node_id: str
    dataset: str
    dataset_id: str
    version: int
    rows: int | None = None


class NodeRun(Model):
    """One node of a run: status (pending, running, succeeded, failed, skipped, cached), timing, row
    counts; read one by one (:meth:`Run.node`), also its ``log``, output ``sample`` (first rows per
    table port) and ``report`` (reports, fitted transforms, metrics)."""

    node_id: str
    operator: str
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    rows_in: int | None = None
    rows_out: int | None = None
    rows_out_ports: dict[str, int] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None
    cache_key: str | None = None
    log: str | None = None
    sample: dict[str, list[dict[str, Any]]] | None = None
    report: dict[str, Any] | None = None

    def rows(self, port: str = "out") -> builtins.list[dict[str, Any]]:
        """The output sample of one port (read the node with :meth:`Run.node` first)."""
        return list((self.sample or {}).get(port, []))


class Run(Model):
    """A pipeline run (a ``pipeline.run`` job). Bound to a client it waits, reads its nodes and cancels."""

    id: str
    workspace_id: str
    pipeline_id: str
    pipeline: str = ""
    version: int
    mode: str
    sample_rows: int | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    from_node: str | None = None
    status: str
    job_id: str | None = None
    error: str | None = None
    outputs: list[RunOutput] = Field(default_factory=list)
    created_by: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    nodes: list[NodeRun] | None = None
    """Each node's status and counts (``None`` in listings: :meth:`refresh` reads them)."""

    _api: Pipelines | None = PrivateAttr(default=None)
    _workspace: str | None = PrivateAttr(default=None)

    def bind(self, api: Pipelines, workspace: str) -> Run:
        """Attach the client's pipelines API (done for you by every SDK call that returns a run)."""
        self._api, self._workspace = api, workspace
        return self

    def _bound(self) -> tuple[Pipelines, str]:
        if self._api is None or self._workspace is None:
            raise RuntimeError("this Run is not bound to a client; get it through client.pipelines")
        return self._api, self._workspace

    @property
    def finished(self) -> bool:
        """Whether the run ended (succeeded, failed or cancelled)."""
        return self.status in FINISHED

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    def node_counts(self) -> dict[str, int]:
        """How many nodes are in each status."""
        counts: dict[str, int] = {}
        for n in self.nodes or []:
            counts[n.status] = counts.get(n.status, 0) + 1
        return counts

    def summary(self) -> str:
        """The nodes' statuses in one line: ``"3 succeeded, 1 failed (scale: ...), 2 skipped"``."""
        order = ["succeeded", "cached", "running", "pending", "failed", "skipped"]
        counts = self.node_counts()
        parts = []
        for status in sorted(counts, key=lambda s: order.index(s) if s in order else len(order)):
            text = f"{counts[status]} {status}"
            if status == "failed":
                failed = [n for n in self.nodes or [] if n.status == "failed"]
                text += " (" + "; ".join(f"{n.node_id}: {n.error}" for n in failed) + ")"
            parts.append(text)
        return ", ".join(parts) or self.status

    def failed_nodes(self) -> builtins.list[NodeRun]:
        """The nodes that failed (with their errors)."""
        return [n for n in self.nodes or [] if n.status == "failed"]

    def refresh(self) -> Run:
        """The run as the server has it now, with its nodes."""
        api, ws = self._bound()
        return api.get_run(self.pipeline_id, self.id, workspace=ws)

    def wait(
        self,
        *,
        timeout: float | None = None,
        progress: RunProgress | None = None,
        poll: float = 0.3,
        check: bool = True,
    ) -> Run:
        """The run once it finished, polling every ``poll`` seconds (``progress`` hears each poll).

        ``check``: a failed or cancelled run raises :class:`PipelineRunFailed` (its ``run`` attribute
        has the nodes). Raises :class:`TimeoutError` after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        run = self if self.nodes is not None else self.refresh()
        while True:
            if progress is not None:
                progress(run)
            if run.finished:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"Pipeline run {self.id} is still {run.status} after {timeout:g} s.")
            time.sleep(poll)
            run = run.refresh()
        if check and not run.succeeded:
            raise PipelineRunFailed.of(run)
        return run

    def node(self, node_id: str) -> NodeRun:
        """One node with its log, output sample and report."""
        api, ws = self._bound()
        return api.node(self.pipeline_id, self.id, node_id, workspace=ws)

    def logs(self, node_id: str) -> str:
        """One node's log."""
        return self.node(node_id).log or ""

    def cancel(self) -> Run:
        """Cancel the run (a running one is stopped)."""
        api, ws = self._bound()
        return api.cancel(self.pipeline_id, self.id, workspace=ws)


class ApplyResult(Model):
    """What applying a pipeline did: ``created``, ``configured`` (a new version or description) or
    ``unchanged``."""

    action: Literal["created", "configured", "unchanged"]
    pipeline: Pipeline


class NodeSide(Model):
    status: str
    duration_s: float | None = None
    rows_in: int | None = None
    rows_out: int | None = None


class ParamDiff(Model):
    field: str
    a: Any = None
    b: Any = None


class NodeComparison(Model):
    """One node in two runs (``None``: not in that run's version), and its params that changed."""

    node_id: str
    operator: str | None = None
    a: NodeSide | None = None
    b: NodeSide | None = None
    params: list[ParamDiff] = Field(default_factory=list)


class RunComparison(Model):
    """Two runs of a pipeline side by side."""

    a: Run
    b: Run
    nodes: list[NodeComparison] = Field(default_factory=list)


class Pipeline(Model):
    """A pipeline: its name, current version and (read one by one) current graph. Bound to a client
    it saves, validates, runs and exports itself."""

    id: str
    workspace_id: str
    name: str
    description: str = ""
    current_version: int = 1
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    last_run: RunSummary | None = None
    graph: PipelineGraph | None = None
    """The current version's graph (``None`` in listings: :meth:`refresh` reads it)."""

    _api: Pipelines | None = PrivateAttr(default=None)
    _workspace: str | None = PrivateAttr(default=None)

    def bind(self, api: Pipelines, workspace: str) -> Pipeline:
        """Attach the client's pipelines API (done for you by every SDK call that returns a pipeline)."""
        self._api, self._workspace = api, workspace
        return self

    def _bound(self) -> tuple[Pipelines, str]:
        if self._api is None or self._workspace is None:
            raise RuntimeError("this Pipeline is not bound to a client; get it through client.pipelines")
        return self._api, self._workspace

    def refresh(self) -> Pipeline:
        """The pipeline as the server has it now (with its graph)."""
        api, ws = self._bound()
        return api.get(self.name, workspace=ws)

    def builder(self) -> PipelineBuilder:
        """A builder holding the current graph, to change and :meth:`PipelineBuilder.save` again."""
        api, ws = self._bound()
        graph = self.graph if self.graph is not None else self.refresh().graph
        return PipelineBuilder(self.name, api=api, workspace=ws, graph=graph)

    def save(
        self, graph: PipelineGraph | PipelineBuilder | Mapping[str, Any], *, message: str = ""
    ) -> Pipeline:
        """Save a new graph (a new version if it changed) and return the pipeline."""
        api, ws = self._bound()
        api.save(self.name, graph, message=message, workspace=ws)
        return api.get(self.name, workspace=ws)

    def versions(self) -> builtins.list[PipelineVersion]:
        api, ws = self._bound()
        return api.versions(self.name, workspace=ws)

    def validate(self, *, version: int | None = None) -> Validation:  # type: ignore[override]
        api, ws = self._bound()
        return api.validate(self.name, version=version, workspace=ws)

    def run(
        self,
        *,
        mode: Literal["full", "debug"] = "full",
        sample_rows: int | None = None,
        sample_method: Literal["first", "random"] | None = None,
        variables: Mapping[str, str] | None = None,
        from_node: str | None = None,
        version: int | None = None,
        wait: bool = True,
        timeout: float | None = None,
        progress: RunProgress | None = None,
        check: bool = True,
    ) -> Run:
        """Run it (see :meth:`Pipelines.run`)."""
        api, ws = self._bound()
        return api.run(
            self.name,
            mode=mode,
            sample_rows=sample_rows,
            sample_method=sample_method,
            variables=variables,
            from_node=from_node,
            version=version,
            wait=wait,
            timeout=timeout,
            progress=progress,
            check=check,
            workspace=ws,
        )

    def debug(self, sample_rows: int = 1000, **kwargs: Any) -> Run:
        """A debug run on the first ``sample_rows`` rows of each source (see :meth:`run`)."""
        return self.run(mode="debug", sample_rows=sample_rows, **kwargs)

    def runs(self, *, status: str | None = None, limit: int | None = None) -> Iterator[Run]:
        api, ws = self._bound()
        return api.runs(self.name, status=status, limit=limit, workspace=ws)

    def get_run(self, run_id: str) -> Run:
        api, ws = self._bound()
        return api.get_run(self.name, run_id, workspace=ws)

    def export(self, *, version: int | None = None) -> str:
        """The pipeline as a YAML manifest (``kind: Pipeline``) for ``dais apply -f``."""
        api, ws = self._bound()
        return api.export(self.name, version=version, workspace=ws)

    def delete(self) -> None:
        api, ws = self._bound()
        api.delete(self.name, workspace=ws)


# -- the builder -------------------------------------------------------------------------------------

_NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class Output:
    """One output port of a step (``step.port("train")``); ``then`` feeds it into a new step."""

    def __init__(self, step: Step, port: str) -> None:
        self.step, self.name = step, port

    def then(
        self,
        operator: str,
        *,
        id: str | None = None,
        port: str = "in",
        params: Mapping[str, Any] | None = None,
        operator_version: int | None = None,
        **kwargs: Any,
    ) -> Step:
        """A new node of ``operator`` (params as keywords, or ``params=`` for names that clash) whose
        input ``port`` reads this output."""
        step = self.step.builder.node(
            operator, id=id, params=params, operator_version=operator_version, **kwargs
        )
        self.step.builder.connect(self, step, port)
        return step

    def into(self, target: Step, port: str = "in") -> Step:
        """Feed this output into input ``port`` of an existing step; returns that step."""
        self.step.builder.connect(self, target, port)
        return target

    def __repr__(self) -> str:
        return f"<Output {self.step.id}.{self.name}>"


class Step:
    """A node being built: its operator, params and id (auto-named after the operator)."""

    def __init__(
        self,
        builder: PipelineBuilder,
        node_id: str,
        operator: str,
        params: dict[str, Any],
        *,
        operator_version: int | None = None,
        label: str | None = None,
        position: Position | None = None,
    ) -> None:
        self.builder = builder
        self.id = node_id
        self.operator = operator
        self.params = params
        self.operator_version = operator_version
        self.label = label
        self.position = position

    @property
    def out(self) -> Output:
        """The default output port, ``out``."""
        return Output(self, "out")

    def port(self, name: str) -> Output:
        """An output port by name: ``split.port("train")``."""
        return Output(self, name)

    def then(
        self,
        operator: str,
        *,
        id: str | None = None,
        port: str = "in",
        params: Mapping[str, Any] | None = None,
        operator_version: int | None = None,
        **kwargs: Any,
    ) -> Step:
        """A new node of ``operator`` fed by this step's ``out`` port (into its input ``port``)."""
        return self.out.then(
            operator, id=id, port=port, params=params, operator_version=operator_version, **kwargs
        )

    def into(self, target: Step, port: str = "in") -> Step:
        """Feed this step's ``out`` into input ``port`` of an existing step; returns that step."""
        return self.out.into(target, port)

    def set(self, **params: Any) -> Step:
        """Change params (``None`` removes one)."""
        for key, value in params.items():
            if value is None:
                self.params.pop(key, None)
            else:
                self.params[key] = value
        return self

    def rename(self, node_id: str) -> Step:
        """Give the node another id (its edges follow)."""
        self.builder._rename(self, node_id)
        return self

    def __repr__(self) -> str:
        return f"<Step {self.id} ({self.operator})>"


def _input_port(index: int) -> str:
    """The name of the ``index``-th input: ``in``, ``in2``, ``in3`` (the built-in operators' names)."""
    return "in" if index == 0 else f"in{index + 1}"


class PipelineBuilder:
    """Build a pipeline's graph step by step, then :meth:`save` it (a new version if it changed).

    Node ids default to the operator's id (``scale``, then ``scale_2``...); edges go from ``out`` to
    ``in`` unless a port is named. Nodes are laid out left to right by depth for the canvas.
    """

    def __init__(
        self,
        name: str,
        *,
        api: Pipelines | None = None,
        workspace: str | None = None,
        description: str | None = None,
        graph: PipelineGraph | None = None,
    ) -> None:
        self.name = name
        self.description = description
        self._api = api
        self._workspace = workspace
        self._steps: dict[str, Step] = {}
        self._edges: list[tuple[Step, str, Step, str]] = []
        self._variables: dict[str, PipelineVariable] = {}
        if graph is not None:
            self._load(graph)

    def _load(self, graph: PipelineGraph) -> None:
        for n in graph.nodes:
            self._steps[n.id] = Step(
                self,
                n.id,
                n.operator,
                dict(n.params),
                operator_version=n.version,
                label=n.label,
                position=n.position,
            )
        for e in graph.edges:
            src, dst = self._steps.get(e.source), self._steps.get(e.target)
            if src is None or dst is None:
                raise InvalidInput(f"Edge {e.source} -> {e.target} names an unknown node.")
            self._edges.append((src, e.source_port, dst, e.target_port))
        for v in graph.variables:
            self._variables[v.name] = v

    # -- building ------------------------------------------------------------------------------------

    def _free_id(self, operator: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", operator).strip("_-")[:56] or "node"
        if not base[0].isalnum():
            base = f"n{base}"
        candidate, n = base, 1
        while candidate in self._steps:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    def node(
        self,
        operator: str,
        *inputs: Step | Output,
        id: str | None = None,
        params: Mapping[str, Any] | None = None,
        operator_version: int | None = None,
        label: str | None = None,
        **kwargs: Any,
    ) -> Step:
        """A node of ``operator``; ``inputs`` (steps or ports) feed its inputs ``in``, ``in2``, ``in3``
        in order. Params as keywords, or in ``params`` for names that clash with these arguments."""
        node_id = id or self._free_id(operator)
        if not _NODE_ID.match(node_id):
            raise InvalidInput(f"{node_id!r} is not a node id: letters, digits, _ and -, at most 64.")
        if node_id in self._steps:
            raise InvalidInput(f"There already is a node {node_id!r} in this pipeline.")
        step = Step(
            self,
            node_id,
            operator,
            {**dict(params or {}), **kwargs},
            operator_version=operator_version,
            label=label,
        )
        self._steps[node_id] = step
        for i, source in enumerate(inputs):
            self.connect(source, step, _input_port(i))
        return step

    def source(
        self,
        dataset: str,
        *,
        id: str | None = None,
        version: int | None = None,
        partitions: Sequence[str] | str | None = None,
    ) -> Step:
        """A ``source`` node reading ``dataset`` (its ``version``; latest when the run starts if unset),
        optionally some ``partitions`` (a list, or an expression such as ``"dt=${ds}"``)."""
        params: dict[str, Any] = {"dataset": dataset}
        if version is not None:
            params["version"] = version
        if partitions is not None:
            params["partitions"] = partitions if isinstance(partitions, str) else list(partitions)
        return self.node("source", id=id, params=params)

    def connect(self, source: Step | Output, target: Step, port: str = "in") -> None:
        """An edge from ``source`` (a step's ``out``, or a named output) to input ``port`` of ``target``."""
        out = source if isinstance(source, Output) else source.out
        for step in (out.step, target):
            if self._steps.get(step.id) is not step:
                raise InvalidInput(f"Node {step.id!r} belongs to another pipeline builder.")
        self._edges.append((out.step, out.name, target, port))

    def variable(
        self, name: str, default: str | None = None, description: str | None = None
    ) -> PipelineBuilder:
        """Declare a ``${name}`` variable with a default (runs may give another value)."""
        self._variables[name] = PipelineVariable(name=name, default=default, description=description)
        return self

    def step(self, node_id: str) -> Step:
        """A step by node id (of a builder loaded from a saved pipeline, say)."""
        try:
            return self._steps[node_id]
        except KeyError:
            raise NotFound(f"No node {node_id!r} in this pipeline builder.") from None

    __getitem__ = step

    @property
    def steps(self) -> builtins.list[Step]:
        return list(self._steps.values())

    def remove(self, node_id: str) -> None:
        """Remove a node and its edges."""
        step = self.step(node_id)
        del self._steps[node_id]
        self._edges = [e for e in self._edges if e[0] is not step and e[2] is not step]

    def _rename(self, step: Step, node_id: str) -> None:
        if not _NODE_ID.match(node_id):
            raise InvalidInput(f"{node_id!r} is not a node id: letters, digits, _ and -, at most 64.")
        if node_id in self._steps and self._steps[node_id] is not step:
            raise InvalidInput(f"There already is a node {node_id!r} in this pipeline.")
        del self._steps[step.id]
        step.id = node_id
        self._steps[node_id] = step

    # -- the result ----------------------------------------------------------------------------------

    def _layout(self) -> dict[str, Position]:
        """Left to right by depth (longest path from a node without inputs), top to bottom in order."""
        parents: dict[str, list[str]] = {s: [] for s in self._steps}
        for src, _, dst, _ in self._edges:
            parents[dst.id].append(src.id)
        depth: dict[str, int] = {}

        def depth_of(node: str, seen: frozenset[str]) -> int:
            if node not in depth:
                ups = [p for p in parents[node] if p not in seen]
                depth[node] = 1 + max((depth_of(p, seen | {node}) for p in ups), default=-1)
            return depth[node]

        rows: dict[int, int] = {}
        out = {}
        for node in self._steps:
            d = depth_of(node, frozenset())
            out[node] = Position(x=d * 260.0, y=rows.get(d, 0) * 140.0)
            rows[d] = rows.get(d, 0) + 1
        return out

    def graph(self) -> PipelineGraph:
        """The graph built so far."""
        layout = self._layout()
        nodes = [
            GraphNode(
                id=s.id,
                operator=s.operator,
                version=s.operator_version,
                params=dict(s.params),
                label=s.label,
                position=s.position or layout[s.id],
            )
            for s in self._steps.values()
        ]
        edges = [
            GraphEdge(source=src.id, source_port=sp, target=dst.id, target_port=tp)
            for src, sp, dst, tp in self._edges
        ]
        return PipelineGraph(nodes=nodes, edges=edges, variables=list(self._variables.values()))

    def _bound(self) -> tuple[Pipelines, str | None]:
        if self._api is None:
            raise RuntimeError("this builder is not bound to a client; make it with client.pipelines.builder")
        return self._api, self._workspace

    def validate(self) -> Validation:
        """Check the graph against the workspace's datasets, saving nothing."""
        api, ws = self._bound()
        return api.validate(self.graph(), workspace=ws)

    def save(self, *, message: str = "") -> Pipeline:
        """Create the pipeline, or save this graph as its new version if it changed (drafts may be
        invalid: :meth:`validate` or a run checks them)."""
        api, ws = self._bound()
        graph = self.graph()
        try:
            current = api.get(self.name, workspace=ws)
        except NotFound:
            return api.create(
                self.name, graph=graph, description=self.description or "", message=message, workspace=ws
            )
        api.save(self.name, graph, message=message, workspace=ws)
        if self.description is not None and self.description != current.description:
            return api.update(self.name, description=self.description, workspace=ws)
        return api.get(self.name, workspace=ws)

    def to_yaml(self) -> str:
        """The graph as YAML (the ``spec.graph`` of a manifest)."""
        import yaml

        return str(yaml.safe_dump(self.graph().to_dict(), sort_keys=False, allow_unicode=True))

    def __repr__(self) -> str:
        return f"<PipelineBuilder {self.name}: {len(self._steps)} nodes, {len(self._edges)} edges>"


# -- the resource ------------------------------------------------------------------------------------


class Pipelines(WorkspaceResource):
    """Build, save, validate, run, follow and export pipelines; and the operator palette."""

    def __init__(self, transport: Transport, default_workspace: Callable[[], str | None]) -> None:
        super().__init__(transport, default_workspace)
        self._operators: builtins.list[Operator] | None = None

    def _call(self, r: Any, **kwargs: Any) -> Any:
        try:
            return self._t.call(r, **kwargs)
        except DaisError as exc:
            raise _pipeline_error(exc) from None

    def _path(self, workspace: str | None, pipeline: str | None = None, **more: str) -> dict[str, str]:
        path = {"workspace": self._ws(workspace), **more}
        if pipeline is not None:
            path["pipeline"] = pipeline
        return path

    # -- operators -----------------------------------------------------------------------------------

    def operators(self, *, family: str | None = None, refresh: bool = False) -> builtins.list[Operator]:
        """Every operator (sorted by family and id), or those of one ``family``."""
        if self._operators is None or refresh:
            self._operators = [Operator.model_validate(o) for o in self._call(OPERATORS).json()]
        return [o for o in self._operators if family is None or o.family == family]

    def operator(self, operator_id: str) -> Operator:
        """One operator by id."""
        for op in self.operators():
            if op.id == operator_id:
                return op
        raise NotFound(f"No operator {operator_id!r} (see client.pipelines.operators()).")

    # -- pipelines -----------------------------------------------------------------------------------

    def builder(
        self, name: str, *, description: str | None = None, workspace: str | None = None
    ) -> PipelineBuilder:
        """A new, empty builder for pipeline ``name`` (saved with :meth:`PipelineBuilder.save`)."""
        return PipelineBuilder(name, api=self, workspace=workspace, description=description)

    def list(
        self, *, q: str | None = None, limit: int | None = None, workspace: str | None = None
    ) -> Iterator[Pipeline]:
        """The workspace's pipelines with their last run (``q``: part of the name or description)."""
        ws = self._ws(workspace)
        try:
            for item in self._t.pages(LIST, path={"workspace": ws}, params={"q": q}, limit=limit):
                yield Pipeline.model_validate(item).bind(self, ws)
        except DaisError as exc:
            raise _pipeline_error(exc) from None

    def get(self, name: str, *, workspace: str | None = None) -> Pipeline:
        """One pipeline by name (or id), with its current graph."""
        ws = self._ws(workspace)
        body = self._call(GET, path=self._path(ws, name)).json()
        return Pipeline.model_validate(body).bind(self, ws)

    def create(
        self,
        name: str,
        *,
        graph: PipelineGraph | PipelineBuilder | Mapping[str, Any] | None = None,
        description: str = "",
        message: str = "",
        workspace: str | None = None,
    ) -> Pipeline:
        """A new pipeline; its graph (empty if not given) is version 1."""
        ws = self._ws(workspace)
        body = {
            "name": name,
            "description": description,
            "graph": _graph_body(graph) if graph is not None else {},
            "message": message,
        }
        return Pipeline.model_validate(self._call(CREATE, path=self._path(ws), json=body).json()).bind(
            self, ws
        )

    def update(
        self,
        name: str,
        *,
        new_name: str | None = None,
        description: str | None = None,
        workspace: str | None = None,
    ) -> Pipeline:
        """Rename a pipeline or change its description (a graph changes with :meth:`save`)."""
        ws = self._ws(workspace)
        body: dict[str, Any] = {}
        if new_name is not None:
            body["name"] = new_name
        if description is not None:
            body["description"] = description
        return Pipeline.model_validate(self._call(UPDATE, path=self._path(ws, name), json=body).json()).bind(
            self, ws
        )

    def delete(self, name: str, *, workspace: str | None = None) -> None:
        """Delete a pipeline with its versions, runs and cache (datasets its runs wrote stay)."""
        self._call(DELETE, path=self._path(workspace, name))

    def save(
        self,
        name: str,
        graph: PipelineGraph | PipelineBuilder | Mapping[str, Any],
        *,
        message: str = "",
        workspace: str | None = None,
    ) -> PipelineVersion:
        """Save ``graph`` as a new version (or get the current one back if nothing changed)."""
        body = {"graph": _graph_body(graph), "message": message}
        return PipelineVersion.model_validate(
            self._call(SAVE, path=self._path(workspace, name), json=body).json()
        )

    def versions(self, name: str, *, workspace: str | None = None) -> builtins.list[PipelineVersion]:
        """Every version, newest first (without their graphs: :meth:`version` reads one)."""
        try:
            return [
                PipelineVersion.model_validate(v)
                for v in self._t.pages(VERSIONS, path=self._path(workspace, name))
            ]
        except DaisError as exc:
            raise _pipeline_error(exc) from None

    def version(self, name: str, number: int, *, workspace: str | None = None) -> PipelineVersion:
        """One version with its graph."""
        path = self._path(workspace, name, number=str(number))
        return PipelineVersion.model_validate(self._call(VERSION, path=path).json())

    def validate(
        self,
        pipeline: str | PipelineGraph | PipelineBuilder | Mapping[str, Any],
        *,
        version: int | None = None,
        workspace: str | None = None,
    ) -> Validation:
        """Check a saved pipeline (by name; its current ``version`` if unset) or an unsaved graph
        against the workspace's datasets: errors per node and field, and each node's output schemas.
        Never raises for a mistake in the graph: call :meth:`Validation.raise_for_errors` for that."""
        if isinstance(pipeline, str):
            reply = self._call(VALIDATE, path=self._path(workspace, pipeline), params={"version": version})
        else:
            reply = self._call(
                VALIDATE_GRAPH, path=self._path(workspace), json={"graph": _graph_body(pipeline)}
            )
        return Validation.model_validate(reply.json())

    def export(self, name: str, *, version: int | None = None, workspace: str | None = None) -> str:
        """The pipeline as a YAML manifest (``kind: Pipeline``) that ``dais apply -f`` reads back."""
        return str(self._call(EXPORT, path=self._path(workspace, name), params={"version": version}).text)

    def apply(
        self,
        name: str,
        *,
        graph: PipelineGraph | PipelineBuilder | Mapping[str, Any],
        description: str = "",
        message: str = "",
        workspace: str | None = None,
    ) -> ApplyResult:
        """Create pipeline ``name`` or make it match: a new version only if the graph changed."""
        ws = self._ws(workspace)
        body = {"description": description, "graph": _graph_body(graph), "message": message}
        result = ApplyResult.model_validate(self._call(APPLY, path=self._path(ws, name), json=body).json())
        result.pipeline.bind(self, ws)
        return result

    # -- runs ----------------------------------------------------------------------------------------

    def run(
        self,
        name: str,
        *,
        mode: Literal["full", "debug"] = "full",
        sample_rows: int | None = None,
        sample_method: Literal["first", "random"] | None = None,
        variables: Mapping[str, str] | None = None,
        from_node: str | None = None,
        version: int | None = None,
        wait: bool = True,
        timeout: float | None = None,
        progress: RunProgress | None = None,
        check: bool = True,
        workspace: str | None = None,
    ) -> Run:
        """Run a pipeline: ``full``, or ``debug`` on the first (or ``random``) ``sample_rows`` rows of
        each source (sinks write nothing in debug). ``variables`` give ``${name}`` values;
        ``from_node`` runs that node and its downstream again, reusing cached upstream outputs.

        The server validates first: an invalid pipeline raises :class:`PipelineInvalid` (``issues``
        name node and field) and starts nothing. ``wait`` (default): wait for the run to finish
        (``progress`` hears every poll) and return it with its nodes; ``check``: a failed run raises
        :class:`PipelineRunFailed`. ``wait=False``: the queued run at once.
        """
        ws = self._ws(workspace)
        body: dict[str, Any] = {"mode": mode, "variables": dict(variables or {})}
        for key, value in (
            ("sample_rows", sample_rows),
            ("sample_method", sample_method),
            ("from_node", from_node),
            ("version", version),
        ):
            if value is not None:
                body[key] = value
        run = Run.model_validate(self._call(SUBMIT, path=self._path(ws, name), json=body).json()).bind(
            self, ws
        )
        if not wait:
            return run
        return run.wait(timeout=timeout, progress=progress, check=check)

    def runs(
        self,
        name: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        workspace: str | None = None,
    ) -> Iterator[Run]:
        """The pipeline's runs, newest first (without their nodes: :meth:`get_run` reads one)."""
        ws = self._ws(workspace)
        try:
            for item in self._t.pages(
                RUNS, path=self._path(ws, name), params={"status": status}, limit=limit
            ):
                yield Run.model_validate(item).bind(self, ws)
        except DaisError as exc:
            raise _pipeline_error(exc) from None

    def get_run(self, name: str, run_id: str, *, workspace: str | None = None) -> Run:
        """One run of pipeline ``name`` with each node's status, timing and row counts."""
        ws = self._ws(workspace)
        body = self._call(RUN, path=self._path(ws, name, run=run_id)).json()
        return Run.model_validate(body).bind(self, ws)

    def latest_run(self, name: str, *, workspace: str | None = None) -> Run:
        """The pipeline's newest run, with its nodes."""
        ws = self._ws(workspace)
        newest = next(iter(self.runs(name, limit=1, workspace=ws)), None)
        if newest is None:
            raise NotFound(f"Pipeline {name!r} has not run yet.")
        return self.get_run(name, newest.id, workspace=ws)

    def node(self, name: str, run_id: str, node_id: str, *, workspace: str | None = None) -> NodeRun:
        """One node of a run with its log, output sample (first rows per port) and report."""
        path = self._path(workspace, name, run=run_id, node=node_id)
        return NodeRun.model_validate(self._call(NODE, path=path).json())

    def logs(self, name: str, run_id: str, node_id: str, *, workspace: str | None = None) -> str:
        """One node's log in a run."""
        return self.node(name, run_id, node_id, workspace=workspace).log or ""

    def cancel(self, name: str, run_id: str, *, workspace: str | None = None) -> Run:
        """Cancel a run (a running one is stopped); 409 if it already finished."""
        ws = self._ws(workspace)
        body = self._call(CANCEL, path=self._path(ws, name, run=run_id)).json()
        return Run.model_validate(body).bind(self, ws)

    def compare(self, name: str, a: str, b: str, *, workspace: str | None = None) -> RunComparison:
        """Two runs side by side: per node status, duration and rows, and the params that changed."""
        ws = self._ws(workspace)
        body = self._call(COMPARE, path=self._path(ws, name), params={"a": a, "b": b}).json()
        found = RunComparison.model_validate(body)
        found.a.bind(self, ws)
        found.b.bind(self, ws)
        return found

    def schedule(
        self,
        name: str,
        schedule: str,
        *,
        cron: str | None = None,
        interval_s: float | None = None,
        timezone: str = "UTC",
        mode: Literal["full", "debug"] = "full",
        variables: Mapping[str, str] | None = None,
        version: int | None = None,
        description: str = "",
        catchup: Literal["skip", "all"] = "skip",
        paused: bool = False,
        workspace: str | None = None,
    ) -> Schedule:
        """A schedule (named ``schedule``) that runs the pipeline on ``cron`` (or every ``interval_s``).

        ``variables`` may use the schedule's logical date: ``{"ds": "${ds}"}``, ``"${ds-1d}"``.
        ``version``: always this one (default: whatever is current when it fires). Failure alerts
        are the job system's (``dais notify``).
        """
        run: dict[str, Any] = {"mode": mode, "variables": dict(variables or {})}
        if version is not None:
            run["version"] = version
        body: dict[str, Any] = {
            "name": schedule,
            "description": description,
            "cron": cron,
            "interval_s": interval_s,
            "timezone": timezone,
            "catchup": catchup,
            "paused": paused,
            "run": run,
        }
        return Schedule.model_validate(
            self._call(SCHEDULE, path=self._path(workspace, name), json=body).json()
        )


ApplyResult.model_rebuild()
RunComparison.model_rebuild()
