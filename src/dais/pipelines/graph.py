"""The pipeline as plain data: nodes (an operator id + version + params), edges between named ports,
and variables with defaults. Nothing here runs anything; engines compile it (see ``engines/``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NODE_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
PORT = r"^[a-z][a-z0-9_]{0,31}$"


class Position(BaseModel):
    """Where the node sits on the canvas (the UI's business; engines ignore it)."""

    x: float = 0.0
    y: float = 0.0


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=NODE_ID)
    operator: str = Field(min_length=1, max_length=100, description="An operator id, e.g. 'scale'.")
    version: int | None = Field(default=None, ge=1, description="Operator version; latest if unset.")
    params: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(default=None, max_length=200)
    position: Position = Field(default_factory=Position)


class Edge(BaseModel):
    """Output ``source_port`` of node ``source`` feeds input ``target_port`` of node ``target``."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(pattern=NODE_ID)
    source_port: str = Field(default="out", pattern=PORT)
    target: str = Field(pattern=NODE_ID)
    target_port: str = Field(default="in", pattern=PORT)


class Variable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    default: str | None = Field(default=None, max_length=10_000)
    description: str | None = Field(default=None, max_length=1000)


class PipelineGraph(BaseModel):
    """A whole pipeline: what is saved (one version per save), exported as YAML, and run."""

    model_config = ConfigDict(extra="forbid")

    nodes: list[Node] = Field(default_factory=list, max_length=500)
    edges: list[Edge] = Field(default_factory=list, max_length=2000)
    variables: list[Variable] = Field(default_factory=list, max_length=100)

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)
