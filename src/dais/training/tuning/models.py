"""Tuning tables: studies (a search over params, its budget and its coordinator) and their trials.

A study's trials are the durable record of the search: the coordinator job rebuilds its in-memory
Optuna study from them when it starts, so a coordinator that restarts (its worker died) continues
where it stopped instead of starting over. Each trial is a child tracking run of the study's parent
run, trained by its own job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dais.db.base import Base, id_column, utcnow

#: Study states; the last three are final.
STUDY_STATES = ("queued", "running", "completed", "stopped", "failed")
STUDY_FINAL = frozenset({"completed", "stopped", "failed"})
#: Trial states; every state but ``running`` is final.
TRIAL_STATES = ("running", "complete", "pruned", "failed")


class Study(Base):
    """A tuning study: what is searched (a preset's params, the presets of an auto model, or a
    script's declared space), toward which metric, with which sampler, pruner and budget."""

    __tablename__ = "tuning_studies"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        Index("ix_tuning_studies_workspace_created", "workspace_id", "created_at"),
        Index("ix_tuning_studies_job", "coordinator_job_id"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    #: preset | auto | script
    kind: Mapped[str] = mapped_column(String(16))
    #: the tracking experiment (numeric id) and the parent run of the trials' runs
    experiment_id: Mapped[int] = mapped_column(Integer)
    parent_run_id: Mapped[str | None] = mapped_column(String(32))
    metric: Mapped[str] = mapped_column(String(250))
    direction: Mapped[str] = mapped_column(String(8))  # minimize | maximize
    sampler: Mapped[str] = mapped_column(String(16))  # random | grid | tpe
    seed: Mapped[int | None] = mapped_column(Integer)
    #: {"kind": "none"} or {"kind": "median", "metric", "direction", "n_startup_trials", ...}
    pruner: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: {"param": {"type": "float", ...}}, or for an auto model {"algorithm": {...}, "spaces": {...}}
    space: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the job spec each trial starts from (``train.run`` or ``train.script``), trial params merged in
    base_spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: how trial jobs run: resources, timeout_s, priority
    trial_job: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: params sets tried first, in order (Optuna's enqueue_trial)
    enqueued: Mapped[list[Any]] = mapped_column(JSON, default=list)
    max_trials: Mapped[int | None] = mapped_column(Integer)
    max_wall_time_s: Mapped[float | None] = mapped_column(Float)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    promote_to: Mapped[str | None] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    best_trial_number: Mapped[int | None] = mapped_column(Integer)
    best_value: Mapped[float | None] = mapped_column(Float)
    #: what promotion registered: {"name": ..., "version": ..., "trial": ...}
    promoted: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    coordinator_job_id: Mapped[str | None] = mapped_column(String(26))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()


class Trial(Base):
    """One point of a study's search: its params, how it ended, its objective value, and the
    intermediate values (the pruning metric at rising steps) the pruner judged it on."""

    __tablename__ = "tuning_trials"
    __table_args__ = (
        UniqueConstraint("study_id", "number"),
        Index("ix_tuning_trials_job", "job_id"),
    )

    id: Mapped[str] = id_column()
    study_id: Mapped[str] = mapped_column(ForeignKey("tuning_studies.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    #: the params as Optuna named them (an auto model's are ``<preset>.<param>`` plus ``algorithm``)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Optuna's distributions of those params (JSON), needed to rebuild the study
    distributions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Optuna's system attributes of the trial (a grid sampler's grid id, ...)
    system_attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="running")
    value: Mapped[float | None] = mapped_column(Float)
    #: the pruning metric at rising steps: {"<step>": value}
    intermediate: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run_id: Mapped[str | None] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(String(26))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
