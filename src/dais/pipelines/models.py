"""Pipeline tables: pipelines, their versions (a new one on every save that changes the graph), runs,
and node runs (per node status, counts, a bounded log, an output sample and JSON outputs).

A run is a job (kind ``pipeline.run``); its rows are written by that job as the run goes on, each node
event in its own short transaction so progress shows live.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dais.db.base import Base, TimestampMixin, id_column


class Pipeline(TimestampMixin, Base):
    """A named pipeline of a workspace; its graph lives in its versions."""

    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PipelineVersion(Base):
    """One saved graph (a :class:`~dais.pipelines.graph.PipelineGraph` as JSON); immutable."""

    __tablename__ = "pipeline_versions"
    __table_args__ = (UniqueConstraint("pipeline_id", "number"),)

    id: Mapped[str] = id_column()
    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    graph: Mapped[dict[str, Any]] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column()


class PipelineRun(Base):
    """One run of a pipeline version: full, or debug on a sample of each source."""

    __tablename__ = "pipeline_runs"
    __table_args__ = (
        Index("ix_pipeline_runs_pipeline_created", "pipeline_id", "created_at"),
        Index("ix_pipeline_runs_job", "job_id"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    pipeline_id: Mapped[str] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))  # full | debug
    sample_rows: Mapped[int | None] = mapped_column(Integer)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    from_node: Mapped[str | None] = mapped_column(String(64))
    # queued | running | succeeded | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), default="queued")
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    # [{node_id, dataset, dataset_id, version, rows}]: the dataset versions the sinks wrote
    outputs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class PipelineNodeRun(Base):
    """One node of one run; updated on every status change of the node."""

    __tablename__ = "pipeline_node_runs"
    __table_args__ = (UniqueConstraint("run_id", "node_id"),)

    id: Mapped[str] = id_column()
    run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)  # the node's place in the graph
    operator: Mapped[str] = mapped_column(String(100))
    # pending | running | succeeded | failed | skipped | cached
    status: Mapped[str] = mapped_column(String(16), default="pending")
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    duration_s: Mapped[float | None] = mapped_column(Float)
    rows_in: Mapped[int | None] = mapped_column(BigInteger)
    rows_out: Mapped[int | None] = mapped_column(BigInteger)  # the table outputs' rows, summed
    rows_out_ports: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {port: rows}
    log: Mapped[str] = mapped_column(Text, default="")  # bounded: the last LOG_MAX_CHARS
    sample: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {port: first rows as records}
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # non-table outputs as JSON
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    cache_key: Mapped[str | None] = mapped_column(String(64))
