"""The data API contract: connectors, connections, datasets, versions, lineage, media, uploads.

Source shapes (:class:`~dais.data.source.SourceSpec`, :class:`~dais.data.source.Inspection`, ...) live
in :mod:`dais.data.source` and are reused here as they are.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dais.data.source import ColumnSchema, ColumnStats, Partition, PartitionInfo, SourceSpec
from dais.jobs.schemas import JobRead

#: Connection and dataset names: lower-case slugs, unique in a workspace.
NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


class Health(enum.StrEnum):
    unknown = "unknown"
    ok = "ok"
    failing = "failing"


# -- connectors and connections ----------------------------------------------------------------------


class ConnectorRead(BaseModel):
    """A connector kind: what it reaches, whether it works here, and the schemas of its forms."""

    name: str
    description: str
    capabilities: list[str]
    available: bool = Field(description="False when the kind cannot load (or needs an extra) here.")
    config_schema: dict[str, Any]
    secrets_schema: dict[str, Any]
    error: str | None = None


class ConnectionCreate(BaseModel):
    """A connection: a connector kind, its settings and its credentials (write-only)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, description="Unique in the workspace: a-z, 0-9, _ . -")
    kind: str = Field(min_length=1, max_length=64, description="A connector kind: file, s3, sql, ...")
    description: str = Field(default="", max_length=4000)
    config: dict[str, Any] = Field(default_factory=dict, description="Settings of the kind (its Config).")
    secrets: dict[str, str] = Field(
        default_factory=dict, description="Credentials of the kind (its Secrets); never returned."
    )


class ConnectionUpdate(BaseModel):
    """Changes: ``config`` keys are merged in; a secret set to null is removed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=NAME)
    description: str | None = Field(default=None, max_length=4000)
    config: dict[str, Any] | None = None
    secrets: dict[str, str | None] | None = None


class ConnectionTest(BaseModel):
    """An unsaved connection to try (the form's "test" button before saving)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(min_length=1, max_length=64)
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)


class ConnectionRead(BaseModel):
    """A connection as anyone in the workspace sees it: settings, health, and which secrets are set."""

    id: str
    workspace_id: str
    name: str
    kind: str
    description: str
    config: dict[str, Any]
    secrets_set: list[str] = Field(description="Names of the secrets that are set (never their values).")
    health: Health
    health_message: str | None
    health_checked_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class ConnectionPage(BaseModel):
    items: list[ConnectionRead]
    next_cursor: str | None


class CheckRead(BaseModel):
    """The outcome of "test connection": ``message`` is the source's own answer."""

    ok: bool
    message: str
    latency_ms: float
    details: dict[str, Any] | None = None


class SourceEntryRead(BaseModel):
    """A folder, file, schema or table to pick in the registration wizard."""

    name: str
    path: str
    kind: str
    size: int | None = None
    modified: str | None = None


class BrowseRead(BaseModel):
    path: str
    entries: list[SourceEntryRead]


# -- datasets ----------------------------------------------------------------------------------------


class PreviewRequest(BaseModel):
    """What to look at: a connection (null: the workspace's uploads) and a source."""

    model_config = ConfigDict(extra="forbid")

    connection: str | None = Field(default=None, description="Connection name or id; null: uploads.")
    source: SourceSpec
    variables: dict[str, str] = Field(default_factory=dict, description="Values for ${variables}.")
    allow_empty: bool = False


