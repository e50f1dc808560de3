"""The native tracking API contract (``/api/v1``): experiments, run search with chosen columns, run
detail, metric history for charts, artifacts, evaluation data and run comparison.

Times are epoch milliseconds, as MLflow keeps them. Experiment ids are numeric strings (MLflow's).
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Most runs one compare, history or search request may name.
MAX_COMPARE_RUNS = 50
MAX_HISTORY_RUNS = 50
MAX_HISTORY_KEYS = 20
MAX_COLUMNS = 100
DEFAULT_MAX_POINTS = 1000
MAX_POINTS = 10_000

#: The tag MLflow keeps descriptions (notes) of experiments and runs in.
NOTE_TAG = "mlflow.note.content"


class View(enum.StrEnum):
    """Which lifecycle stages a listing shows."""

    active = "active"
    deleted = "deleted"
    all = "all"


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


# -- experiments -------------------------------------------------------------------------------------


class ExperimentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=500, description="Unique in the workspace.")
    description: str = Field(default="", max_length=20000)
    tags: dict[str, str] = Field(default_factory=dict, description="Experiment tags (key -> value).")


class ExperimentUpdate(BaseModel):
    """Rename an experiment, change its description, or set tags (a tag set to ``null`` is removed)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20000)
    tags: dict[str, str | None] = Field(default_factory=dict)


class ExperimentRead(BaseModel):
    id: str = Field(description="A numeric string (MLflow's experiment id).")
    name: str
    description: str = ""
    lifecycle_stage: str = Field(description="active or deleted.")
    artifact_location: str
    tags: dict[str, str] = Field(default_factory=dict)
    created_by: str | None = None
    creation_time: int
    last_update_time: int
    run_count: int = Field(default=0, description="Active runs in the experiment.")
    last_run_time: int | None = Field(default=None, description="Start time of its latest active run.")


class ExperimentPage(BaseModel):
    items: list[ExperimentRead]
    next_cursor: str | None


class ExperimentColumns(BaseModel):
    """The distinct param, metric and tag keys of an experiment's runs (for choosing table columns)."""

    experiment_id: str
    params: list[str]
    metrics: list[str]
    tags: list[str]
    tags_from_newest: int | None = Field(
        default=None,
        description="Always null: tag keys come from every run (it once named how many newest runs "
        "a large experiment's tag keys came from).",
    )


# -- run search --------------------------------------------------------------------------------------


class RunSearch(BaseModel):
    """A page of runs: MLflow's filter grammar and ``order_by``, and the param, metric and tag
    columns to return with each run."""

    model_config = ConfigDict(extra="forbid")

    experiment_ids: list[str] = Field(min_length=1, max_length=100)
    filter: str = Field(
        default="",
        max_length=10_000,
        description="MLflow's grammar: metrics.acc > 0.9 AND params.lr = '0.1' "
        "AND attributes.status = 'FINISHED'",
    )
    order_by: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="metrics.acc DESC, params.lr, attributes.start_time ... (default: newest first).",
    )
    view: View = View.active
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=4000)
    params: list[str] = Field(default_factory=list, max_length=MAX_COLUMNS)
    metrics: list[str] = Field(default_factory=list, max_length=MAX_COLUMNS)
    tags: list[str] = Field(default_factory=list, max_length=MAX_COLUMNS)
    total: bool = Field(default=True, description="Count the matching runs (``total``).")


class RunRead(BaseModel):
    """A run's own fields (MLflow's RunInfo) plus its Dais job."""

    id: str
    name: str
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    duration_ms: int | None = None
    lifecycle_stage: str
    user_id: str
    artifact_uri: str
    parent_run_id: str | None = None
    job_id: str | None = None


class RunRow(RunRead):
    """A run in a search page, with the chosen params, metrics (latest values) and tags."""

    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(
        default_factory=dict, description="Latest value of each chosen metric the run has (NaN: null)."
    )
    tags: dict[str, str] = Field(default_factory=dict)


