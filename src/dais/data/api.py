"""Data routes: connector kinds, connections (test, browse), datasets (preview, register, sample,
schema, stats, partitions, versions, lineage, download, media proxy) and resumable uploads.

Viewers read; editors change. Every call that reaches a source runs in a worker thread under a
timeout (:mod:`dais.data.sources`), never on the event loop and never inside a database transaction.
Connection credentials are write-only: replies name the secrets that are set, never their values.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dais.core.errors import BadRequest, Conflict, DaisError, InvalidInput, RangeNotSatisfiable
from dais.data import datasets_service as datasets
from dais.data import service, sources, uploads
from dais.data.connectors import CheckResult, Connector, run_with_timeout
from dais.data.models import DatasetMedia
from dais.data.schemas import (
    BrowseRead,
    CheckRead,
    ConnectionCreate,
    ConnectionPage,
    ConnectionRead,
    ConnectionTest,
    ConnectionUpdate,
    ConnectorRead,
    DatasetCreate,
    DatasetPage,
    DatasetRead,
    DatasetSubmitted,
    DatasetUpdate,
    LineageRead,
    MediaPage,
    MediaRead,
    PartitionsRead,
    PreviewRequest,
    SampleRead,
    SchemaRead,
    SourceEntryRead,
    StatsRead,
    UploadCreate,
    UploadRead,
    VersionCreate,
    VersionKind,
    VersionPage,
    VersionRead,
)
from dais.data.source import ColumnSchema, ColumnStats, Inspection, PartitionInfo, SourceSpec
from dais.jobs.schemas import JobRead
from dais.storage import ArtifactStore, WorkspaceArtifacts
from dais.tenancy import AppSettings, Audit, Caller, Db, EditorAccess, ViewerAccess, WorkspaceAccess

router = APIRouter(prefix="/api/v1", tags=["data"])

WS = "/workspaces/{workspace}"
#: Upload chunks may be larger than JSON bodies (see BodyLimitMiddleware).
UPLOAD_CHUNK_ROUTE = r"^/api/v1/workspaces/[^/]+/uploads/[^/]+$"

Limit = Annotated[int, Query(ge=1, le=500)]


def _job(job: Any) -> JobRead:
    return JobRead.model_validate(job)


# -- connector kinds ---------------------------------------------------------------------------------


@router.get("/connectors")
def list_connectors(principal: Caller) -> list[ConnectorRead]:
    """Every connector kind with the JSON schemas of its config and secrets (drives the connection form)."""
    return service.list_connectors()


# -- connections -------------------------------------------------------------------------------------


@router.get(f"{WS}/connections")
def list_connections(
    access: ViewerAccess,
    db: Db,
    kind: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> ConnectionPage:
    """The workspace's connections, by name, with their health (never their credentials)."""
    with db.session(write=False) as s:
        page = service.list_connections(s, access, kind=kind, q=q, limit=limit, cursor=cursor)
        return ConnectionPage(
            items=[service.connection_read(c) for c in page.items], next_cursor=page.next_cursor
        )


@router.post(f"{WS}/connections", status_code=status.HTTP_201_CREATED)
def create_connection(
    body: ConnectionCreate, access: EditorAccess, ctx: Audit, db: Db, settings: AppSettings
) -> ConnectionRead:
    """Create a connection; its settings are checked (allowed roots, ...) but the source is not called."""
    with db.session() as s:
        return service.connection_read(service.create_connection(s, ctx, access, body, settings=settings))


def _check(connector: Connector, timeout_s: float) -> CheckResult:
    try:
        # check() bounds itself; the outer bound guards against a connector that does not.
        return run_with_timeout(lambda: connector.check(timeout_s), timeout_s + 1, "Testing the connection")
    except DaisError as exc:
        return CheckResult(ok=False, message=exc.detail, latency_ms=(timeout_s + 1) * 1000)
    finally:
        connector.close()


