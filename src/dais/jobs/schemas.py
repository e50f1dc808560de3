"""The jobs API contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dais.jobs.states import JobState

NodeName = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Unique within the DAG.")


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpus: float = Field(default=1.0, gt=0, le=1024, description="CPU cores.")
    memory_mb: int = Field(default=512, ge=16, le=16 * 1024 * 1024, description="Memory in MB.")
    gpus: int = Field(default=0, ge=0, le=64, description="Whole GPUs.")
    labels: dict[str, str] = Field(default_factory=dict, description="Worker labels the job needs.")


class JobSubmit(BaseModel):
    """A job to run: a kind, its spec, and how to run it."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64)
    spec: dict[str, Any] = Field(default_factory=dict)
    name: str | None = Field(default=None, max_length=128)
    priority: int = Field(default=0, ge=-100, le=100)
    resources: Resources = Field(default_factory=Resources)
    max_attempts: int = Field(default=1, ge=1, le=100)
    backoff_s: float = Field(default=10.0, ge=0, le=86_400)
    timeout_s: float | None = Field(default=None, gt=0, le=30 * 86_400)
    depends_on: list[str] = Field(
        default_factory=list, max_length=100, description="Ids of jobs that must succeed first."
    )


class JobBatchSubmit(BaseModel):
    """Independent jobs submitted together: all are queued, or none (a parameter sweep, trials)."""

    model_config = ConfigDict(extra="forbid")

    jobs: list[JobSubmit] = Field(min_length=1, max_length=1000)


class DagNode(JobSubmit):
    node: str = NodeName
    after: list[str] = Field(default_factory=list, description="Nodes of this DAG that must succeed first.")


class DagSubmit(BaseModel):
    """A group of jobs with dependencies between them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="dag", max_length=128)
    nodes: list[DagNode] = Field(min_length=1, max_length=500)


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    worker_id: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    error: str | None


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str
    owner_id: str | None
    name: str
    kind: str
    spec: dict[str, Any]
    priority: int
    cpus: float
    memory_mb: int
    gpus: int
    labels: dict[str, Any]
    state: JobState
    wait_reason: str | None
    attempt: int
    max_attempts: int
    timeout_s: float | None
    dag_id: str | None
    dag_node: str | None
    dag_name: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    result: dict[str, Any] | None
    error: str | None
    progress: float | None
    progress_message: str | None
    cancel_requested: bool
    lease_owner: str | None
    gpu_ids: list[Any] | None
    created_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class JobDetail(JobRead):
    attempts: list[AttemptRead] = Field(default_factory=list)


class JobPage(BaseModel):
    items: list[JobRead]
    next_cursor: str | None


class JobBatchRead(BaseModel):
    """The submitted jobs, in the order they were given."""

    items: list[JobRead]


class DagRead(BaseModel):
    dag_id: str
    name: str
    jobs: list[JobRead]
    edges: list[tuple[str, str]] = Field(description="(upstream job id, downstream job id) pairs.")


class WorkerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    host: str
    pid: int
    executor: str
    cpus: float
    memory_mb: int
    gpu_ids: list[Any]
    labels: dict[str, Any]
    slots: int
    state: str
    started_at: datetime
    heartbeat_at: datetime
    alive: bool = False
    running: list[str] = Field(default_factory=list, description="Ids of the jobs it runs now.")
    used_cpus: float = 0
    used_memory_mb: int = 0
    used_gpus: int = 0


class KindRead(BaseModel):
    name: str
    description: str
    spec_schema: dict[str, Any]
    error: str | None = None


class ScheduleTemplate(BaseModel):
    """What a schedule submits: one job or one DAG, with ``${variables}`` left in its strings."""

    model_config = ConfigDict(extra="forbid")

    job: JobSubmit | None = None
    dag: DagSubmit | None = None


class ScheduleFields(BaseModel):
    description: str = Field(default="", max_length=4000)
    cron: str | None = Field(default=None, max_length=128, description="A cron expression, e.g. `0 3 * * *`.")
    interval_s: float | None = Field(default=None, ge=1, le=366 * 86_400, description="Or: every N seconds.")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone the cron is read in.")
    variables: dict[str, str] = Field(
        default_factory=dict, description="Extra ${variables} for the template."
    )
    catchup: Literal["skip", "all"] = Field(
        default="skip", description="After downtime: `skip` runs only the latest missed run, `all` runs each."
    )
    paused: bool = False


class ScheduleCreate(ScheduleFields):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    template: ScheduleTemplate
    start_at: datetime | None = Field(default=None, description="First run not before this (default: now).")


class ScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=4000)
    cron: str | None = Field(default=None, max_length=128)
    interval_s: float | None = Field(default=None, ge=1, le=366 * 86_400)
    timezone: str | None = Field(default=None, max_length=64)
    variables: dict[str, str] | None = None
    catchup: Literal["skip", "all"] | None = None
    template: ScheduleTemplate | None = None


class ScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str
    owner_id: str | None
    name: str
    description: str
    cron: str | None
    interval_s: float | None
    timezone: str
    template: dict[str, Any]
    variables: dict[str, Any]
    catchup: str
    paused: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_error: str | None
    created_at: datetime
    next_runs: list[datetime] = Field(default_factory=list, description="The next few run times.")


class SchedulePage(BaseModel):
    items: list[ScheduleRead]
    next_cursor: str | None


class ScheduleRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    schedule_id: str
    logical_date: datetime
    fired_at: datetime
    job_id: str | None
    dag_id: str | None
    error: str | None


class ScheduleRunPage(BaseModel):
    items: list[ScheduleRunRead]
    next_cursor: str | None
