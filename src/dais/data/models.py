"""Data tables: connections, datasets (sample, schema, stats, partitions), media items, versions,
lineage between versions, and resumable uploads.

Only metadata lives here: a bounded sample and statistics, never the data itself (large data stays
at its source or, for materialised versions and uploads, in the artifact store).
"""

from __future__ import annotations

from datetime import datetime
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

from dais.db.base import Base, TimestampMixin, id_column


class DataConnection(TimestampMixin, Base):
    """How to reach a source: a connector kind, its settings, and its credentials encrypted."""

    __tablename__ = "data_connections"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Fernet token (dais.core.vault, purpose "data-connection-secrets") of {secret name: value}.
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    # The names of the secrets set (never their values), for replies' ``secrets_set``.
    secret_names: Mapped[list[Any]] = mapped_column(JSON, default=list)
    health: Mapped[str] = mapped_column(String(16), default="unknown")  # unknown | ok | failing
    health_message: Mapped[str | None] = mapped_column(Text)
    health_checked_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Dataset(TimestampMixin, Base):
    """A named view of data at a source: where it is, and what registering it found."""

    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        Index("ix_datasets_connection", "connection_id"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # NULL: the workspace's own area of the artifact store (uploads, materialised copies).
    connection_id: Mapped[str | None] = mapped_column(ForeignKey("data_connections.id", ondelete="RESTRICT"))
    source: Mapped[dict[str, Any]] = mapped_column(JSON)  # a SourceSpec
    format: Mapped[str] = mapped_column(String(16))
    schema_: Mapped[list[Any]] = mapped_column("schema", JSON, default=list)  # ColumnSchema items
    sample: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sample_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    stats: Mapped[list[Any]] = mapped_column(JSON, default=list)  # ColumnStats items
    partitions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # a PartitionInfo
    files: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    media_total: Mapped[int | None] = mapped_column(Integer)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    registered_by_job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sampled_at: Mapped[datetime | None] = mapped_column()


class DatasetMedia(Base):
    """One image or video of a media dataset: metadata only, the bytes stay at the source."""

    __tablename__ = "dataset_media"
    __table_args__ = (
        Index("ix_dataset_media_dataset_label", "dataset_id", "label"),
        Index("ix_dataset_media_dataset_path", "dataset_id", "path"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(4096))  # relative to the connection's root
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(255))
    format: Mapped[str | None] = mapped_column(String(16))


class DatasetVersion(Base):
    """An immutable snapshot: a pointer plus a content fingerprint, or a materialised parquet copy."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # pointer | materialized
    fingerprint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    partitions: Mapped[list[Any] | None] = mapped_column(JSON)  # the resolved partition paths
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifact_prefix: Mapped[str | None] = mapped_column(String(1024))  # materialised: inside the workspace
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    files: Mapped[int | None] = mapped_column(Integer)
    schema_: Mapped[list[Any] | None] = mapped_column("schema", JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    produced_by_job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column()


class DatasetLineage(Base):
    """``version_id`` was produced (by ``job_id``) from ``input_version_id``."""

    __tablename__ = "dataset_lineage"
    __table_args__ = (UniqueConstraint("version_id", "input_version_id"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    version_id: Mapped[str] = mapped_column(ForeignKey("dataset_versions.id", ondelete="CASCADE"))
    input_version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column()


class DataUpload(TimestampMixin, Base):
    """A resumable chunked upload into the workspace's artifacts (``uploads/<id>/<filename>``)."""

    __tablename__ = "data_uploads"
    __table_args__ = (Index("ix_data_uploads_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes stored so far: resume here
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | complete | aborted
    key: Mapped[str] = mapped_column(String(1024))  # the artifact key once complete
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column()
