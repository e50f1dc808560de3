"""Training job kinds: ``train.run`` (a preset on a dataset version) and ``train.script`` (the user's
own code, logging to a tracking run through the MLflow client).

``train.run`` is a trusted platform kind (``platform_access``): its process opens the metadata
database and the artifact store itself and logs to the tracking run directly (no HTTP): params and
tags first, per-iteration metrics in batches as the fit goes, then final metrics, ``evaluation.json``,
the model package under the run's ``model/`` artifacts, a logged model, and a model version when
``register_as`` is set. The run is marked FINISHED last. A handler that fails marks the run FAILED;
one that is killed (cancelled, timed out, its worker gone) cannot, so the worker calls
:meth:`TrainRunKind.on_finished`, which marks it KILLED or FAILED; what was logged stays.

``train.script`` runs user code like the ``script`` kind, with ``MLFLOW_TRACKING_URI``,
``MLFLOW_TRACKING_TOKEN`` (the job's own short-lived token), ``MLFLOW_RUN_ID`` and
``MLFLOW_EXPERIMENT_ID`` set, so an MLflow-instrumented script logs into the run the API created.

This module stays light: the worker's launchers import every job kind. The ML libraries are
imported by the handler (and preloaded by the "training" launcher).
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dais.jobs.kinds import AttemptEnded, JobContext, JobKind
from dais.jobs.kinds.script import ScriptKind, ScriptSpec
from dais.training.data import TransformsRef
from dais.training.splits import HoldoutSplit, NoSplit, Split

if TYPE_CHECKING:
    from dais.db import Database
    from dais.tenancy import WorkspaceAccess
    from dais.training.algorithms import MetricPoint

log = logging.getLogger(__name__)

#: Run statuses for how an attempt ended (a retried attempt sets the run RUNNING again).
_END_STATUS = {"cancelled": "KILLED", "killed": "KILLED", "failed": "FAILED", "lost": "FAILED"}


class TrainSpec(BaseModel):
    """What ``train.run`` trains (the API fills it; ``run_id`` is the run it created)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str | None = Field(default=None, max_length=32, description="The tracking run to log into.")
    experiment: str | None = Field(
        default=None, max_length=500, description="Experiment id or name (a new run only; default: Default)."
    )
    run_name: str | None = Field(default=None, max_length=250)
    dataset: str = Field(min_length=1, max_length=64, description="Dataset name or id.")
    version: int | None = Field(default=None, ge=1, description="Its version (current if unset).")
    transforms: TransformsRef | None = None
    target: str | None = Field(default=None, max_length=256)
    features: list[str] | None = Field(default=None, max_length=10_000)
    split: Split | None = Field(default=None, description="Default: holdout 0.2 (clustering: none).")
    algorithm: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(default=42, ge=0, le=2**31 - 1, description="Seed of the algorithm.")
    threads: int = Field(default=1, ge=1, le=1024, description="CPU threads the fit may use.")
    register_as: str | None = Field(default=None, min_length=1, max_length=256)
    model_name: str | None = Field(default=None, max_length=256, description="The logged model's name.")
    tags: dict[str, str] = Field(default_factory=dict)


def default_split(task: str) -> BaseModel:
    return NoSplit(kind="none") if task == "clustering" else HoldoutSplit()


class TrainRunKind(JobKind):
    """Trains a preset algorithm on a dataset version and logs everything to a tracking run."""

    name = "train.run"
    Spec = TrainSpec
    api_access = False
    platform_access = True
    preload = (
        "numpy",
        "pyarrow",
        "sklearn.linear_model",
        "sklearn.ensemble",
        "sklearn.cluster",
        "sklearn.metrics",
        "sklearn.model_selection",
        "sklearn.pipeline",
        "sklearn.preprocessing",
        "sklearn.decomposition",
        "lightgbm",
        "xgboost",
        "cloudpickle",
        "dais.training.algorithms.sklearn_presets",
        "dais.training.algorithms.boosting",
        "dais.training.evaluate",
        "dais.training.trainer",
        "dais.training.records",
        "dais.tracking.service",
        "dais.registry",
        "dais.registry.package",
        "dais.data.reader",
        "dais.data.sources",
        "dais.pipelines.workspace_data",
        "dais.pipelines.transforms",
        "dais.pipelines.engines.duckdb",
        "ibis",
        "ibis.backends.duckdb",
        "duckdb",
    )
    warm_group = "training"

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        from dais.core.settings import load_settings
        from dais.db import create_database
        from dais.training.trainer import train

        settings = load_settings()
        db = create_database(
            settings.database_url, busy_timeout_s=settings.database.sqlite_busy_timeout_s, pool_size=2
        )
        try:
            return train(ctx, spec, settings, db)
        finally:
            db.dispose()

    @classmethod
    def on_finished(cls, db: Database, ended: AttemptEnded) -> None:
        """Close the run of an attempt that could not close it itself (its metrics stay)."""
        status = _END_STATUS.get(ended.state)
        if status is not None:
            close_job_runs(db, ended.job_id, status)