class DatasetCreate(BaseModel):
    """Register a dataset: checked, sampled and profiled by a ``data.register`` job."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, description="Unique in the workspace: a-z, 0-9, _ . -")
    description: str = Field(default="", max_length=4000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    connection: str | None = Field(default=None, description="Connection name or id; null: uploads.")
    source: SourceSpec
    allow_empty: bool = Field(default=False, description="Register an empty source instead of failing.")


class DatasetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=NAME)
    description: str | None = Field(default=None, max_length=4000)
    tags: list[str] | None = Field(default=None, max_length=50)
    partition_filter: list[str] | str | None = Field(
        default=None, description="Pinned partitions or a dynamic expression (dt=${ds})."
    )


class DatasetSubmitted(BaseModel):
    """A registration (or refresh, or materialisation) accepted: follow the job for its outcome."""

    dataset: str
    job: JobRead


class DatasetRead(BaseModel):
    """A dataset without its sample and statistics (fetch those from their own routes)."""

    id: str
    workspace_id: str
    name: str
    description: str
    tags: list[str]
    connection: str | None = Field(description="The connection's name; null: the workspace's uploads.")
    connection_id: str | None
    source: SourceSpec
    format: str
    schema_: list[ColumnSchema] = Field(alias="schema")
    partition_style: str
    partition_keys: list[str]
    partition_count: int
    files: int | None
    bytes: int | None
    row_count: int | None
    media_total: int | None
    sample_truncated: bool
    warnings: list[str]
    current_version: int
    registered_by_job_id: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    sampled_at: datetime | None

    model_config = ConfigDict(populate_by_name=True)


class DatasetPage(BaseModel):
    items: list[DatasetRead]
    next_cursor: str | None


class SampleRead(BaseModel):
    """The rows kept at registration (at most ``sample_rows`` and the byte cap)."""

    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    sampled_at: datetime | None


class SchemaRead(BaseModel):
    columns: list[ColumnSchema]


class StatsRead(BaseModel):
    columns: list[ColumnStats]
    sample_rows: int = Field(description="How many rows the statistics were computed over.")


class PartitionsRead(PartitionInfo):
    """Partitions found at registration, or listed again now (``live``)."""

    live: bool = False


# -- versions and lineage ----------------------------------------------------------------------------


class VersionKind(enum.StrEnum):
    pointer = "pointer"
    materialized = "materialized"


class VersionCreate(BaseModel):
    """A new version: a pointer (fingerprinted now) or a materialised parquet copy (a job)."""

    model_config = ConfigDict(extra="forbid")

    kind: VersionKind = VersionKind.pointer
    partitions: list[str] | None = Field(default=None, description="Pinned partition paths.")
    partition_filter: str | None = Field(
        default=None, max_length=1024, description="A dynamic expression (dt=${ds}) to resolve now."
    )
    variables: dict[str, str] = Field(default_factory=dict, description="Values for ${variables}.")
    from_version: int | None = Field(default=None, ge=1, description="Materialised: the version to copy.")
    note: str = Field(default="", max_length=4000)


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    id: str
    dataset_id: str
    number: int
    kind: VersionKind
    fingerprint: dict[str, Any]
    partitions: list[str] | None
    variables: dict[str, Any]
    artifact_prefix: str | None
    row_count: int | None
    bytes: int | None
    files: int | None
    schema_: list[ColumnSchema] | None = Field(alias="schema")
    note: str
    produced_by_job_id: str | None
    created_by: str | None
    created_at: datetime


class VersionPage(BaseModel):
    items: list[VersionRead]
    next_cursor: str | None


class LineageEdge(BaseModel):
    """``version`` of ``dataset`` was produced by ``job_id`` from ``input_version`` of ``input_dataset``."""

    dataset: str
    version: int
    input_dataset: str
    input_version: int
    job_id: str | None
    created_at: datetime


class LineageRead(BaseModel):
    """Edges into this dataset's versions (``upstream``) and out of them (``downstream``)."""

    upstream: list[LineageEdge]
    downstream: list[LineageEdge]


# -- media -------------------------------------------------------------------------------------------


class MediaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    path: str
    size: int
    width: int | None
    height: int | None
    duration_s: float | None
    label: str | None
    format: str | None


class MediaPage(BaseModel):
    items: list[MediaRead]
    next_cursor: str | None
    labels: dict[str, int] = Field(default_factory=dict, description="Items per label (first page only).")


# -- uploads -----------------------------------------------------------------------------------------


class UploadState(enum.StrEnum):
    open = "open"
    complete = "complete"
    aborted = "aborted"


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255, description="A file name (no folders).")
    size: int = Field(ge=0, description="The whole file's size in bytes.")


class UploadRead(BaseModel):
    """Where an upload stands: send the next chunk from ``received``; register ``key`` once complete."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str
    filename: str
    size: int
    received: int
    chunk_size: int
    state: UploadState
    key: str
    created_at: datetime
    expires_at: datetime


__all__ = [
    "NAME",
    "BrowseRead",
    "CheckRead",
    "ConnectionCreate",
    "ConnectionPage",
    "ConnectionRead",
    "ConnectionTest",
    "ConnectionUpdate",
    "ConnectorRead",
    "DatasetCreate",
    "DatasetPage",
    "DatasetRead",
    "DatasetSubmitted",
    "DatasetUpdate",
    "Health",
    "LineageEdge",
    "LineageRead",
    "MediaPage",
    "MediaRead",
    "Partition",
    "PartitionsRead",
    "PreviewRequest",
    "SampleRead",
    "SchemaRead",
    "SourceEntryRead",
    "StatsRead",
    "UploadCreate",
    "UploadRead",
    "UploadState",
    "VersionCreate",
    "VersionKind",
    "VersionPage",
    "VersionRead",
]
