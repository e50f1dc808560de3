"""A validated pipeline as an execution plan: topological order, each node's inputs and consumers,
and its cache key.

A node's cache key is the SHA-256 of: the operator id and version, the validated params (as JSON), the
keys of the nodes feeding it (with their ports), the version keys of the datasets it reads (a source's
"latest" is pinned when the plan is made), the values of the ``${variables}`` its params use, the run's
seed, and the run's mode (a debug run on a sample never shares outputs with a full run). Two runs that
agree on all of these compute the same output, so the second can reuse the first's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dais.pipelines.graph import Node, PipelineGraph
from dais.pipelines.operators.base import FittingOperator, Operator, PortType

if TYPE_CHECKING:
    from dais.pipelines.datasets import DatasetResolver
    from dais.pipelines.validate import Validation

_VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class NodePlan:
    node: Node
    op: Operator
    params: BaseModel
    #: input port -> (source node id, source port)
    inputs: dict[str, tuple[str, str]]
    #: output port -> [(consumer node id, consumer port)]
    consumers: dict[str, list[tuple[str, str]]]
    key: str = ""
    variables_used: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.node.id

    @property
    def is_sink(self) -> bool:
        return not self.op.outputs and bool(self.op.inputs)

    @property
    def is_source(self) -> bool:
        return not self.op.inputs

    def table_outputs(self) -> list[str]:
        return [p.name for p in self.op.outputs if p.type is PortType.table]

    def uses(self, port: str, plans: Mapping[str, NodePlan]) -> int:
        """How many times consumers read output ``port`` (a fitting consumer reads it twice)."""
        total = 0
        for consumer, _ in self.consumers.get(port, []):
            total += 2 if isinstance(plans[consumer].op, FittingOperator) else 1
        return total


@dataclass
class Plan:
    order: list[str]
    nodes: dict[str, NodePlan]
    variables: dict[str, str]

    def downstream(self, node_id: str) -> set[str]:
        """``node_id`` and every node that depends on it."""
        seen = {node_id}
        stack = [node_id]
        while stack:
            for consumers in self.nodes[stack.pop()].consumers.values():
                for child, _ in consumers:
                    if child not in seen:
                        seen.add(child)
                        stack.append(child)
        return seen

    def upstream(self, node_ids: set[str]) -> set[str]:
        """Every node that the given nodes depend on (not the nodes themselves)."""
        seen: set[str] = set()
        stack = list(node_ids)
        while stack:
            for src, _ in self.nodes[stack.pop()].inputs.values():
                if src not in seen:
                    seen.add(src)
                    stack.append(src)
        return seen - node_ids


def variables_in(value: Any) -> set[str]:
    """The ``${names}`` used in a JSON-like value."""
    return set(_VARIABLE.findall(json.dumps(value)))


def run_variables(graph: PipelineGraph, given: Mapping[str, str] | None) -> dict[str, str]:
    """The graph's variable defaults overridden by the run's values."""
    values = {v.name: v.default for v in graph.variables if v.default is not None}
    values.update({k: str(v) for k, v in (given or {}).items()})
    return values


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def plan_graph(
    graph: PipelineGraph,
    validation: Validation,
    *,
    resolver: DatasetResolver | None,
    variables: Mapping[str, str],
    seed: int = 0,
    mode_key: str = "full",
) -> Plan:
    """The plan of a graph that passed validation (``validation.ok``)."""
    plans: dict[str, NodePlan] = {}
    for node_id in validation.order:
        node = graph.node(node_id)
        assert node is not None
        plans[node_id] = NodePlan(
            node=node,
            op=validation.operators[node_id],
            params=validation.params[node_id],
            inputs={},
            consumers={p.name: [] for p in validation.operators[node_id].outputs},
        )
    for edge in graph.edges:
        plans[edge.target].inputs[edge.target_port] = (edge.source, edge.source_port)
        plans[edge.source].consumers.setdefault(edge.source_port, []).append((edge.target, edge.target_port))
    for node_id in validation.order:
        p = plans[node_id]
        params_json = p.params.model_dump(mode="json")
        p.variables_used = sorted(variables_in(params_json))
        data: str | None = None
        dataset = getattr(p.params, "dataset", None)
        if p.is_source and resolver is not None and isinstance(dataset, str):
            data = resolver.version_key(dataset, getattr(p.params, "version", None))
        p.key = _digest(
            {
                "operator": p.op.id,
                "version": p.op.version,
                "params": params_json,
                "inputs": {port: [plans[src].key, sp] for port, (src, sp) in sorted(p.inputs.items())},
                "data": data,
                "variables": {name: variables.get(name) for name in p.variables_used},
                "seed": seed,
                "mode": mode_key,
            }
        )
    return Plan(order=list(validation.order), nodes=plans, variables=dict(variables))