@router.post(f"{WS}/connections/test")
def test_new_connection(body: ConnectionTest, access: EditorAccess, settings: AppSettings) -> CheckRead:
    """Try an unsaved connection (the form's test button); ``message`` is the source's own answer."""
    connector = service.build_connector(body.kind, body.config, body.secrets, settings)
    return service.check_read(_check(connector, settings.data.source_timeout_s))


@router.get(f"{WS}/connections/{{connection}}")
def get_connection(connection: str, access: ViewerAccess, db: Db) -> ConnectionRead:
    """One connection, by name or id."""
    with db.session(write=False) as s:
        return service.connection_read(service.get_connection(s, access, connection))


@router.patch(f"{WS}/connections/{{connection}}")
def update_connection(
    connection: str, body: ConnectionUpdate, access: EditorAccess, ctx: Audit, db: Db, settings: AppSettings
) -> ConnectionRead:
    """Rename, change config keys, set secrets or remove them (``null``)."""
    with db.session() as s:
        row = service.update_connection(s, ctx, access, connection, body, settings=settings)
        return service.connection_read(row)


@router.delete(f"{WS}/connections/{{connection}}", status_code=status.HTTP_204_NO_CONTENT)
def delete_connection(connection: str, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete a connection that no dataset uses."""
    with db.session() as s:
        service.delete_connection(s, ctx, access, connection)


def _open_saved(db: Any, access: WorkspaceAccess, ref: str, settings: Any) -> tuple[str, Connector]:
    with db.session(write=False) as s:
        conn = service.get_connection(s, access, ref)
        return conn.id, service.connector_for(conn, settings)


@router.post(f"{WS}/connections/{{connection}}/test")
def test_connection(
    connection: str, access: EditorAccess, ctx: Audit, db: Db, settings: AppSettings
) -> CheckRead:
    """Try a saved connection now (bounded by a timeout) and keep the outcome as its health."""
    conn_id, connector = _open_saved(db, access, connection, settings)
    result = _check(connector, settings.data.source_timeout_s)
    with db.session() as s:
        service.record_health(s, ctx, access, conn_id, result)
    return service.check_read(result)


@router.get(f"{WS}/connections/{{connection}}/browse")
def browse_connection(
    connection: str,
    access: ViewerAccess,
    db: Db,
    settings: AppSettings,
    path: Annotated[str, Query(max_length=4096)] = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> BrowseRead:
    """What lies at ``path``: folders and files (file connections) or schemas and tables (SQL)."""
    _, connector = _open_saved(db, access, connection, settings)
    timeout = settings.data.source_timeout_s
    try:
        entries = run_with_timeout(
            lambda: connector.browse(path, limit=limit, timeout_s=timeout), timeout, f"Browsing {path or '/'}"
        )
    finally:
        connector.close()
    return BrowseRead(
        path=path,
        entries=[
            SourceEntryRead(name=e.name, path=e.path, kind=e.kind, size=e.size, modified=e.modified)
            for e in entries
        ],
    )


# -- datasets ----------------------------------------------------------------------------------------


def _source_connector(
    db: Any, access: WorkspaceAccess, ref: str | None, source: SourceSpec, settings: Any
) -> tuple[str | None, Connector]:
    """The connection a request names (``None``: uploads), its connector, and the source checked."""
    with db.session(write=False) as s:
        conn = datasets.resolve_connection(s, access.workspace.id, ref, ["body", "connection"])
        connector = (
            service.connector_for(conn, settings)
            if conn is not None
            else sources.artifacts_connector(settings, access.workspace.id)
        )
    datasets.check_source_shape(source, connector.capabilities, ["body", "source"])
    return (conn.id if conn else None), connector


@router.post(f"{WS}/datasets/preview")
def preview_dataset(body: PreviewRequest, access: EditorAccess, db: Db, settings: AppSettings) -> Inspection:
    """What registering would find (sample, schema, stats, partitions), within a timeout; saves nothing."""
    _, connector = _source_connector(db, access, body.connection, body.source, settings)
    return sources.preview(
        connector, body.source, settings, variables=body.variables, allow_empty=body.allow_empty
    )


@router.post(f"{WS}/datasets", status_code=status.HTTP_202_ACCEPTED)
def register_dataset(
    body: DatasetCreate, access: EditorAccess, ctx: Audit, db: Db, settings: AppSettings
) -> DatasetSubmitted:
    """Register a dataset: a ``data.register`` job checks the source, samples and profiles it.

    Answers at once with the job; the dataset exists when the job succeeds (a failed job leaves
    nothing behind and carries the source's message).
    """
    conn_id, connector = _source_connector(db, access, body.connection, body.source, settings)
    connector.close()
    with db.session() as s:
        job = datasets.submit_registration(s, ctx, access, body, connector.capabilities, conn_id)
        return DatasetSubmitted(dataset=body.name, job=_job(job))


@router.get(f"{WS}/datasets")
def list_datasets(
    access: ViewerAccess,
    db: Db,
    q: Annotated[str | None, Query(max_length=200)] = None,
    format: str | None = None,
    connection: Annotated[
        str | None, Query(description="Connection name or id; `uploads` for the uploads area.")
    ] = None,
    sort: str = "name",
    limit: Limit = 50,
    cursor: str | None = None,
) -> DatasetPage:
    """Datasets of the workspace."""
    with db.session(write=False) as s:
        page = datasets.list_datasets(
            s, access, q=q, format=format, connection=connection, sort=sort, limit=limit, cursor=cursor
        )
        names = datasets.connection_names(s, [d.connection_id for d in page.items])
        return DatasetPage(
            items=[datasets.dataset_read(d, names.get(d.connection_id or "")) for d in page.items],
            next_cursor=page.next_cursor,
        )


def _dataset_read(s: Any, ds: Any) -> DatasetRead:
    names = datasets.connection_names(s, [ds.connection_id])
    return datasets.dataset_read(ds, names.get(ds.connection_id or ""))


@router.get(f"{WS}/datasets/{{dataset}}")
def get_dataset(dataset: str, access: ViewerAccess, db: Db) -> DatasetRead:
    """One dataset by name or id (its sample and statistics have their own routes)."""
    with db.session(write=False) as s:
        return _dataset_read(s, datasets.get_dataset(s, access, dataset))


@router.patch(f"{WS}/datasets/{{dataset}}")
def update_dataset(
    dataset: str, body: DatasetUpdate, access: EditorAccess, ctx: Audit, db: Db
) -> DatasetRead:
    """Rename, describe, tag, or change the partition filter (pinned list or ``dt=${ds}``)."""
    with db.session() as s:
        return _dataset_read(s, datasets.update_dataset(s, ctx, access, dataset, body))


@router.delete(f"{WS}/datasets/{{dataset}}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dataset(dataset: str, request: Request, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete a dataset, its versions and lineage; materialised copies go too, the source stays."""
    with db.session() as s:
        ds = datasets.delete_dataset(s, ctx, access, dataset)
    store: ArtifactStore = request.app.state.store
    arts = WorkspaceArtifacts(store, access.workspace.id)
    store.delete_prefix(arts.full_key(f"datasets/{ds.id}") + "/")


@router.get(f"{WS}/datasets/{{dataset}}/sample")
def get_dataset_sample(dataset: str, access: ViewerAccess, db: Db) -> SampleRead:
    """The rows kept at registration (the first N rows, within the byte cap)."""
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        columns = [c["name"] for c in ds.schema_ or []]
        return SampleRead(
            columns=columns,
            rows=list(ds.sample or []),
            truncated=ds.sample_truncated,
            sampled_at=ds.sampled_at,
        )


@router.get(f"{WS}/datasets/{{dataset}}/schema")
def get_dataset_schema(dataset: str, access: ViewerAccess, db: Db) -> SchemaRead:
    """Column names, Arrow types, nullability; partition columns marked."""
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        return SchemaRead(columns=[ColumnSchema.model_validate(c) for c in ds.schema_ or []])


@router.get(f"{WS}/datasets/{{dataset}}/stats")
def get_dataset_stats(dataset: str, access: ViewerAccess, db: Db) -> StatsRead:
    """Basic column statistics over the sample."""
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        stats = [ColumnStats.model_validate(c) for c in ds.stats or []]
        return StatsRead(
            columns=stats, sample_rows=max((c.rows for c in stats), default=len(ds.sample or []))
        )


@router.get(f"{WS}/datasets/{{dataset}}/partitions")
def get_dataset_partitions(
    dataset: str,
    access: ViewerAccess,
    db: Db,
    settings: AppSettings,
    live: Annotated[bool, Query(description="List them again from the source now.")] = False,
) -> PartitionsRead:
    """Partitions found at registration, or (``live``) listed again from the source, with a timeout."""
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        stored = PartitionInfo.model_validate(ds.partitions or {"style": "none"})
        if not live:
            return PartitionsRead(**stored.model_dump())
        connector = sources.connector_of(s, ds, settings)
        source = SourceSpec.model_validate(ds.source)
    info = sources.live_partitions(connector, source, settings.data.source_timeout_s)
    return PartitionsRead(**info.model_dump(), live=True)


@router.post(f"{WS}/datasets/{{dataset}}/refresh", status_code=status.HTTP_202_ACCEPTED)
def refresh_dataset(dataset: str, access: EditorAccess, ctx: Audit, db: Db) -> DatasetSubmitted:
    """Sample the dataset again (a ``data.refresh`` job); a new version if its content changed."""
    with db.session() as s:
        ds = datasets.get_dataset(s, access, dataset)
        job = datasets.submit_data_job(s, ctx, access, ds, "data.refresh", {}, name=f"refresh {ds.name}")
        return DatasetSubmitted(dataset=ds.name, job=_job(job))


# -- versions and lineage ----------------------------------------------------------------------------


@router.get(f"{WS}/datasets/{{dataset}}/versions")
def list_dataset_versions(
    dataset: str, access: ViewerAccess, db: Db, limit: Limit = 50, cursor: str | None = None
) -> VersionPage:
    """The dataset's versions, newest first."""
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        page = datasets.list_versions(s, ds, limit=limit, cursor=cursor)
        return VersionPage(items=[datasets.version_read(v) for v in page.items], next_cursor=page.next_cursor)


@router.post(
    f"{WS}/datasets/{{dataset}}/versions",
    status_code=status.HTTP_201_CREATED,
    responses={202: {"model": DatasetSubmitted, "description": "A materialisation job was queued"}},
)
def create_dataset_version(
    dataset: str,
    body: VersionCreate,
    response: Response,
    access: EditorAccess,
    ctx: Audit,
    db: Db,
    settings: AppSettings,
) -> VersionRead | DatasetSubmitted:
    """A new version: a pointer fingerprinted now (201), or a materialised parquet copy by a job (202)."""
    if body.kind == VersionKind.materialized:
        with db.session() as s:
            ds = datasets.get_dataset(s, access, dataset)
            base = datasets.get_version(s, ds, body.from_version)
            checked = sources.open_version(  # checks partitions and variables before queueing
                s,
                ds,
                base,
                settings,
                partitions=body.partitions,
                partition_filter=body.partition_filter,
                variables=body.variables,
            )
            checked.connector.close()
            spec = {
                "from_version": base.number,
                "partitions": body.partitions,
                "partition_filter": body.partition_filter,
                "variables": body.variables,
                "note": body.note,
            }
            job = datasets.submit_data_job(
                s, ctx, access, ds, "data.materialize", spec, name=f"materialize {ds.name}"
            )
            response.status_code = status.HTTP_202_ACCEPTED
            return DatasetSubmitted(dataset=ds.name, job=_job(job))
    if body.from_version is not None:
        raise InvalidInput(
            "`from_version` applies to materialised versions only.",
            errors=[{"loc": ["body", "from_version"], "msg": "materialized only"}],
        )
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        info = PartitionInfo.model_validate(ds.partitions or {"style": "none"})
        source = SourceSpec.model_validate(ds.source)
        expression: list[str] | str | None = body.partition_filter
        if body.partitions is None and expression is None:
            expression = source.partition_filter  # the dataset's own filter, resolved now
        chosen = sources.resolve_partitions(
            info, pinned=body.partitions, expression=expression, variables=body.variables
        )
        connector = sources.connector_of(s, ds, settings)
        dataset_id = ds.id
    fp = sources.fingerprint(connector, source, chosen, settings.data.source_timeout_s)
    with db.session() as s:
        version = datasets.create_pointer_version(
            s,
            ctx,
            access,
            dataset_id,
            fingerprint=fp,
            partitions=chosen,
            variables=body.variables,
            note=body.note,
        )
        return datasets.version_read(version)


@router.get(f"{WS}/datasets/{{dataset}}/versions/{{number}}")
def get_dataset_version(dataset: str, number: int, access: ViewerAccess, db: Db) -> VersionRead:
    """One version of the dataset."""
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        return datasets.version_read(datasets.get_version(s, ds, number))


@router.get(f"{WS}/datasets/{{dataset}}/lineage")
def get_dataset_lineage(dataset: str, access: ViewerAccess, db: Db) -> LineageRead:
    """Which versions (and jobs) produced this dataset's versions, and what they produced."""
    with db.session(write=False) as s:
        return datasets.lineage(s, datasets.get_dataset(s, access, dataset))


# -- download ----------------------------------------------------------------------------------------

_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t, _ in sources.DOWNLOAD_TYPES.values()}},
}


