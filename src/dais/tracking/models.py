"""Tracking tables: experiments, runs, params, tags, metric history and latest values, inputs, outputs.

Times are epoch milliseconds (as MLflow keeps them). Metric history is append-only and written with
Core bulk inserts; the latest value of each metric of a run lives apart in ``run_latest_metrics`` so
listings and searches never touch the history. A point is stored once: its identity is MLflow's
metric primary key (run, key, step, timestamp, value, is_nan) plus the logged model it was logged
for, so the database drops a repeat (see :mod:`dais.tracking.batch`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dais.db.base import Base, id_column

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

ACTIVE = "active"
DELETED = "deleted"
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
TERMINAL_STATUSES = frozenset({"FINISHED", "FAILED", "KILLED"})


class Experiment(Base):
    """A named group of runs in a workspace; the id is numeric because MLflow clients expect it."""

    __tablename__ = "experiments"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        Index("ix_experiments_workspace_stage", "workspace_id", "lifecycle_stage"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(500))
    artifact_location: Mapped[str] = mapped_column(String(1000), default="")
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class ExperimentTag(Base):
    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class Run(Base):
    """One run: MLflow's RunInfo plus the Dais job that runs it and its parent run."""

    __tablename__ = "tracking_runs"
    __table_args__ = (
        Index("ix_tracking_runs_experiment", "experiment_id", "lifecycle_stage", "start_time"),
        Index("ix_tracking_runs_job", "job_id"),
        Index("ix_tracking_runs_parent", "parent_run_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(250), default="")
    status: Mapped[str] = mapped_column(String(16), default="RUNNING")
    start_time: Mapped[int | None] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    user_id: Mapped[str] = mapped_column(String(256), default="")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    artifact_uri: Mapped[str] = mapped_column(String(1000), default="")
    parent_run_id: Mapped[str | None] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(String(26))
    deleted_time: Mapped[int | None] = mapped_column(BigInteger)


class RunParam(Base):
    """A run's param. SQLite indexes ``(key, value)`` (ordering runs by a param reads it in order);
    PostgreSQL only ``key``: its btree refuses entries over ~2,700 bytes and a value may hold 6,000
    characters."""

    __tablename__ = "run_params"
    __table_args__ = (
        Index("ix_run_params_key_value", "key", "value").ddl_if(dialect="sqlite"),
        Index("ix_run_params_key", "key").ddl_if(dialect="postgresql"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("tracking_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunTag(Base):
    __tablename__ = "run_tags"
    __table_args__ = (Index("ix_run_tags_key", "key"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("tracking_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunMetric(Base):
    """One logged point of a metric (the full history).

    ``ix_run_metrics_point`` makes a point unique: MLflow's metric primary key (a NaN is stored as
    value 0 with ``is_nan`` set, so NaN points compare equal) plus the logged model it was logged
    for (``model_id``, ``''`` for none: a plain column, so the index needs no expression). A point
    logged again for a logged model (MLflow 3's ``log_model`` re-logs the run's metrics with its
    ``model_id``) is kept as that model's metric; history reads show each point once. The index's
    leading ``(run_id, key, step)`` serves the history reads.
    """

    __tablename__ = "run_metrics"
    __table_args__ = (
        Index(
            "ix_run_metrics_point",
            "run_id",
            "key",
            "step",
            "timestamp",
            "value",
            "is_nan",
            "model_id",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("tracking_runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float] = mapped_column(Float)
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    model_id: Mapped[str] = mapped_column(String(64), default="")


class RunLatestMetric(Base):
    """The latest point of each metric of a run: the largest ``(step, timestamp, value)``."""

    __tablename__ = "run_latest_metrics"
    __table_args__ = (Index("ix_run_latest_metrics_key_value", "key", "value"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("tracking_runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(BigInteger, default=0)


class RunInput(Base):
    """A dataset (or, for MLflow 3, a model) a run consumed."""

    __tablename__ = "run_inputs"
    __table_args__ = (Index("ix_run_inputs_run", "run_id"),)

    id: Mapped[str] = id_column()
    run_id: Mapped[str] = mapped_column(ForeignKey("tracking_runs.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(500))
    digest: Mapped[str | None] = mapped_column(String(64))
    source_type: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(Text)
    schema: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[str | None] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(String(64))  # the input tag mlflow.data.context
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dataset_version_id: Mapped[str | None] = mapped_column(String(26))
    model_id: Mapped[str | None] = mapped_column(String(64))


class RunOutput(Base):
    """A logged model a run produced (MLflow 3 ``log_outputs``)."""

    __tablename__ = "run_outputs"

    run_id: Mapped[str] = mapped_column(ForeignKey("tracking_runs.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
