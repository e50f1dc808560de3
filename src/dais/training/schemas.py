"""The training API contract: the algorithm list and launching a training run (a preset or a script)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dais.jobs.schemas import Resources
from dais.training.data import TransformsRef
from dais.training.splits import Split


class AlgorithmRead(BaseModel):
    """A preset: its task and runtime, the JSON schema of its params (the form) and its search space."""

    name: str
    title: str
    description: str
    task: str = Field(description="classification, regression, clustering or image_classification.")
    runtime: str = Field(description="What loads its models: sklearn, lightgbm, xgboost or torch.")
    params_schema: dict[str, Any]
    search_space: dict[str, Any] = Field(description="The space tuning draws params from.")
    handles_missing: bool = Field(description="Whether missing feature values are accepted as they are.")
    iterative: bool = Field(description="Whether it logs per-iteration metrics (loss curves).")
    error: str | None = Field(default=None, description="Why the algorithm plugin failed to load.")


class TrainingScript(BaseModel):
    """The user's own training code, as the ``script`` job kind takes it: exactly one of ``python``
    (a file in the working dir) and ``command``; the working dir is ``files`` (an artifact folder of
    the workspace) or ``path`` (a folder on an allowed root)."""

    model_config = ConfigDict(extra="forbid")

    python: str | None = Field(default=None, max_length=1024)
    command: list[str] | None = Field(default=None, min_length=1, max_length=1000)
    args: list[str] = Field(default_factory=list, max_length=1000)
    files: str | None = Field(default=None, max_length=1024)
    path: str | None = Field(default=None, max_length=4096)
    env: dict[str, str] = Field(default_factory=dict)


class TrainingRunCreate(BaseModel):
    """A training run: a preset ``algorithm`` on a ``dataset`` version, or a ``script``."""

    model_config = ConfigDict(extra="forbid")

    experiment: str | None = Field(
        default=None, max_length=500, description="Experiment id or name (created if new; default: Default)."
    )
    run_name: str | None = Field(default=None, max_length=250)
    tags: dict[str, str] = Field(default_factory=dict)
    # a preset
    algorithm: str | None = Field(default=None, max_length=64, description="A preset (GET /algorithms).")
    params: dict[str, Any] = Field(
        default_factory=dict, description="The preset's params (defaults fill in)."
    )
    dataset: str | None = Field(default=None, max_length=64, description="Dataset name or id.")
    version: int | None = Field(default=None, ge=1, description="Its version (current if unset).")
    transforms: TransformsRef | None = None
    target: str | None = Field(default=None, max_length=256, description="The column to predict.")
    features: list[str] | None = Field(
        default=None, max_length=10_000, description="Feature columns (default: every numeric column)."
    )
    split: Split | None = Field(default=None, description="Default: holdout 0.2 (clustering: none).")
    seed: int = Field(default=42, ge=0, le=2**31 - 1)
    register_as: str | None = Field(
        default=None, min_length=1, max_length=256, description="Register the model under this name."
    )
    model_name: str | None = Field(default=None, max_length=256, description="The logged model's name.")
    # custom training
    script: TrainingScript | None = None
    # how the job runs
    resources: Resources = Field(default_factory=Resources)
    timeout_s: float | None = Field(default=None, gt=0, le=30 * 86_400)
    max_attempts: int = Field(default=1, ge=1, le=10)
    priority: int = Field(default=0, ge=-100, le=100)

    @model_validator(mode="after")
    def _one_kind(self) -> TrainingRunCreate:
        if (self.algorithm is None) == (self.script is None):
            raise ValueError("give exactly one of `algorithm` (a preset) and `script` (your own code)")
        if self.algorithm is not None and not self.dataset:
            raise ValueError("a preset needs a `dataset`")
        return self


class TrainingRunCreated(BaseModel):
    """The run the job will log into, and the job."""

    run_id: str
    experiment_id: str
    job_id: str
    run_name: str
    status: str