def close_job_runs(db: Database, job_id: str, status: str) -> int:
    """Runs of ``job_id`` still RUNNING or SCHEDULED get ``status`` and an end time."""
    from dais.tracking.service import mark_job_runs, now_ms

    with db.session() as s:
        return mark_job_runs(s, job_id, status, now_ms())


# -- custom training: the user's script ---------------------------------------------------------------


class TrainScriptSpec(ScriptSpec):
    """A ``script`` spec, plus the tracking run the script logs into."""

    run_id: str = Field(min_length=1, max_length=32)
    experiment_id: str = Field(min_length=1, max_length=32)
    workspace: str = Field(default="", max_length=64, description="The workspace's slug (MLFLOW_WORKSPACE).")

    @model_validator(mode="after")
    def _no_reserved_env(self) -> TrainScriptSpec:
        taken = sorted(k for k in self.env if k.startswith(("MLFLOW_TRACKING_", "MLFLOW_RUN_ID")))
        if taken:
            raise ValueError(f"{', '.join(taken)} are set by Dais for the run; leave them out of `env`")
        return self


class TrainScriptKind(ScriptKind):
    """Runs the user's training code with the MLflow client pointed at its tracking run."""

    name = "train.script"
    Spec = TrainScriptSpec  # type: ignore[assignment]

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        base = ctx.env.get("DAIS_URL", "")
        mlflow_env = {
            "MLFLOW_TRACKING_URI": base,
            "MLFLOW_RUN_ID": spec.run_id,
            "MLFLOW_EXPERIMENT_ID": spec.experiment_id,
            "MLFLOW_WORKSPACE": spec.workspace,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DAIS_RUN_ID": spec.run_id,
            "DAIS_EXPERIMENT_ID": spec.experiment_id,
        }
        if ctx.env.get("DAIS_TOKEN"):
            mlflow_env["MLFLOW_TRACKING_TOKEN"] = ctx.env["DAIS_TOKEN"]
        env = {**spec.env, **mlflow_env}
        return super().run(ctx, spec.model_copy(update={"env": env}))

    @classmethod
    def on_finished(cls, db: Database, ended: AttemptEnded) -> None:
        """The run ends with the script: FINISHED if it exited 0 without ending the run itself."""
        if ended.state == "succeeded":
            close_job_runs(db, ended.job_id, "FINISHED")
            return
        status = _END_STATUS.get(ended.state)
        if status is not None:
            close_job_runs(db, ended.job_id, status)


# -- helpers the handler uses ---------------------------------------------------------------------------


def job_access(db: Database, workspace_id: str, job_id: str) -> WorkspaceAccess:
    """The job's owner acting in its workspace (the platform checked their role when they submitted)."""
    from sqlalchemy import select

    from dais.core.errors import NotFound
    from dais.jobs.models import Job
    from dais.tenancy import Principal, Role, User, Workspace, WorkspaceAccess

    with db.session(write=False) as s:
        owner_id = s.scalar(select(Job.owner_id).where(Job.id == job_id))
        ws = s.get(Workspace, workspace_id)
        user = s.get(User, owner_id) if owner_id else None
        if ws is None or user is None:
            raise NotFound(f"The job {job_id} has no owner or workspace any more.")
        return WorkspaceAccess(ws, Role.editor, Principal(user, "job"))


class MetricSink:
    """Hands batches of metrics to the tracking run, each in one short transaction."""

    def __init__(self, db: Database, access: WorkspaceAccess, run_id: str) -> None:
        self.db, self.access, self.run_id = db, access, run_id

    def __call__(self, points: list[MetricPoint]) -> None:
        from dais.tracking.service import MAX_METRICS_PER_BATCH, MetricIn, log_batch

        metrics = [MetricIn(p.key, p.value, p.timestamp, p.step) for p in points]
        with self.db.session() as s:
            for i in range(0, len(metrics), MAX_METRICS_PER_BATCH):
                log_batch(s, self.access, self.run_id, metrics=metrics[i : i + MAX_METRICS_PER_BATCH])


class Progress:
    """``ctx.progress`` at most twice a second (and on every change of stage)."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._last = 0.0
        self.stage = ""
        self.low, self.high = 0.0, 1.0

    def set_stage(self, stage: str, low: float, high: float) -> None:
        self.stage, self.low, self.high = stage, low, high
        self._last = time.monotonic()
        self.ctx.progress(low, stage)

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self._last >= 0.5:
            self._last = now
            self.ctx.progress(self.low + (self.high - self.low) * fraction, self.stage)


def cpu_threads(requested: int) -> int:
    return max(1, min(requested, os.cpu_count() or 1))
