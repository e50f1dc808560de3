"""The pipelines API contract: operators, pipelines and versions, validation, runs and node runs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dais.jobs.schemas import ScheduleFields
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.operators.base import TableSchema

#: Pipeline names: unique in the workspace, a slug.
NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


class PipelineRunStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


FINISHED_RUNS = frozenset(
    {PipelineRunStatus.succeeded, PipelineRunStatus.failed, PipelineRunStatus.cancelled}
)


# -- operators ---------------------------------------------------------------------------------------


class PortRead(BaseModel):
    name: str
    type: str = Field(description="table, transform, model, metrics or report.")
    required: bool
    description: str


class OperatorRead(BaseModel):
    """An operator of the palette: its ports and the JSON schema of its params (drives the form;
    column pickers carry ``x-dais-columns: {port, types, multiple}``)."""

    id: str
    version: int
    family: str
    title: str
    description: str
    inputs: list[PortRead]
    outputs: list[PortRead]
    params_schema: dict[str, Any]
    error: str | None = Field(default=None, description="Why the operator plugin failed to load.")


# -- pipelines and versions --------------------------------------------------------------------------


class PipelineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, description="Unique in the workspace: a-z, 0-9, _ . -")
    description: str = Field(default="", max_length=4000)
    graph: PipelineGraph = Field(default_factory=PipelineGraph)
    message: str = Field(default="", max_length=1000, description="What this version changes.")


class PipelineUpdate(BaseModel):
    """Rename or describe a pipeline (its graph changes with a new version)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=NAME)
    description: str | None = Field(default=None, max_length=4000)


class PipelineSave(BaseModel):
    """A new graph: a new version if it differs from the current one."""

    model_config = ConfigDict(extra="forbid")

    graph: PipelineGraph
    message: str = Field(default="", max_length=1000)


class PipelineApply(BaseModel):
    """A pipeline as a manifest declares it (``PUT``): created, or updated to match."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(default="", max_length=4000)
    graph: PipelineGraph = Field(default_factory=PipelineGraph)
    message: str = Field(default="", max_length=1000)


class PipelineRead(BaseModel):
    id: str
    workspace_id: str
    name: str
    description: str
    current_version: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    last_run: PipelineRunSummary | None = None


class PipelineDetail(PipelineRead):
    graph: PipelineGraph = Field(description="The current version's graph.")


class PipelinePage(BaseModel):
    items: list[PipelineRead]
    next_cursor: str | None


class PipelineApplyResult(BaseModel):
    action: Literal["created", "configured", "unchanged"]
    pipeline: PipelineDetail


class PipelineVersionSummary(BaseModel):
    number: int
    message: str
    nodes: int
    created_by: str | None
    created_at: datetime


class PipelineVersionRead(PipelineVersionSummary):
    graph: PipelineGraph


class PipelineVersionPage(BaseModel):
    items: list[PipelineVersionSummary]
    next_cursor: str | None


# -- validation --------------------------------------------------------------------------------------


class PipelineValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    graph: PipelineGraph


class PipelineIssue(BaseModel):
    """One problem, on a node (``node_id``; null: the graph) and a field of it."""

    node_id: str | None
    part: str = Field(description="params, operator, version, inputs, outputs, id or graph.")
    field: str | None = Field(description="A dotted path in the part, e.g. `columns.2`.")
    message: str
    code: str
    loc: list[str] = Field(description='As in 422 replies: ["nodes", node_id, part, *field].')


class PipelineValidation(BaseModel):
    valid: bool
    errors: list[PipelineIssue]
    schemas: dict[str, dict[str, TableSchema | None]] = Field(
        description="Each node's output schemas by port (null: not a table, or unknown)."
    )


# -- runs --------------------------------------------------------------------------------------------


class PipelineRunCreate(BaseModel):
    """How to run: full, or debug on a sample of each source; optionally again from one node."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["full", "debug"] = "full"
    sample_rows: int = Field(default=1000, ge=1, le=1_000_000, description="Debug: rows per source.")
    sample_method: Literal["first", "random"] = "first"
    variables: dict[str, str] = Field(default_factory=dict, description="Values of ${variables}.")
    from_node: str | None = Field(
        default=None, max_length=64, description="Run this node and its downstream; upstream from cache."
    )
    version: int | None = Field(default=None, ge=1, description="The pipeline version (current if unset).")


class PipelineRunSummary(BaseModel):
    id: str
    status: PipelineRunStatus
    mode: str
    version: int
    created_at: datetime
    finished_at: datetime | None


class PipelineRunOutput(BaseModel):
    node_id: str
    dataset: str
    dataset_id: str
    version: int
    rows: int | None = None


class PipelineRunRead(BaseModel):
    id: str
    workspace_id: str
    pipeline_id: str
    pipeline: str
    version: int
    mode: str
    sample_rows: int | None
    variables: dict[str, Any]
    from_node: str | None
    status: PipelineRunStatus
    job_id: str | None
    error: str | None
    outputs: list[PipelineRunOutput]
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None = None


class NodeRunSummary(BaseModel):
    node_id: str
    operator: str
    status: str = Field(description="pending, running, succeeded, failed, skipped or cached.")
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    rows_in: int | None
    rows_out: int | None
    rows_out_ports: dict[str, int]
    error: str | None
    error_code: str | None
    cache_key: str | None


class NodeRunRead(NodeRunSummary):
    log: str
    sample: dict[str, list[dict[str, Any]]] = Field(description="Table output port -> its first rows.")
    report: dict[str, Any] = Field(description="Non-table outputs (reports, fitted transforms, metrics).")


class PipelineRunDetail(PipelineRunRead):
    nodes: list[NodeRunSummary]


class PipelineRunPage(BaseModel):
    items: list[PipelineRunRead]
    next_cursor: str | None


class NodeRunSide(BaseModel):
    status: str
    duration_s: float | None
    rows_in: int | None
    rows_out: int | None


class ParamDiff(BaseModel):
    field: str
    a: Any = None
    b: Any = None


class NodeRunCompare(BaseModel):
    node_id: str
    operator: str | None
    a: NodeRunSide | None = Field(description="Null: the node is not in run a's version.")
    b: NodeRunSide | None
    params: list[ParamDiff] = Field(description="Params that differ between the two versions.")


class PipelineRunCompare(BaseModel):
    a: PipelineRunRead
    b: PipelineRunRead
    nodes: list[NodeRunCompare]


class PipelineScheduleCreate(ScheduleFields):
    """A schedule that runs this pipeline (a ``pipeline.run`` job); ``run.variables`` may use ``${ds}``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    run: PipelineRunCreate = Field(default_factory=PipelineRunCreate)
    start_at: datetime | None = None


PipelineRead.model_rebuild()