@router.get(
    f"{WS}/datasets/{{dataset}}/download", response_class=StreamingResponse, responses=_DOWNLOAD_RESPONSES
)
async def download_dataset(
    dataset: str,
    access: ViewerAccess,
    db: Db,
    settings: AppSettings,
    version: Annotated[int | None, Query(ge=1, description="Default: the current version.")] = None,
    format: Annotated[str, Query(pattern="^(parquet|csv|jsonl|arrow)$")] = "parquet",
    limit: Annotated[int | None, Query(ge=1)] = None,
    partitions: Annotated[list[str] | None, Query(description="Only these partitions.")] = None,
    columns: Annotated[list[str] | None, Query(description="Only these columns.")] = None,
    var: Annotated[
        list[str] | None,
        Query(description="`name=value` for the partition filter's ${variables} (ds=2024-01-02)."),
    ] = None,
) -> StreamingResponse:
    """The data of a version, streamed batch by batch as parquet, CSV, JSON lines or an Arrow IPC stream."""
    timeout = settings.data.source_timeout_s
    variables = _variables(var)

    def prepare() -> tuple[str, Any]:
        with db.session(write=False) as s:
            ds = datasets.get_dataset(s, access, dataset)
            v = datasets.get_version(s, ds, version)
            opened = sources.open_version(s, ds, v, settings, partitions=partitions, variables=variables)
            name = f"{ds.name}-v{v.number}"
        reader = opened.open(timeout)
        batches = run_with_timeout(
            lambda: reader.batches(columns=columns, limit=limit), timeout, f"Reading {ds.name}"
        )
        return name, batches

    name, batches = await run_in_threadpool(prepare)
    media_type, ext = sources.DOWNLOAD_TYPES[format]
    filename = f"{name}.{ext}"
    return StreamingResponse(
        sources.encode_batches(batches, format),
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


def _variables(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(
                f"Give variables as name=value; got {item!r}.",
                errors=[{"loc": ["query", "var"], "msg": "not name=value"}],
            )
        out[name.strip()] = value
    return out


# -- media -------------------------------------------------------------------------------------------


@router.get(f"{WS}/datasets/{{dataset}}/media")
def list_dataset_media(
    dataset: str,
    access: ViewerAccess,
    db: Db,
    label: str | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> MediaPage:
    """The media items of an image or video dataset (metadata only), by path; counts per label."""
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        page = datasets.list_media(s, ds, label=label, limit=limit, cursor=cursor)
        return MediaPage(
            items=[MediaRead.model_validate(m) for m in page.items],
            next_cursor=page.next_cursor,
            labels=datasets.media_labels(s, ds) if cursor is None else {},
        )


def _media(
    db: Any, access: WorkspaceAccess, dataset: str, item: str, settings: Any
) -> tuple[DatasetMedia, Connector]:
    with db.session(write=False) as s:
        ds = datasets.get_dataset(s, access, dataset)
        media = datasets.get_media(s, ds, item)
        return media, sources.connector_of(s, ds, settings)


@router.get(
    f"{WS}/datasets/{{dataset}}/media/{{item}}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def get_dataset_media_thumbnail(
    dataset: str,
    item: str,
    access: ViewerAccess,
    db: Db,
    settings: AppSettings,
    max_px: Annotated[int, Query(ge=16, le=1024)] = 256,
) -> Response:
    """A small preview of an image (or a video's first frame), read from the source through Dais."""
    media, connector = _media(db, access, dataset, item, settings)
    data, media_type = sources.thumbnail(connector, media.path, max_px, settings.data.source_timeout_s)
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``[start, end)`` of a single ``Range: bytes=a-b`` header; ``None`` for the whole file."""
    m = _RANGE.match((header or "").strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        length = int(m.group(2))
        if length == 0:
            raise _unsatisfiable(size)
        return max(size - length, 0), size
    start = int(m.group(1))
    if m.group(2) and int(m.group(2)) < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    end = min(int(m.group(2)) + 1, size) if m.group(2) else size
    return start, end


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The range lies outside the file ({size} bytes).",
        size=size,
        headers={"Content-Range": f"bytes */{size}"},
    )


@router.get(
    f"{WS}/datasets/{{dataset}}/media/{{item}}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 206: {"description": "Partial content"}},
)
async def get_dataset_media_content(
    dataset: str, item: str, request: Request, access: ViewerAccess, db: Db, settings: AppSettings
) -> Response:
    """The media file itself, streamed from the source (``Range`` honoured, for video seeking)."""
    timeout = settings.data.source_timeout_s

    def locate() -> tuple[DatasetMedia, Any, str, int]:
        media, connector = _media(db, access, dataset, item, settings)
        fs, path, size = sources.media_size(connector, media.path, timeout)
        return media, fs, path, size

    media, fs, path, size = await run_in_threadpool(locate)
    rng = _byte_range(request.headers.get("range"), size)
    start, end = rng or (0, size)
    media_type = mimetypes.guess_type(media.path)[0] or "application/octet-stream"
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start), "Cache-Control": "private"}
    code = status.HTTP_200_OK
    if rng:
        code = status.HTTP_206_PARTIAL_CONTENT
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if size == 0:
        return Response(status_code=code, headers=headers, media_type=media_type)
    chunks: Iterator[bytes] = sources.read_range(fs, path, start, end)
    return StreamingResponse(chunks, status_code=code, headers=headers, media_type=media_type)


# -- uploads -----------------------------------------------------------------------------------------


def _arts(request: Request, access: WorkspaceAccess) -> WorkspaceArtifacts:
    store: ArtifactStore = request.app.state.store
    return WorkspaceArtifacts(store, access.workspace.id)


@router.post(f"{WS}/uploads", status_code=status.HTTP_201_CREATED)
def create_upload(
    body: UploadCreate, access: EditorAccess, ctx: Audit, db: Db, settings: AppSettings
) -> UploadRead:
    """Open a resumable upload; send the file in chunks with ``PUT`` and ``Content-Range``."""
    with db.session() as s:
        up = uploads.create_upload(s, ctx, access, body, max_bytes=settings.api.max_upload_bytes)
        return uploads.upload_read(up)


@router.get(f"{WS}/uploads/{{upload_id}}")
def get_upload(upload_id: str, access: ViewerAccess, db: Db) -> UploadRead:
    """Where an upload stands: ``received`` is the offset to send the next chunk from."""
    with db.session(write=False) as s:
        return uploads.upload_read(uploads.get_upload(s, access, upload_id))


@router.put(
    f"{WS}/uploads/{{upload_id}}",
    openapi_extra={
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "required": True,
        },
        "parameters": [
            {
                "name": "Content-Range",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "bytes <first>-<last>/<total>",
            }
        ],
    },
    responses={409: {"description": "A gap: resume from `received`"}},
)
async def put_upload_chunk(upload_id: str, request: Request, access: EditorAccess, db: Db) -> UploadRead:
    """Store one chunk (``Content-Range: bytes a-b/total``); repeats are harmless, gaps answer 409."""

    def plan() -> tuple[Any, int, int]:
        with db.session(write=False) as s:
            up = uploads.get_upload(s, access, upload_id)
            start, end = uploads.parse_content_range(request.headers.get("content-range"), up)
            uploads.plan_chunk(up, start)
            return up, start, end

    up, start, end = await run_in_threadpool(plan)
    received = up.received
    if end <= received:  # all of it arrived before: take the body, keep nothing
        async for _ in request.stream():
            pass
        return uploads.upload_read(up)
    arts = _arts(request, access)
    writer = await run_in_threadpool(arts.open_writer, uploads.part_key(up, received))
    skip = received - start
    seen = 0
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            lo = max(skip - seen, 0)
            seen += len(chunk)
            if seen > end - start:
                raise _chunk_size_error(end - start, seen)
            if lo < len(chunk):
                await run_in_threadpool(writer.write, chunk[lo:])
        if seen != end - start:
            raise _chunk_size_error(end - start, seen)
        await run_in_threadpool(writer.commit)
    except BaseException:
        await run_in_threadpool(writer.abort)
        raise

    def advance() -> UploadRead:
        with db.session() as s:
            if not uploads.advance(s, upload_id, received, end):
                current = uploads.get_upload(s, access, upload_id)
                raise _moved(current.received)
        with db.session(write=False) as s:
            return uploads.upload_read(uploads.get_upload(s, access, upload_id))

    return await run_in_threadpool(advance)


def _chunk_size_error(expected: int, seen: int) -> BadRequest:
    got = "has more" if seen > expected else f"had {seen}"
    return BadRequest(f"Content-Range announced {expected} bytes but the body {got}.")


def _moved(received: int) -> Conflict:
    return Conflict(
        f"Another chunk moved this upload on meanwhile: resume from byte {received}.", received=received
    )


@router.post(f"{WS}/uploads/{{upload_id}}/complete")
async def complete_upload(
    upload_id: str, request: Request, access: EditorAccess, ctx: Audit, db: Db
) -> UploadRead:
    """Join the chunks into ``uploads/<id>/<filename>``; register that with ``connection: null``."""
    arts = _arts(request, access)

    def run() -> UploadRead:
        with db.session(write=False) as s:
            up = uploads.get_upload(s, access, upload_id)
            uploads.check_complete(up)
        uploads.join_parts(arts, up)
        with db.session() as s:
            up = uploads.get_upload(s, access, upload_id)
            return uploads.upload_read(uploads.complete(s, ctx, access, up))

    return await run_in_threadpool(run)


@router.delete(f"{WS}/uploads/{{upload_id}}", status_code=status.HTTP_204_NO_CONTENT)
async def abort_upload(upload_id: str, request: Request, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Abandon an unfinished upload and drop the chunks received."""
    arts = _arts(request, access)

    def run() -> None:
        with db.session() as s:
            up = uploads.abort(s, ctx, access, uploads.get_upload(s, access, upload_id))
            prefix = uploads.parts_prefix(up)
        arts.store.delete_prefix(arts.full_key(prefix.rstrip("/")) + "/")

    await run_in_threadpool(run)
