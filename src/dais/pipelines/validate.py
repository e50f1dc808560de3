"""Whole-pipeline validation before any run.

:func:`validate_graph` checks, and reports against the node and field at fault: duplicate node ids,
edges to unknown nodes or ports, port type mismatches, two edges into one input, unconnected required
inputs, cycles, unknown operators and versions, params (pydantic errors as field paths), column pickers
(``x-dais-columns``: unknown column, wrong type group) against the inferred input schemas, and the
operators' own :class:`ParamError` from ``infer``; schemas propagate in topological order, and a node
whose inputs are unknown is not checked further (no cascade of errors). :func:`check_graph` raises
:class:`PipelineInvalid` (422, ``errors=[{loc: ["nodes", id, "params", "columns", "2"], msg, code}]``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from dais.core.errors import DaisError, PipelineInvalid
from dais.pipelines.graph import Node, PipelineGraph
from dais.pipelines.operators.base import Operator, ParamError, PortType, TableSchema, operators

if TYPE_CHECKING:
    from dais.pipelines.datasets import DatasetResolver


@dataclass(frozen=True)
class Issue:
    """One problem: on node ``node_id`` (None: the graph), in ``part`` ("params", "operator",
    "version", "inputs", "outputs", "id", "graph") at ``field`` (a dotted path, e.g. ``columns.2``)."""

    node_id: str | None
    part: str
    field: str | None
    message: str
    code: str

    @property
    def loc(self) -> list[str]:
        base = ["nodes", self.node_id] if self.node_id is not None else ["graph"]
        tail = [self.part] if self.part != "graph" else []
        return [*base, *tail, *(self.field.split(".") if self.field else [])]

    def as_error(self) -> dict[str, Any]:
        return {"loc": self.loc, "msg": self.message, "code": self.code}


@dataclass
class Validation:
    """What validation found: issues, each node's output schemas, and an execution order."""

    issues: list[Issue] = field(default_factory=list)
    node_schemas: dict[str, dict[str, TableSchema | None]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    operators: dict[str, Operator] = field(default_factory=dict)
    params: dict[str, BaseModel] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.issues

    def raise_for_issues(self) -> None:
        if self.issues:
            first = self.issues[0]
            where = f"node {first.node_id!r}" if first.node_id else "the pipeline"
            more = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
            raise PipelineInvalid(
                f"The pipeline is invalid: {where}: {first.message}{more}",
                errors=[i.as_error() for i in self.issues],
            )


def check_graph(graph: PipelineGraph, *, resolver: DatasetResolver | None = None) -> Validation:
    """:func:`validate_graph`, raising :class:`PipelineInvalid` if anything is wrong."""
    result = validate_graph(graph, resolver=resolver)
    result.raise_for_issues()
    return result


@contextlib.contextmanager
def _schemas_from(resolver: DatasetResolver | None) -> Iterator[None]:
    if resolver is None:
        yield
        return
    from dais.pipelines.operators.io import resolving_schemas

    with resolving_schemas(resolver.schema):
        yield


def validate_graph(graph: PipelineGraph, *, resolver: DatasetResolver | None = None) -> Validation:
    """Every problem of ``graph`` (see the module docstring); never raises for a user mistake."""
    v = Validation()
    issues = v.issues
    nodes: dict[str, Node] = {}
    for node in graph.nodes:
        if node.id in nodes:
            issues.append(Issue(node.id, "id", None, f"Two nodes have the id {node.id!r}.", "duplicate_node"))
        nodes[node.id] = node
    _load_operators(v, nodes)

    incoming: dict[str, dict[str, tuple[str, str]]] = {n: {} for n in nodes}
    children: dict[str, set[str]] = {n: set() for n in nodes}
    for i, edge in enumerate(graph.edges):
        missing = [n for n in (edge.source, edge.target) if n not in nodes]
        if missing:
            issues.append(
                Issue(
                    None,
                    "graph",
                    f"edges.{i}",
                    f"Edge {i} links an unknown node {missing[0]!r}.",
                    "unknown_node",
                )
            )
            continue
        src_op, dst_op = v.operators.get(edge.source), v.operators.get(edge.target)
        if src_op is None or dst_op is None:  # an unknown operator, reported already
            incoming[edge.target].setdefault(edge.target_port, (edge.source, edge.source_port))
            children[edge.source].add(edge.target)
            continue
        out_port = next((p for p in src_op.outputs if p.name == edge.source_port), None)
        in_port = next((p for p in dst_op.inputs if p.name == edge.target_port), None)
        if out_port is None:
            names = ", ".join(p.name for p in src_op.outputs) or "none"
            issues.append(
                Issue(
                    edge.source,
                    "outputs",
                    edge.source_port,
                    f"{src_op.id!r} has no output {edge.source_port!r} (outputs: {names}).",
                    "unknown_port",
                )
            )
            continue
        if in_port is None:
            names = ", ".join(p.name for p in dst_op.inputs) or "none"
            issues.append(
                Issue(
                    edge.target,
                    "inputs",
                    edge.target_port,
                    f"{dst_op.id!r} has no input {edge.target_port!r} (inputs: {names}).",
                    "unknown_port",
                )
            )
            continue
        if out_port.type != in_port.type:
            issues.append(
                Issue(
                    edge.target,
                    "inputs",
                    edge.target_port,
                    f"Input {edge.target_port!r} takes a {in_port.type.value}, but {edge.source!r}."
                    f"{edge.source_port} gives a {out_port.type.value}.",
                    "port_type_mismatch",
                )
            )
            continue
        if edge.target_port in incoming[edge.target]:
            issues.append(
                Issue(
                    edge.target,
                    "inputs",
                    edge.target_port,
                    f"Input {edge.target_port!r} has more than one incoming edge.",
                    "duplicate_input",
                )
            )
            continue
        incoming[edge.target][edge.target_port] = (edge.source, edge.source_port)
        children[edge.source].add(edge.target)

    for node_id, op in v.operators.items():
        for port in op.inputs:
            if port.required and port.name not in incoming[node_id]:
                issues.append(
                    Issue(
                        node_id, "inputs", port.name, f"Input {port.name!r} is not connected.", "unconnected"
                    )
                )

    v.order, cyclic = _topological(list(nodes), incoming, children)
    for node_id in cyclic:
        issues.append(Issue(node_id, "graph", None, "This node is part of a cycle.", "cycle"))

    with _schemas_from(resolver):
        for node_id in v.order:
            _infer_node(v, node_id, incoming[node_id])
    return v


def _load_operators(v: Validation, nodes: dict[str, Node]) -> None:
    registry = operators()
    for node_id, node in nodes.items():
        if node.operator not in registry:
            known = ", ".join(registry.names())
            v.issues.append(
                Issue(
                    node_id,
                    "operator",
                    None,
                    f"Unknown operator {node.operator!r} (known: {known}).",
                    "unknown_operator",
                )
            )
            continue
        try:
            op = registry.get(node.operator)()
        except DaisError as exc:
            v.issues.append(Issue(node_id, "operator", None, exc.detail, "operator_broken"))
            continue
        if node.version is not None and node.version != op.version:
            v.issues.append(
                Issue(
                    node_id,
                    "version",
                    None,
                    f"{op.id!r} has no version {node.version} (current: {op.version}).",
                    "unknown_version",
                )
            )
            continue
        # Known even with bad params: its edges still count, so downstream nodes are not reported
        # as unconnected because of this node's mistake.
        v.operators[node_id] = op
        try:
            v.params[node_id] = op.Params.model_validate(node.params)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"]) or None
                v.issues.append(Issue(node_id, "params", path, err["msg"], "param_invalid"))


def _topological(
    ids: list[str], incoming: dict[str, dict[str, tuple[str, str]]], children: dict[str, set[str]]
) -> tuple[list[str], list[str]]:
    """Kahn's algorithm, stable in the nodes' listed order; also the nodes left in cycles."""
    indegree = {n: len({src for src, _ in incoming[n].values()}) for n in ids}
    ready = [n for n in ids if indegree[n] == 0]
    order: list[str] = []
    position = {n: i for i, n in enumerate(ids)}
    while ready:
        ready.sort(key=position.__getitem__)
        node = ready.pop(0)
        order.append(node)
        for child in sorted(children[node], key=position.__getitem__):
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    cyclic = [n for n in ids if n not in set(order)]
    return order, cyclic


def _infer_node(v: Validation, node_id: str, inputs: dict[str, tuple[str, str]]) -> None:
    op, params = v.operators.get(node_id), v.params.get(node_id)
    if op is None or params is None:
        return
    schemas: dict[str, TableSchema] = {}
    for port in op.inputs:
        if port.name not in inputs:
            if port.required:
                return  # reported as unconnected already
            continue
        src, src_port = inputs[port.name]
        if src not in v.node_schemas:
            return  # an upstream node is invalid: do not pile errors on this one
        if port.type is PortType.table:
            schema = v.node_schemas[src].get(src_port)
            if schema is None:
                return
            schemas[port.name] = schema
    found = check_column_pickers(node_id, op, params, schemas)
    if found:
        v.issues.extend(found)
        return
    try:
        out = op.infer(params, schemas)
    except ParamError as exc:
        v.issues.append(Issue(node_id, "params", exc.field or None, exc.message, "param_invalid"))
        return
    except DaisError as exc:
        v.issues.append(Issue(node_id, "params", None, exc.detail, "schema_error"))
        return
    except Exception as exc:  # an operator bug must not turn a user's check into a 500
        v.issues.append(
            Issue(
                node_id,
                "graph",
                None,
                f"Schema inference failed: {type(exc).__name__}: {exc}",
                "infer_failed",
            )
        )
        return
    v.node_schemas[node_id] = {p.name: out.get(p.name) for p in op.outputs}


_GROUPS: dict[str, Any] | None = None


def _group_check(dtype: str, group: str) -> bool:
    from dais.pipelines.operators._common import dtype_in_group

    try:
        return dtype_in_group(dtype, group)
    except KeyError:
        return True


def column_pickers(params_model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """The params fields that pick columns: ``{field: {port, types, multiple}}``."""
    found: dict[str, dict[str, Any]] = {}
    for name, info in params_model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and isinstance(extra.get("x-dais-columns"), dict):
            found[name] = dict(extra["x-dais-columns"])  # type: ignore[arg-type]
    return found


def check_column_pickers(
    node_id: str, op: Operator, params: BaseModel, schemas: dict[str, TableSchema]
) -> list[Issue]:
    """Issues for picked columns that the input port does not have, or of the wrong type group."""
    issues: list[Issue] = []
    for name, spec in column_pickers(type(params)).items():
        value = getattr(params, name, None)
        schema = schemas.get(str(spec.get("port", "in")))
        if value is None or schema is None:
            continue
        picked: list[tuple[str, Any]]
        if isinstance(value, list):
            picked = [(f"{name}.{i}", v) for i, v in enumerate(value)]
        else:
            picked = [(name, value)]
        types = [str(t) for t in spec.get("types", ["any"])]
        for where, column in picked:
            if not isinstance(column, str):
                continue
            col = schema.get(column)
            if col is None:
                if not schema.open:
                    known = ", ".join(schema.names()) or "none"
                    issues.append(
                        Issue(
                            node_id,
                            "params",
                            where,
                            f"Unknown column {column!r} (columns: {known}).",
                            "unknown_column",
                        )
                    )
                continue
            if not any(_group_check(col.dtype, t) for t in types):
                issues.append(
                    Issue(
                        node_id,
                        "params",
                        where,
                        f"Column {column!r} is {col.dtype}; this field takes {' or '.join(types)} columns.",
                        "wrong_column_type",
                    )
                )
    return issues
