"""Data job kinds: ``data.register``, ``data.refresh`` and ``data.materialize``.

They are trusted platform kinds (``platform_access``): the job process gets the platform's settings,
so a handler opens the metadata database and the artifact store itself. Each one reads its source
first and writes what it found in ONE transaction at the end, so a failure (a source error, a
timeout, a cancel) leaves nothing half-written; and every id in a spec is checked against the job's
own workspace, whoever submitted it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from dais.core.errors import InvalidInput
from dais.core.settings import Settings, load_settings
from dais.data.schemas import NAME
from dais.data.source import SourceSpec
from dais.jobs.kinds import JobContext, JobKind

# The worker's zygote imports every job kind before forking job processes: this module stays light,
# and the handlers import the database, the readers and the connectors when they run. Those heavy
# modules are preloaded instead by the launcher of the "platform" warm group (see JobKind.preload),
# which serves only these kinds, so forking a no-op or script job stays cheap.
PLATFORM_PRELOAD = (
    "dais.db",
    "dais.storage",
    "dais.data.service",
    "dais.data.datasets_service",
    "dais.data.sources",
    "dais.data.inspect",
    "dais.data.reader",
    "dais.data.materialize",
    "dais.data.connectors.file",
    "dais.data.connectors.s3",
    "dais.data.connectors.sql",
)
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dais.db import Database


@dataclass
class Platform:
    """What a data job works with: the platform's settings and its metadata database."""

    settings: Settings
    db: Database

    def owner(self, job_id: str) -> str | None:
        """Who submitted the job (recorded as the creator of what it writes)."""
        from sqlalchemy import column, select, table

        jobs = table("jobs", column("id"), column("owner_id"))
        with self.db.session(write=False) as s:
            owner: str | None = s.scalar(select(jobs.c.owner_id).where(jobs.c.id == job_id))
            return owner


@contextmanager
def platform() -> Iterator[Platform]:
    from dais.db import create_database

    settings = load_settings()
    db = create_database(
        settings.database_url,
        busy_timeout_s=settings.database.sqlite_busy_timeout_s,
        pool_size=2,
    )
    try:
        yield Platform(settings, db)
    finally:
        db.dispose()


# -- data.register -----------------------------------------------------------------------------------


