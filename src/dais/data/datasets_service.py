"""Dataset operations: register (through a job), read, list, update, delete; versions, lineage, media.

Registration is a job (``data.register``): the API checks what it can without touching the source
(name free, connection known, source shape), then submits the job; the job inspects the source and
writes the dataset, its media and version 1 in one transaction (:func:`record_registration`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dais.core.errors import AlreadyExists, InvalidInput, NotFound
from dais.data.models import DataConnection, Dataset, DatasetLineage, DatasetMedia, DatasetVersion
from dais.data.schemas import (
    DatasetCreate,
    DatasetRead,
    DatasetUpdate,
    LineageEdge,
    LineageRead,
    VersionKind,
    VersionRead,
)
from dais.data.source import MEDIA_FORMATS, ColumnSchema, DataFormat, Inspection, PartitionInfo, SourceSpec
from dais.db import Page, paginate, utcnow
from dais.jobs.schemas import JobSubmit
from dais.jobs.service import submit_job
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit

TABLE_FORMATS = frozenset({DataFormat.table, DataFormat.query})


# -- reading -----------------------------------------------------------------------------------------


def get_dataset(session: Session, access: WorkspaceAccess, ref: str) -> Dataset:
    """A dataset of this workspace by name or id; 404 otherwise (also for other workspaces')."""
    return get_dataset_in(session, access.workspace.id, ref)


def get_dataset_in(session: Session, workspace_id: str, ref: str) -> Dataset:
    ds = session.scalar(
        select(Dataset).where(
            Dataset.workspace_id == workspace_id, or_(Dataset.name == ref, Dataset.id == ref)
        )
    )
    if ds is None:
        raise NotFound(f"Dataset {ref!r} not found in this workspace.")
    return ds


def connection_names(session: Session, ids: list[str | None]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session.execute(
        select(DataConnection.id, DataConnection.name).where(DataConnection.id.in_(wanted))
    )
    return {str(i): str(n) for i, n in rows.all()}


def dataset_read(ds: Dataset, connection_name: str | None) -> DatasetRead:
    parts = PartitionInfo.model_validate(ds.partitions or {"style": "none"})
    return DatasetRead(
        id=ds.id,
        workspace_id=ds.workspace_id,
        name=ds.name,
        description=ds.description or "",
        tags=list(ds.tags or []),
        connection=connection_name,
        connection_id=ds.connection_id,
        source=SourceSpec.model_validate(ds.source),
        format=ds.format,
        schema_=[ColumnSchema.model_validate(c) for c in ds.schema_ or []],
        partition_style=parts.style,
        partition_keys=parts.keys,
        partition_count=len(parts.partitions),
        files=ds.files,
        bytes=ds.bytes,
        row_count=ds.row_count,
        media_total=ds.media_total,
        sample_truncated=ds.sample_truncated,
        warnings=list(ds.warnings or []),
        current_version=ds.current_version,
        registered_by_job_id=ds.registered_by_job_id,
        created_by=ds.created_by,
        created_at=ds.created_at,
        updated_at=ds.updated_at,
        sampled_at=ds.sampled_at,
    )


def list_datasets(
    session: Session,
    access: WorkspaceAccess,
    *,
    q: str | None,
    format: str | None,
    connection: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[Dataset]:
    stmt = select(Dataset).where(Dataset.workspace_id == access.workspace.id)
    if q:
        needle = q.lower()
        stmt = stmt.where(
            or_(
                Dataset.name.contains(needle, autoescape=True),
                func.lower(Dataset.description).contains(needle, autoescape=True),
            )
        )
    if format:
        stmt = stmt.where(Dataset.format == format)
    if connection is not None:
        if connection in ("", "uploads"):
            stmt = stmt.where(Dataset.connection_id.is_(None))
        else:
            conn = _connection(session, access.workspace.id, connection, ["query", "connection"])
            stmt = stmt.where(Dataset.connection_id == conn.id)
    return paginate(
        session,
        stmt,
        columns={"name": Dataset.name, "created_at": Dataset.created_at, "updated_at": Dataset.updated_at},
        id_column=Dataset.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def _connection(session: Session, workspace_id: str, ref: str, loc: list[str]) -> DataConnection:
    conn = session.scalar(
        select(DataConnection).where(
            DataConnection.workspace_id == workspace_id,
            or_(DataConnection.name == ref, DataConnection.id == ref),
        )
    )
    if conn is None:
        raise NotFound(
            f"Connection {ref!r} not found in this workspace.",
            errors=[{"loc": loc, "msg": "unknown connection"}],
        )
    return conn


# -- registering -------------------------------------------------------------------------------------


def check_source_shape(source: SourceSpec, capabilities: frozenset[str] | set[str], loc: list[str]) -> None:
    """A files source needs a path, a tables source a table or a query (exactly one)."""
    if "tables" in capabilities:
        if (source.table is None) == (source.query is None):
            raise InvalidInput(
                "A table connection needs exactly one of `source.table` and `source.query`.",
                errors=[{"loc": [*loc, "table"], "msg": "give a table or a query"}],
            )
        if source.path is not None:
            raise InvalidInput(
                "A table connection reads tables, not paths: give `source.table` or `source.query`.",
                errors=[{"loc": [*loc, "path"], "msg": "not for tables"}],
            )
        return
    if not source.path:
        raise InvalidInput(
            "A files source needs `source.path` (a file, a folder or a glob under the connection's root).",
            errors=[{"loc": [*loc, "path"], "msg": "required"}],
        )
    if source.table is not None or source.query is not None or source.format in TABLE_FORMATS:
        raise InvalidInput(
            "A files connection reads paths; tables and queries need a sql or hive connection.",
            errors=[{"loc": [*loc, "table" if source.table else "query"], "msg": "not for files"}],
        )


def resolve_connection(
    session: Session, workspace_id: str, ref: str | None, loc: list[str]
) -> DataConnection | None:
    """The connection named ``ref`` (``None``: the workspace's own uploads area)."""
    if ref is None:
        return None
    return _connection(session, workspace_id, ref, loc)


def name_free(session: Session, workspace_id: str, name: str, *, but: str | None = None) -> None:
    existing = session.scalar(
        select(Dataset.id).where(Dataset.workspace_id == workspace_id, Dataset.name == name)
    )
    if existing is not None and existing != but:
        raise AlreadyExists(
            f"A dataset named {name!r} already exists in this workspace.",
            errors=[{"loc": ["body", "name"], "msg": "taken"}],
        )


def submit_registration(
    session: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    spec: DatasetCreate,
    capabilities: frozenset[str],
    connection_id: str | None,
) -> Any:
    """Queue a ``data.register`` job for ``spec`` (already checked); returns the job."""
    name_free(session, access.workspace.id, spec.name)
    job = submit_job(
        session,
        ctx,
        access,
        JobSubmit(
            kind="data.register",
            name=f"register {spec.name}",
            spec={
                "name": spec.name,
                "description": spec.description,
                "tags": spec.tags,
                "connection_id": connection_id,
                "source": spec.source.model_dump(mode="json", exclude_none=True),
                "allow_empty": spec.allow_empty,
            },
        ),
    )
    record_audit(
        session,
        ctx,
        "data.dataset.register",
        target_type="dataset",
        target_id=None,
        workspace_id=access.workspace.id,
        details={"name": spec.name, "job_id": job.id, "connection_id": connection_id},
    )
    return job


def submit_data_job(
    session: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    ds: Dataset,
    kind: str,
    spec: dict[str, Any],
    *,
    name: str,
) -> Any:
    """Queue a refresh or materialisation job of ``ds``; returns the job."""
    job = submit_job(
        session, ctx, access, JobSubmit(kind=kind, name=name, spec={"dataset_id": ds.id, **spec})
    )
    record_audit(
        session,
        ctx,
        f"data.dataset.{kind.split('.', 1)[1]}",
        target_type="dataset",
        target_id=ds.id,
        workspace_id=access.workspace.id,
        details={"name": ds.name, "job_id": job.id},
    )
    return job


def _media_rows(workspace_id: str, dataset_id: str, inspection: Inspection) -> list[dict[str, Any]]:
    return [
        {
            "id": _new_id(),
            "workspace_id": workspace_id,
            "dataset_id": dataset_id,
            "path": m.path,
            "size": m.size,
            "width": m.width,
            "height": m.height,
            "duration_s": m.duration_s,
            "label": m.label,
            "format": m.format,
        }
        for m in inspection.media or []
    ]


def _new_id() -> str:
    from dais.core.ids import new_id

    return new_id()


def version_partitions(source: SourceSpec, inspection: Inspection) -> list[str] | None:
    """What a pointer version pins: the partitions the source's filter picks now, or (a filter with
    ``${variables}``) ``None``, so reads resolve it with the variables they are given."""
    from dais.data.partitions import is_dynamic, select_partitions

    info = inspection.partitions
    if info.style == "none" or is_dynamic(source.partition_filter):
        return None
    return [p.path for p in select_partitions(info, source.partition_filter, None)]


def _apply_inspection(ds: Dataset, inspection: Inspection) -> None:
    data = inspection.model_dump(mode="json", by_alias=True)
    ds.format = str(inspection.format)
    ds.schema_ = data["schema"]
    ds.sample = data["sample"]
    ds.sample_truncated = inspection.sample_truncated
    ds.stats = data["stats"]
    ds.partitions = data["partitions"]
    ds.files = inspection.files
    ds.bytes = inspection.bytes
    ds.row_count = inspection.row_count
    ds.media_total = inspection.media_total
    ds.warnings = list(inspection.warnings)
    ds.sampled_at = utcnow()


def record_registration(
    session: Session,
    *,
    workspace_id: str,
    job_id: str,
    owner_id: str | None,
    name: str,
    description: str,
    tags: list[str],
    connection_id: str | None,
    source: SourceSpec,
    inspection: Inspection,
) -> Dataset:
    """Write a registered dataset, its media items and version 1 (a pointer) in the caller's transaction."""
    name_free(session, workspace_id, name)
    ds = Dataset(
        workspace_id=workspace_id,
        name=name,
        description=description,
        tags=tags,
        connection_id=connection_id,
        source=source.model_dump(mode="json", exclude_none=True),
        current_version=1,
        registered_by_job_id=job_id,
        created_by=owner_id,
    )
    _apply_inspection(ds, inspection)
    session.add(ds)
    try:
        session.flush()
    except IntegrityError as exc:  # registered by someone else meanwhile
        raise AlreadyExists(f"A dataset named {name!r} already exists in this workspace.") from exc
    media = _media_rows(workspace_id, ds.id, inspection)
    if media:
        session.execute(insert(DatasetMedia), media)
    add_version(
        session,
        ds,
        kind=VersionKind.pointer,
        fingerprint=inspection.fingerprint,
        partitions=version_partitions(source, inspection),
        variables={},
        row_count=inspection.row_count,
        bytes=inspection.bytes,
        files=inspection.files,
        schema=ds.schema_,
        note="registered",
        job_id=job_id,
        created_by=owner_id,
        number=1,
    )
    record_audit(
        session,
        _system(owner_id),
        "data.dataset.create",
        target_type="dataset",
        target_id=ds.id,
        workspace_id=workspace_id,
        details={"name": name, "format": ds.format, "job_id": job_id},
    )
    return ds


def record_refresh(
    session: Session, ds: Dataset, inspection: Inspection, *, job_id: str, owner_id: str | None
) -> DatasetVersion | None:
    """Keep a new inspection of ``ds``; a new pointer version if its fingerprint changed."""
    _apply_inspection(ds, inspection)
    ds.updated_at = utcnow()
    if ds.format in {str(f) for f in MEDIA_FORMATS}:
        session.execute(delete(DatasetMedia).where(DatasetMedia.dataset_id == ds.id))
        media = _media_rows(ds.workspace_id, ds.id, inspection)
        if media:
            session.execute(insert(DatasetMedia), media)
    current = session.scalar(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == ds.id, DatasetVersion.kind == "pointer")
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )
    version = None
    if current is None or current.fingerprint != inspection.fingerprint:
        version = add_version(
            session,
            ds,
            kind=VersionKind.pointer,
            fingerprint=inspection.fingerprint,
            partitions=version_partitions(SourceSpec.model_validate(ds.source), inspection),
            variables={},
            row_count=inspection.row_count,
            bytes=inspection.bytes,
            files=inspection.files,
            schema=ds.schema_,
            note="refreshed: the content changed",
            job_id=job_id,
            created_by=owner_id,
        )
    record_audit(
        session,
        _system(owner_id),
        "data.dataset.refreshed",
        target_type="dataset",
        target_id=ds.id,
        workspace_id=ds.workspace_id,
        details={"name": ds.name, "job_id": job_id, "new_version": version.number if version else None},
    )
    session.flush()
    return version


def _system(owner_id: str | None) -> AuditContext:
    ctx = AuditContext.system()
    return AuditContext(actor_id=owner_id, actor_name="data job") if owner_id else ctx


def update_dataset(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str, spec: DatasetUpdate
) -> Dataset:
    ds = get_dataset(session, access, ref)
    changed = sorted(spec.model_fields_set)
    if spec.name is not None and spec.name != ds.name:
        name_free(session, access.workspace.id, spec.name, but=ds.id)
        ds.name = spec.name
    if spec.description is not None:
        ds.description = spec.description
    if spec.tags is not None:
        ds.tags = list(dict.fromkeys(spec.tags))
    if "partition_filter" in spec.model_fields_set:
        source = SourceSpec.model_validate(ds.source)
        source.partition_filter = spec.partition_filter
        ds.source = source.model_dump(mode="json", exclude_none=True)
    ds.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        ctx,
        "data.dataset.update",
        target_type="dataset",
        target_id=ds.id,
        workspace_id=access.workspace.id,
        details={"name": ds.name, "changed": changed},
    )
    return ds


def delete_dataset(session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str) -> Dataset:
    """Delete a dataset's record, media items, versions and lineage (its source data stays)."""
    ds = get_dataset(session, access, ref)
    record_audit(
        session,
        ctx,
        "data.dataset.delete",
        target_type="dataset",
        target_id=ds.id,
        workspace_id=access.workspace.id,
        details={"name": ds.name},
    )
    version_ids = select(DatasetVersion.id).where(DatasetVersion.dataset_id == ds.id)
    session.execute(
        delete(DatasetLineage).where(
            or_(DatasetLineage.version_id.in_(version_ids), DatasetLineage.input_version_id.in_(version_ids))
        )
    )
    session.execute(delete(DatasetVersion).where(DatasetVersion.dataset_id == ds.id))
    session.execute(delete(DatasetMedia).where(DatasetMedia.dataset_id == ds.id))
    session.delete(ds)
    session.flush()
    return ds


# -- versions and lineage ----------------------------------------------------------------------------


def add_version(
    session: Session,
    ds: Dataset,
    *,
    kind: VersionKind,
    fingerprint: dict[str, Any],
    partitions: list[str] | None,
    variables: dict[str, Any],
    row_count: int | None,
    bytes: int | None,
    files: int | None,
    schema: list[Any] | None,
    note: str,
    job_id: str | None,
    created_by: str | None,
    artifact_prefix: str | None = None,
    number: int | None = None,
) -> DatasetVersion:
    """Append version ``n + 1`` of ``ds`` and make it current."""
    if number is None:
        last = session.scalar(
            select(func.max(DatasetVersion.number)).where(DatasetVersion.dataset_id == ds.id)
        )
        number = (last or 0) + 1
    version = DatasetVersion(
        workspace_id=ds.workspace_id,
        dataset_id=ds.id,
        number=number,
        kind=str(kind),
        fingerprint=fingerprint,
        partitions=partitions,
        variables=variables,
        artifact_prefix=artifact_prefix,
        row_count=row_count,
        bytes=bytes,
        files=files,
        schema_=schema,
        note=note,
        produced_by_job_id=job_id,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(version)
    ds.current_version = number
    session.flush()
    return version


def create_pointer_version(
    session: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    dataset_id: str,
    *,
    fingerprint: dict[str, Any],
    partitions: list[str] | None,
    variables: dict[str, str],
    note: str,
) -> DatasetVersion:
    """Record a pointer version with the fingerprint just taken (a snapshot of what the source holds)."""
    ds = get_dataset(session, access, dataset_id)

    def number(*keys: str) -> int | None:
        for k in keys:
            v = fingerprint.get(k)
            if isinstance(v, int) and not isinstance(v, bool):
                return v
        return None

    version = add_version(
        session,
        ds,
        kind=VersionKind.pointer,
        fingerprint=fingerprint,
        partitions=partitions,
        variables=dict(variables),
        row_count=number("rows", "row_count"),
        bytes=number("bytes", "total_size", "size"),
        files=number("files", "count"),
        schema=ds.schema_,
        note=note,
        job_id=None,
        created_by=ctx.actor_id,
    )
    record_audit(
        session,
        ctx,
        "data.version.create",
        target_type="dataset",
        target_id=ds.id,
        workspace_id=access.workspace.id,
        details={"name": ds.name, "version": version.number, "kind": "pointer"},
    )
    return version


def add_lineage(
    session: Session, version: DatasetVersion, inputs: list[DatasetVersion], job_id: str | None
) -> None:
    for src in inputs:
        session.add(
            DatasetLineage(
                workspace_id=version.workspace_id,
                version_id=version.id,
                input_version_id=src.id,
                job_id=job_id,
                created_at=utcnow(),
            )
        )
    session.flush()


def version_read(v: DatasetVersion) -> VersionRead:
    return VersionRead(
        id=v.id,
        dataset_id=v.dataset_id,
        number=v.number,
        kind=VersionKind(v.kind),
        fingerprint=dict(v.fingerprint or {}),
        partitions=v.partitions,
        variables=dict(v.variables or {}),
        artifact_prefix=v.artifact_prefix,
        row_count=v.row_count,
        bytes=v.bytes,
        files=v.files,
        schema_=[ColumnSchema.model_validate(c) for c in v.schema_] if v.schema_ is not None else None,
        note=v.note or "",
        produced_by_job_id=v.produced_by_job_id,
        created_by=v.created_by,
        created_at=v.created_at,
    )


def list_versions(session: Session, ds: Dataset, *, limit: int, cursor: str | None) -> Page[DatasetVersion]:
    """Versions of ``ds``, newest first."""
    return paginate(
        session,
        select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id),
        columns={"number": DatasetVersion.number},
        id_column=DatasetVersion.id,
        sort="-number",
        limit=limit,
        cursor=cursor,
    )


def get_version(session: Session, ds: Dataset, number: int | None) -> DatasetVersion:
    """Version ``number`` of ``ds`` (``None``: the current one); 404 if there is none."""
    n = number or ds.current_version
    v = session.scalar(
        select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id, DatasetVersion.number == n)
    )
    if v is None:
        raise NotFound(f"Dataset {ds.name!r} has no version {n}.")
    return v


def lineage(session: Session, ds: Dataset) -> LineageRead:
    """Which versions produced this dataset's versions, and which versions they produced."""
    mine = select(DatasetVersion.id).where(DatasetVersion.dataset_id == ds.id)
    edges = list(
        session.scalars(
            select(DatasetLineage)
            .where(or_(DatasetLineage.version_id.in_(mine), DatasetLineage.input_version_id.in_(mine)))
            .order_by(DatasetLineage.created_at, DatasetLineage.id)
        )
    )
    ids = {e.version_id for e in edges} | {e.input_version_id for e in edges}
    versions: dict[str, tuple[str, int, str]] = {}
    if ids:
        for vid, number, dsid, dsname in session.execute(
            select(DatasetVersion.id, DatasetVersion.number, Dataset.id, Dataset.name)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(DatasetVersion.id.in_(ids))
        ):
            versions[vid] = (dsname, number, dsid)
    up: list[LineageEdge] = []
    down: list[LineageEdge] = []
    for e in edges:
        out_ds, out_n, out_id = versions[e.version_id]
        in_ds, in_n, _ = versions[e.input_version_id]
        edge = LineageEdge(
            dataset=out_ds,
            version=out_n,
            input_dataset=in_ds,
            input_version=in_n,
            job_id=e.job_id,
            created_at=e.created_at,
        )
        (up if out_id == ds.id else down).append(edge)
    return LineageRead(upstream=up, downstream=down)


# -- media -------------------------------------------------------------------------------------------


def list_media(
    session: Session, ds: Dataset, *, label: str | None, limit: int, cursor: str | None
) -> Page[DatasetMedia]:
    stmt = select(DatasetMedia).where(DatasetMedia.dataset_id == ds.id)
    if label is not None:
        stmt = stmt.where(DatasetMedia.label == label)
    return paginate(
        session,
        stmt,
        columns={"path": DatasetMedia.path},
        id_column=DatasetMedia.id,
        sort="path",
        limit=limit,
        cursor=cursor,
    )


def media_labels(session: Session, ds: Dataset) -> dict[str, int]:
    rows = session.execute(
        select(DatasetMedia.label, func.count())
        .where(DatasetMedia.dataset_id == ds.id)
        .group_by(DatasetMedia.label)
    )
    counts: Counter[str] = Counter()
    for label, n in rows:
        counts[label or ""] += n
    return dict(sorted(counts.items()))


def get_media(session: Session, ds: Dataset, item: str) -> DatasetMedia:
    m = session.get(DatasetMedia, item)
    if m is None or m.dataset_id != ds.id:
        raise NotFound(f"Dataset {ds.name!r} has no media item {item!r}.")
    return m
