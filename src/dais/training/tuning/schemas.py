"""The tuning API contract: studies over a preset's params or a script's declared space, auto models
(several presets under one time budget), their trials, optimisation history, parameter importance
and leaderboard."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dais.jobs.schemas import Resources
from dais.training.data import TransformsRef
from dais.training.schemas import TrainingScript
from dais.training.splits import Split

GridValue = str | int | float | bool | None


class FloatParam(BaseModel):
    """A float drawn from ``[low, high]``: log-uniformly when ``log``, on a ``step`` grid when given."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["float"]
    low: float
    high: float
    log: bool = False
    step: float | None = Field(default=None, gt=0)


class IntParam(BaseModel):
    """An integer drawn from ``[low, high]`` in steps of ``step`` (log-uniformly when ``log``)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["int"]
    low: int
    high: int
    log: bool = False
    step: int = Field(default=1, ge=1)


class CategoricalParam(BaseModel):
    """One of ``choices``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["categorical"]
    choices: list[GridValue] = Field(min_length=1, max_length=1000)


ParamSpace = Annotated[FloatParam | IntParam | CategoricalParam, Field(discriminator="type")]
SearchSpaceIn = dict[str, ParamSpace]


class PrunerIn(BaseModel):
    """Median pruning: a running trial whose best intermediate value is worse than the median of the
    finished trials' values at the same step is stopped (its job cancelled)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["none", "median"] = "none"
    metric: str | None = Field(
        default=None,
        max_length=250,
        description="The per-step metric judged (default: the trial's first validation loss, e.g. "
        "valid_logloss).",
    )
    direction: Literal["minimize", "maximize"] = Field(
        default="minimize", description="Which way the per-step metric improves."
    )
    n_startup_trials: int = Field(default=5, ge=0, le=1000, description="Finished trials before any pruning.")
    n_warmup_steps: int = Field(default=0, ge=0, le=1_000_000, description="Steps a trial runs unpruned.")
    n_min_trials: int = Field(default=1, ge=1, le=1000, description="Finished trials needed at a step.")


class TrialJob(BaseModel):
    """How each trial's job runs."""

    model_config = ConfigDict(extra="forbid")

    resources: Resources = Field(default_factory=Resources)
    timeout_s: float | None = Field(default=None, gt=0, le=30 * 86_400)
    priority: int = Field(default=0, ge=-100, le=100)


class _Budget(BaseModel):
    max_trials: int | None = Field(default=None, ge=1, le=10_000, description="Most trials to run.")
    max_wall_time_s: float | None = Field(
        default=None, gt=0, le=30 * 86_400, description="Most seconds the study runs (from its start)."
    )
    concurrency: int = Field(default=1, ge=1, le=64, description="Trials running at once.")


class StudyCreate(_Budget):
    """A study over a preset's params (``algorithm`` + data) or a custom ``script``'s declared ``space``."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", description="Unique in the workspace."
    )
    experiment: str | None = Field(
        default=None, max_length=500, description="Experiment id or name (created if new; default: the name)."
    )
    metric: str | None = Field(
        default=None, max_length=250, description="The objective (default: accuracy, rmse or silhouette)."
    )
    direction: Literal["minimize", "maximize"] | None = Field(
        default=None, description="Default: known from the metric (a script's must be given)."
    )
    sampler: Literal["random", "grid", "tpe"] = "tpe"
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1, description="Seed of the sampler.")
    pruner: PrunerIn = Field(default_factory=PrunerIn)
    space: SearchSpaceIn | None = Field(
        default=None, max_length=200, description="Params to search (default: the preset's own space)."
    )
    enqueue: list[dict[str, Any]] = Field(
        default_factory=list, max_length=100, description="Param sets tried first, in order."
    )
    # a preset
    algorithm: str | None = Field(default=None, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, description="Fixed params of every trial.")
    dataset: str | None = Field(default=None, max_length=64)
    version: int | None = Field(default=None, ge=1)
    transforms: TransformsRef | None = None
    target: str | None = Field(default=None, max_length=256)
    features: list[str] | None = Field(default=None, max_length=10_000)
    split: Split | None = None
    train_seed: int = Field(default=42, ge=0, le=2**31 - 1, description="Seed of each trial's fit.")
    # custom training
    script: TrainingScript | None = None
    # trials and promotion
    trial_job: TrialJob = Field(default_factory=TrialJob)
    promote_to: str | None = Field(
        default=None, min_length=1, max_length=256, description="Register the best trial's model here."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> StudyCreate:
        if (self.algorithm is None) == (self.script is None):
            raise ValueError("give exactly one of `algorithm` (a preset) and `script` (your own code)")
        if self.algorithm is not None and not self.dataset:
            raise ValueError("a preset study needs a `dataset`")
        if self.script is not None and not self.space:
            raise ValueError("a script study needs the `space` it searches")
        if self.script is not None and self.promote_to:
            raise ValueError("`promote_to` needs a preset study (a script's model is its own)")
        return self


class AutoModelCreate(_Budget):
    """Try a task's presets, each with its own search space, under a time budget; rank them."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    experiment: str | None = Field(default=None, max_length=500)
    task: Literal["classification", "regression", "clustering"]
    dataset: str = Field(min_length=1, max_length=64)
    version: int | None = Field(default=None, ge=1)
    transforms: TransformsRef | None = None
    target: str | None = Field(default=None, max_length=256)
    features: list[str] | None = Field(default=None, max_length=10_000)
    split: Split | None = None
    max_wall_time_s: float = Field(gt=0, le=30 * 86_400, description="The time budget in seconds.")
    metric: str | None = Field(default=None, max_length=250)
    direction: Literal["minimize", "maximize"] | None = None
    sampler: Literal["random", "tpe"] = "tpe"
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    algorithms: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Presets to try (default: the task's, no torch).",
    )
    train_seed: int = Field(default=42, ge=0, le=2**31 - 1)
    trial_job: TrialJob = Field(default_factory=TrialJob)
    promote_to: str | None = Field(default=None, min_length=1, max_length=256)


