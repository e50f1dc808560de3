"""The ``Pipeline`` manifest kind: a pipeline's graph as YAML.

``dais pipelines export NAME`` (and ``dais export``) write it; ``dais apply -f`` creates the pipeline,
or saves the graph as a new version only when it changed (the description is updated in place).
Applying the same file twice changes nothing::

    apiVersion: dais/v1
    kind: Pipeline
    metadata: {workspace: team, name: churn-features}
    spec:
      description: Features for the churn model
      message: what this version changes      # optional, kept with a new version
      graph:
        nodes:
        - {id: source, operator: source, params: {dataset: customers}}
        - {id: scale, operator: scale, params: {method: standard, columns: [age, income]}}
        edges:
        - {source: source, target: scale}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field

from dais.cli.manifests.base import Change, Manifest
from dais.cli.manifests.tenancy import InWorkspaceMeta, _parse
from dais.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from dais.client import Client
    from dais.client.pipelines import PipelineGraph


class PipelineSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    message: str = ""
    graph: dict[str, Any] = Field(default_factory=dict)


class PipelineKind:
    """A pipeline: ``metadata.workspace`` and ``metadata.name``; ``spec`` has its description and graph
    (nodes, edges, variables), and optionally the ``message`` of the version it makes."""

    kind: ClassVar[str] = "Pipeline"
    order: ClassVar[int] = 60
    """After datasets: a pipeline reads them."""

    def export(self, client: Client, workspace: str) -> list[Manifest]:
        out = []
        for p in sorted(client.pipelines.list(workspace=workspace), key=lambda p: p.name):
            doc = yaml.safe_load(client.pipelines.export(p.name, workspace=workspace))
            out.append(Manifest(self.kind, dict(doc["metadata"]), dict(doc["spec"])))
        return out

    def apply(self, client: Client, manifest: Manifest, *, dry_run: bool = False) -> Change:
        from dais.client.pipelines import PipelineGraph

        meta = _parse(InWorkspaceMeta, manifest.metadata, "Pipeline metadata")
        if not meta.name:
            raise InvalidInput("Pipeline metadata needs name.")
        workspace, name = meta.workspace, meta.name
        label = f"{workspace}/{name}"
        spec = _parse(PipelineSpec, manifest.spec, f"Pipeline {label} spec")
        graph = _parse(PipelineGraph, spec.graph, f"Pipeline {label} spec.graph")
        if dry_run:
            return self._plan(client, workspace, name, label, spec, graph)
        result = client.pipelines.apply(
            name, graph=graph, description=spec.description, message=spec.message, workspace=workspace
        )
        p = result.pipeline
        nodes = len(p.graph.nodes) if p.graph else 0
        if result.action == "created":
            return Change(self.kind, label, "created", [f"{nodes} nodes"])
        if result.action == "configured":
            return Change(self.kind, label, "configured", [f"version {p.current_version}"])
        return Change(self.kind, label, "unchanged")

    def _plan(
        self, client: Client, workspace: str, name: str, label: str, spec: PipelineSpec, graph: PipelineGraph
    ) -> Change:
        """What applying would do, changing nothing."""
        try:
            current = client.pipelines.get(name, workspace=workspace)
        except NotFound:
            return Change(self.kind, label, "created", [f"{len(graph.nodes)} nodes"])
        details = []
        if current.graph is None or current.graph.to_dict() != graph.to_dict():
            details.append(f"a new version {current.current_version + 1}")
        if current.description != spec.description:
            details.append(f"description: {current.description!r} -> {spec.description!r}")
        return Change(self.kind, label, "configured" if details else "unchanged", details)