class RegisterSpec(BaseModel):
    """A dataset to register (what ``POST /datasets`` submits)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME)
    description: str = Field(default="", max_length=4000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    connection_id: str | None = Field(default=None, max_length=26, description="Null: the uploads area.")
    source: SourceSpec
    allow_empty: bool = False


class RegisterKind(JobKind):
    """Registers a dataset: checks the source, keeps a sample, its schema, statistics and partitions."""

    name = "data.register"
    Spec = RegisterSpec
    api_access = False
    platform_access = True
    preload = PLATFORM_PRELOAD
    warm_group = "platform"

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        from dais.data import datasets_service as datasets
        from dais.data.inspect import inspect_source

        with platform() as p:
            settings = p.settings
            with p.db.session(write=False) as s:
                datasets.name_free(s, ctx.workspace_id, spec.name)
                connector = _connector(s, ctx.workspace_id, spec.connection_id, settings)
            ctx.progress(0.02, f"reading {spec.source.path or spec.source.table or 'the query'}")
            try:
                inspection = inspect_source(
                    connector,
                    spec.source,
                    sample_rows=settings.data.sample_rows,
                    sample_max_bytes=settings.data.sample_max_bytes,
                    timeout_s=settings.data.source_timeout_s,
                    progress=ctx.progress,
                    allow_empty=spec.allow_empty,
                )
            finally:
                connector.close()
            ctx.progress(0.95, "saving the dataset")
            owner = p.owner(ctx.job_id)
            with p.db.session() as s:
                ds = datasets.record_registration(
                    s,
                    workspace_id=ctx.workspace_id,
                    job_id=ctx.job_id,
                    owner_id=owner,
                    name=spec.name,
                    description=spec.description,
                    tags=list(dict.fromkeys(spec.tags)),
                    connection_id=spec.connection_id,
                    source=spec.source,
                    inspection=inspection,
                )
                ctx.progress(1.0, f"registered {ds.name}")
                return {
                    "dataset_id": ds.id,
                    "dataset": ds.name,
                    "version": 1,
                    "format": ds.format,
                    "row_count": ds.row_count,
                    "files": ds.files,
                    "bytes": ds.bytes,
                    "media_total": ds.media_total,
                    "warnings": list(ds.warnings or []),
                }


def _connector(session: Session, workspace_id: str, connection_id: str | None, settings: Settings) -> Any:
    from dais.data.service import open_connection
    from dais.data.sources import artifacts_connector

    if connection_id is None:
        return artifacts_connector(settings, workspace_id)
    return open_connection(session, connection_id, workspace_id, settings)


# -- data.refresh ------------------------------------------------------------------------------------


class RefreshSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(max_length=26)
    allow_empty: bool = False


class RefreshKind(JobKind):
    """Samples a dataset again; a new pointer version if its content changed."""

    name = "data.refresh"
    Spec = RefreshSpec
    api_access = False
    platform_access = True
    preload = PLATFORM_PRELOAD
    warm_group = "platform"

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        from dais.data import datasets_service as datasets
        from dais.data.inspect import inspect_source
        from dais.data.sources import connector_of

        with platform() as p:
            settings = p.settings
            with p.db.session(write=False) as s:
                ds = datasets.get_dataset_in(s, ctx.workspace_id, spec.dataset_id)
                connector = connector_of(s, ds, settings)
                source = SourceSpec.model_validate(ds.source)
            ctx.progress(0.02, f"reading {ds.name}")
            try:
                inspection = inspect_source(
                    connector,
                    source,
                    sample_rows=settings.data.sample_rows,
                    sample_max_bytes=settings.data.sample_max_bytes,
                    timeout_s=settings.data.source_timeout_s,
                    progress=ctx.progress,
                    allow_empty=spec.allow_empty,
                )
            finally:
                connector.close()
            owner = p.owner(ctx.job_id)
            with p.db.session() as s:
                ds = datasets.get_dataset_in(s, ctx.workspace_id, spec.dataset_id)
                version = datasets.record_refresh(s, ds, inspection, job_id=ctx.job_id, owner_id=owner)
                ctx.progress(1.0, f"refreshed {ds.name}")
                return {
                    "dataset_id": ds.id,
                    "dataset": ds.name,
                    "changed": version is not None,
                    "version": ds.current_version,
                }


# -- data.materialize --------------------------------------------------------------------------------


class MaterializeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(max_length=26)
    from_version: int | None = Field(
        default=None, ge=1, description="The version to copy (default: current)."
    )
    partitions: list[str] | None = Field(default=None, description="Pinned partitions to copy.")
    partition_filter: str | None = Field(default=None, max_length=1024)
    variables: dict[str, str] = Field(default_factory=dict)
    note: str = Field(default="", max_length=4000)


class MaterializeKind(JobKind):
    """Writes a parquet copy of a dataset version into the artifact store, as a new version."""

    name = "data.materialize"
    Spec = MaterializeSpec
    api_access = False
    platform_access = True
    preload = PLATFORM_PRELOAD
    warm_group = "platform"

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        from dais.data import datasets_service as datasets
        from dais.data.materialize import write_parquet
        from dais.data.schemas import VersionKind
        from dais.data.sources import artifacts_connector, open_version, schema_columns

        with platform() as p:
            settings = p.settings
            timeout = settings.data.source_timeout_s
            with p.db.session(write=False) as s:
                ds = datasets.get_dataset_in(s, ctx.workspace_id, spec.dataset_id)
                base = datasets.get_version(s, ds, spec.from_version)
                opened = open_version(
                    s,
                    ds,
                    base,
                    settings,
                    partitions=spec.partitions,
                    partition_filter=spec.partition_filter,
                    variables=spec.variables,
                )
            # Attempt-scoped: a retried attempt writes elsewhere; only the version row makes it count.
            prefix = f"datasets/{ds.id}/materialized/{ctx.job_id}-{ctx.attempt}"
            artifacts = artifacts_connector(settings, ctx.workspace_id)
            try:
                ctx.progress(0.02, f"copying {ds.name} v{base.number}")
                reader = opened.open(timeout)
                out = write_parquet(
                    reader, artifacts.filesystem(timeout), artifacts.resolve(prefix), progress=ctx.progress
                )
            finally:
                opened.connector.close()
                artifacts.close()
            owner = p.owner(ctx.job_id)
            with p.db.session() as s:
                ds = datasets.get_dataset_in(s, ctx.workspace_id, spec.dataset_id)
                base = datasets.get_version(s, ds, base.number)
                version = datasets.add_version(
                    s,
                    ds,
                    kind=VersionKind.materialized,
                    fingerprint={
                        "files": out.get("files"),
                        "rows": out.get("rows"),
                        "bytes": out.get("bytes"),
                        "from_version": base.number,
                        "from_fingerprint": base.fingerprint,
                    },
                    partitions=opened.partitions,
                    variables=dict(spec.variables),
                    row_count=out.get("rows"),
                    bytes=out.get("bytes"),
                    files=_count(out.get("files")),
                    schema=schema_columns(out.get("schema")) or base.schema_,
                    note=spec.note or f"materialised from version {base.number}",
                    job_id=ctx.job_id,
                    created_by=owner,
                    artifact_prefix=prefix,
                )
                datasets.add_lineage(s, version, [base], ctx.job_id)
                ctx.progress(1.0, f"{ds.name} v{version.number} written")
                return {
                    "dataset_id": ds.id,
                    "dataset": ds.name,
                    "version": version.number,
                    "rows": out.get("rows"),
                    "artifact_prefix": prefix,
                }


def _count(files: Any) -> int | None:
    if files is None:
        return None
    if isinstance(files, int):
        return files
    if isinstance(files, list | tuple):
        return len(files)
    raise InvalidInput(f"write_parquet reported files as {type(files).__name__}")