class StudyPromote(BaseModel):
    """Register a trial's model (default: the best trial's) as a new version of ``name``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256, description="The registered model.")
    trial: int | None = Field(default=None, ge=0, description="A trial number (default: the best).")


class Promoted(BaseModel):
    name: str
    version: int
    trial: int
    run_id: str


class TrialRead(BaseModel):
    """One trial: its params, state, objective value, run and job."""

    number: int
    state: str = Field(description="running, complete, pruned or failed.")
    algorithm: str | None = None
    params: dict[str, Any] = Field(
        description="The trial's params (an auto model's without the preset prefix)."
    )
    value: float | None
    intermediate: dict[str, float] = Field(description="The pruning metric at rising steps.")
    run_id: str | None
    job_id: str | None
    error: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None


class StudyRead(BaseModel):
    """A study in a listing."""

    id: str
    name: str
    kind: str = Field(description="preset, auto or script.")
    algorithm: str | None
    dataset: str | None
    experiment_id: str
    parent_run_id: str | None
    metric: str
    direction: str
    sampler: str
    pruner: dict[str, Any]
    max_trials: int | None
    max_wall_time_s: float | None
    concurrency: int
    state: str = Field(description="queued, running, completed, stopped or failed.")
    stop_requested: bool
    error: str | None
    trials: dict[str, int] = Field(description="Trials per state.")
    best_trial: int | None
    best_value: float | None
    promote_to: str | None
    promoted: Promoted | None
    coordinator_job_id: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None


class StudyPage(BaseModel):
    items: list[StudyRead]
    next_cursor: str | None


class HistoryPoint(BaseModel):
    """A finished trial on the optimisation history chart."""

    number: int
    state: str
    value: float | None
    best: float | None = Field(description="The best value up to and including this trial.")
    ended_at: datetime | None


class LeaderboardRow(BaseModel):
    """A complete trial ranked by the objective."""

    rank: int
    number: int
    algorithm: str | None
    params: dict[str, Any]
    value: float
    metrics: dict[str, float] = Field(description="The trial run's final metrics.")
    run_id: str | None
    duration_s: float | None


class StudyDetail(StudyRead):
    """A study with its search space, trials, history, parameter importance and leaderboard."""

    space: dict[str, Any]
    base_spec: dict[str, Any]
    trial_list: list[TrialRead]
    history: list[HistoryPoint]
    importance: dict[str, float] = Field(description="fANOVA importance of each param (complete trials).")
    importance_note: str | None = Field(description="Why importance is empty, when it is.")
    leaderboard: list[LeaderboardRow]


class StudyCreated(BaseModel):
    """The study, its coordinator job and its parent run."""

    id: str
    name: str
    state: str
    experiment_id: str
    parent_run_id: str
    coordinator_job_id: str
    max_trials: int | None