class RunPage(BaseModel):
    items: list[RunRow]
    next_cursor: str | None
    total: int | None = Field(default=None, description="How many runs match (unless not asked for).")


# -- one run -----------------------------------------------------------------------------------------


class LatestMetric(BaseModel):
    key: str
    value: float | None = Field(description="null when the value is NaN.")
    step: int
    timestamp: int


class RunInputRead(BaseModel):
    name: str | None
    digest: str | None
    source_type: str | None
    source: str | None
    context: str | None
    tags: dict[str, Any] = Field(default_factory=dict)
    dataset_version_id: str | None = None
    model_id: str | None = None


class RunJob(BaseModel):
    """The Dais job that runs (ran) the run."""

    id: str
    name: str
    kind: str
    state: str
    attempt: int


class RunBrief(BaseModel):
    id: str
    name: str
    status: str
    start_time: int | None
    lifecycle_stage: str


class LoggedModelRead(BaseModel):
    id: str
    name: str
    status: str
    model_type: str | None = None
    artifact_location: str
    creation_timestamp: int


class RegisteredVersionRef(BaseModel):
    """A registered model version made from the run."""

    model: str
    version: int
    status: str


class RunDetail(RunRead):
    experiment_name: str
    description: str = ""
    params: dict[str, str]
    tags: dict[str, str]
    metrics: list[LatestMetric]
    inputs: list[RunInputRead]
    job: RunJob | None = None
    parent: RunBrief | None = None
    children: list[RunBrief] = Field(default_factory=list, description="The newest child runs (at most 200).")
    child_count: int = 0
    logged_models: list[LoggedModelRead] = Field(default_factory=list)
    registered_versions: list[RegisteredVersionRef] = Field(default_factory=list)
    artifact_root: str = Field(description="The workspace artifact key of the run's artifacts folder.")


class RunUpdate(BaseModel):
    """Rename a run, change its status (a finished status sets its end time) or its description."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=250)
    status: RunStatus | None = None
    description: str | None = Field(default=None, max_length=8000)


# -- metric history ----------------------------------------------------------------------------------


class MetricPointRead(BaseModel):
    step: int
    timestamp: int
    value: float | None = Field(description="null when the value is NaN.")


class MetricSeries(BaseModel):
    run_id: str
    key: str
    points: list[MetricPointRead]
    downsampled: bool = Field(description="Whether points were left out to keep at most max_points.")


class MetricHistoryRequest(BaseModel):
    """Series of several runs and keys at once, for overlaid compare charts."""

    model_config = ConfigDict(extra="forbid")

    run_ids: list[str] = Field(min_length=1, max_length=MAX_HISTORY_RUNS)
    keys: list[str] = Field(min_length=1, max_length=MAX_HISTORY_KEYS)
    max_points: int = Field(default=DEFAULT_MAX_POINTS, ge=2, le=MAX_POINTS)


class MetricHistoryBulk(BaseModel):
    series: list[MetricSeries] = Field(description="One per run and key the run has.")


# -- artifacts ---------------------------------------------------------------------------------------


class RunArtifact(BaseModel):
    path: str = Field(description="Relative to the run's artifact root.")
    is_dir: bool
    size: int | None = None
    modified: int | None = Field(default=None, description="Epoch milliseconds.")


class RunArtifactList(BaseModel):
    root: str = Field(description="The workspace artifact key of the run's artifacts folder.")
    path: str
    items: list[RunArtifact]


# -- compare -----------------------------------------------------------------------------------------


class RunsCompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_ids: list[str] = Field(min_length=2, max_length=MAX_COMPARE_RUNS)


class ParamDiff(BaseModel):
    key: str
    values: dict[str, str | None] = Field(description="Run id -> value (null: the run has no such param).")
    differs: bool


class MetricCompare(BaseModel):
    key: str
    values: dict[str, float | None] = Field(description="Run id -> latest value (null: missing or NaN).")
    differs: bool
    min: float | None = None
    max: float | None = None


class RunsComparison(BaseModel):
    runs: list[RunRead]
    params: list[ParamDiff]
    metrics: list[MetricCompare]
