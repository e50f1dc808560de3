"""Chains of fitted transforms: what a pipeline learned, applied again in batch or online.

A :class:`TransformChain` is plain JSON (a list of :class:`FittedTransform`, in the order the pipeline
applied them) that travels inside a model package. :meth:`TransformChain.apply_expr` applies it to an
Ibis table (batch scoring on any engine); :meth:`TransformChain.apply_arrays` applies it to NumPy
columns (one request's rows, online serving). Each step runs the operator's own two executions, which
the conformance suite (``tests/contracts/test_operators.py``) proves equal.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from dais.core.errors import InvalidInput
from dais.pipelines.operators.base import FittedTransform, FittingOperator, operators

if TYPE_CHECKING:
    import ibis
    import numpy as np

    from dais.pipelines.graph import PipelineGraph
    from dais.pipelines.runner import RunResult


def fitting_operator(fitted: FittedTransform) -> FittingOperator:
    """The operator that executes ``fitted`` (its id and version must be known here)."""
    registry = operators()
    if fitted.operator not in registry:
        raise InvalidInput(f"Unknown operator {fitted.operator!r} in a fitted transform.")
    op = registry.get(fitted.operator)()
    if not isinstance(op, FittingOperator):
        raise InvalidInput(f"The operator {fitted.operator!r} is not a fitting operator.")
    if op.version != fitted.version:
        raise InvalidInput(
            f"The transform was fitted by {fitted.operator!r} version {fitted.version}; this server has "
            f"version {op.version}."
        )
    return op


class TransformChain(BaseModel):
    """Fitted transforms in application order."""

    transforms: list[FittedTransform] = Field(default_factory=list)

    def apply_expr(self, table: ibis.Table) -> ibis.Table:
        """Batch: the chain as one Ibis expression over ``table``."""
        for fitted in self.transforms:
            table = fitting_operator(fitted).transform_expr(fitted, table)
        return table

    def apply_arrays(self, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Online: the chain on NumPy column arrays (see the operators' NumPy conventions)."""
        for fitted in self.transforms:
            columns = fitting_operator(fitted).transform_arrays(fitted, columns)
        return columns

    @property
    def input_columns(self) -> list[str]:
        """The columns the first steps read that no earlier step produced."""
        produced: set[str] = set()
        needed: list[str] = []
        for fitted in self.transforms:
            for name in fitted.input_columns:
                if name not in produced and name not in needed:
                    needed.append(name)
            produced.update(fitted.output_columns)
        return needed

    def dumps(self) -> str:
        return json.dumps(self.model_dump(mode="json"))

    @classmethod
    def loads(cls, text: str | bytes) -> TransformChain:
        return cls.model_validate(json.loads(text))


def chain_for(graph: PipelineGraph, result: RunResult, node_id: str) -> TransformChain:
    """The transforms fitted upstream of ``node_id`` (itself included), along its main inputs, in the
    order they were applied: what serving must apply to rows shaped like the pipeline's input."""
    feeding: dict[str, str] = {}
    for edge in graph.edges:
        if edge.target_port == "in":
            feeding[edge.target] = edge.source
    path: list[str] = []
    current: str | None = node_id
    seen: set[str] = set()
    while current is not None and current not in seen:
        seen.add(current)
        path.append(current)
        current = feeding.get(current)
    transforms: list[FittedTransform] = [
        result.transforms[n] for n in reversed(path) if n in result.transforms
    ]
    return TransformChain(transforms=transforms)


def chain_from_json(value: Any) -> TransformChain:
    return TransformChain.model_validate(value)
