"""Datasets: register data where it lives, look at its sample, schema and partitions, and read it.

Registering runs a ``data.register`` job on a worker (it checks the source, samples it and captures
its schema); :meth:`Datasets.register` waits for it by default and returns the dataset. Reading
streams through the API, never holding more than a batch in memory unless you ask for a table::

    ds = client.datasets.register("sales", connection="lake", path="sales/", workspace="team")
    print(ds.schema, ds.row_count)
    for batch in ds.iter_batches():          # pyarrow.RecordBatch, one at a time
        ...
    df = client.datasets.get("sales", workspace="team").to_pandas(limit=10_000)
"""

from __future__ import annotations

import builtins
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from pydantic import ConfigDict, Field, PrivateAttr

from dais.client.http import Transport, route
from dais.client.jobs import Jobs
from dais.client.models import Job, Model
from dais.client.uploads import Progress as BytesProgress
from dais.client.uploads import WorkspaceResource
from dais.core.errors import DaisError

if TYPE_CHECKING:
    import pyarrow as pa

PREVIEW = route("POST", "/api/v1/workspaces/{workspace}/datasets/preview")
CREATE = route("POST", "/api/v1/workspaces/{workspace}/datasets")
LIST = route("GET", "/api/v1/workspaces/{workspace}/datasets")
GET = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}/datasets/{dataset}")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}/datasets/{dataset}")
SAMPLE = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/sample")
SCHEMA = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/schema")
STATS = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/stats")
PARTITIONS = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/partitions")
VERSIONS = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/versions")
CREATE_VERSION = route("POST", "/api/v1/workspaces/{workspace}/datasets/{dataset}/versions")
VERSION = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/versions/{number}")
LINEAGE = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/lineage")
REFRESH = route("POST", "/api/v1/workspaces/{workspace}/datasets/{dataset}/refresh")
DOWNLOAD = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/download")
MEDIA = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/media")
THUMBNAIL = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/media/{item}/thumbnail")
CONTENT = route("GET", "/api/v1/workspaces/{workspace}/datasets/{dataset}/media/{item}/content")

CHUNK = 1024 * 1024

JobProgress = Callable[[float | None, str], None]
"""Called with (fraction done or ``None``, a message) while a job runs."""


# -- models ----------------------------------------------------------------------------------------------


class ColumnSchema(Model):
    """One column: its name, Arrow type (as text), nullability, and whether a folder gives it."""

    name: str
    type: str
    nullable: bool = True
    partition: bool = False


class ColumnStats(Model):
    """Statistics of one column over the sample (``rows`` of them)."""

    name: str
    rows: int = 0
    nulls: int = 0
    distinct: int | None = None
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    top: list[tuple[Any, int]] | None = None
    histogram: list[tuple[float, float, int]] | None = None


class Partition(Model):
    """One partition folder: its ``key=value`` pairs, and the files and bytes under it."""

    path: str
    values: dict[str, str] = Field(default_factory=dict)
    files: int = 0
    bytes: int = 0


class PartitionInfo(Model):
    """How a dataset is partitioned (``style``: ``hive``, ``date`` or ``none``) and its partitions."""

    style: str = "none"
    keys: list[str] = Field(default_factory=list)
    partitions: list[Partition] = Field(default_factory=list)
    truncated: bool = False


class MediaItem(Model):
    """An image or video of a media dataset: metadata only (its file: :meth:`Dataset.media_content`)."""

    id: str | None = None
    path: str
    size: int = 0
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    label: str | None = None
    format: str | None = None


class Inspection(Model):
    """What a preview found (nothing is saved): format, schema, sample, statistics, partitions."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    format: str
    columns: list[ColumnSchema] = Field(default_factory=list, alias="schema")
    sample: list[dict[str, Any]] = Field(default_factory=list)
    sample_truncated: bool = False
    stats: list[ColumnStats] = Field(default_factory=list)
    partitions: PartitionInfo = Field(default_factory=PartitionInfo)
    files: int | None = None
    bytes: int | None = None
    row_count: int | None = None
    media: list[MediaItem] | None = None
    media_total: int | None = None
    warnings: list[str] = Field(default_factory=list)


class DatasetVersion(Model):
    """An immutable snapshot: a pointer with a fingerprint, or a materialised parquet copy."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str | None = None
    dataset_id: str | None = None
    number: int
    kind: str
    fingerprint: dict[str, Any] = Field(default_factory=dict)
    partitions: list[str] | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    artifact_prefix: str | None = None
    row_count: int | None = None
    bytes: int | None = None
    files: int | None = None
    columns: list[ColumnSchema] | None = Field(default=None, alias="schema")
    note: str = ""
    produced_by_job_id: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None


class LineageEdge(Model):
    """``version`` of ``dataset`` was made by job ``job_id`` from ``input_version`` of ``input_dataset``."""

    dataset: str
    version: int
    input_dataset: str
    input_version: int
    job_id: str | None = None
    created_at: datetime | None = None


class Lineage(Model):
    """Edges into a dataset's versions (``upstream``: what they were made from) and out of them."""

    upstream: list[LineageEdge] = Field(default_factory=list)
    downstream: list[LineageEdge] = Field(default_factory=list)


class Registration(Model):
    """A registration under way: the dataset's name and the ``data.register`` job doing it."""

    dataset: str
    job: Job


class Dataset(Model):
    """A registered dataset. Bound to a client, it reads its data and versions itself.

    ``columns`` is the schema; ``sample`` the first rows kept at registration; ``stats`` per-column
    statistics over the sample; ``partitions`` the partition folders found.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str
    workspace_id: str
    name: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    connection: str | None = None
    """The connection's name; ``None`` for a dataset in the workspace's own uploads."""
    connection_id: str | None = None
    source: dict[str, Any] = Field(default_factory=dict)
    format: str
    columns: list[ColumnSchema] | None = Field(default=None, alias="schema")
    partition_style: str = "none"
    partition_keys: list[str] = Field(default_factory=list)
    partition_count: int = 0
    sample_rows: list[dict[str, Any]] | None = Field(default=None, alias="sample")
    sample_truncated: bool = False
    column_stats: list[ColumnStats] | None = Field(default=None, alias="stats")
    partition_info: PartitionInfo | None = Field(default=None, alias="partitions")
    files: int | None = None
    bytes: int | None = None
    row_count: int | None = None
    media_total: int | None = None
    warnings: list[str] = Field(default_factory=list)
    current_version: int | None = None
    registered_by_job_id: str | None = None
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    sampled_at: datetime | None = None

    _api: Datasets | None = PrivateAttr(default=None)
    _workspace: str | None = PrivateAttr(default=None)
    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    def bind(self, api: Datasets, workspace: str) -> Dataset:
        """Attach the client's datasets API (done for you by every SDK call that returns a dataset)."""
        self._api, self._workspace = api, workspace
        return self

    def _bound(self) -> tuple[Datasets, str]:
        if self._api is None or self._workspace is None:
            raise RuntimeError("this Dataset is not bound to a client; get it through client.datasets")
        return self._api, self._workspace

    def _fetch(self, what: str) -> Any:
        if what not in self._cache:
            api, ws = self._bound()
            self._cache[what] = api._part(what, self.name, ws)
        return self._cache[what]

    @property
    def schema(self) -> list[ColumnSchema]:  # type: ignore[override]
        """The columns: name, Arrow type, nullability, partition flag."""
        if self.columns is not None:
            return self.columns
        return [ColumnSchema.model_validate(c) for c in _items(self._fetch("schema"), "columns", "schema")]

    @property
    def sample(self) -> list[dict[str, Any]]:
        """The first rows kept at registration (at most the server's sample size and byte cap)."""
        if self.sample_rows is not None:
            return self.sample_rows
        return list(_items(self._fetch("sample"), "rows", "sample"))

    @property
    def stats(self) -> list[ColumnStats]:
        """Per-column statistics computed over the sample."""
        if self.column_stats is not None:
            return self.column_stats
        return [ColumnStats.model_validate(s) for s in _items(self._fetch("stats"), "columns", "stats")]

    @property
    def partitions(self) -> PartitionInfo:
        """The partitions stored at registration (``partitions_live()`` lists them again)."""
        if self.partition_info is not None:
            return self.partition_info
        return PartitionInfo.model_validate(self._fetch("partitions"))

    def refresh(self) -> Dataset:
        """The dataset as the server has it now."""
        api, ws = self._bound()
        return api.get(self.name, workspace=ws)

    def versions(self) -> builtins.list[DatasetVersion]:
        """Every version, newest first."""
        api, ws = self._bound()
        return api.versions(self.name, workspace=ws)

    def create_version(
        self,
        *,
        kind: Literal["pointer", "materialized"] = "pointer",
        partitions: Sequence[str] | None = None,
        partition_filter: str | None = None,
        variables: Mapping[str, str] | None = None,
        from_version: int | None = None,
        note: str = "",
        progress: JobProgress | None = None,
    ) -> DatasetVersion:
        """A new version (see :meth:`Datasets.create_version`)."""
        api, ws = self._bound()
        return api.create_version(
            self.name,
            kind=kind,
            partitions=partitions,
            partition_filter=partition_filter,
            variables=variables,
            from_version=from_version,
            note=note,
            progress=progress,
            workspace=ws,
        )

    def lineage(self) -> Lineage:
        """Which job produced which version from which inputs."""
        api, ws = self._bound()
        return api.lineage(self.name, workspace=ws)

    def iter_batches(
        self,
        *,
        version: int | None = None,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The data as Arrow record batches, streamed from the server (one batch in memory at a time)."""
        api, ws = self._bound()
        return api.iter_batches(
            self.name,
            version=version,
            partitions=partitions,
            columns=columns,
            limit=limit,
            workspace=ws,
        )

    def to_arrow(
        self,
        *,
        version: int | None = None,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        """The data (or its first ``limit`` rows) as one Arrow table in memory."""
        api, ws = self._bound()
        return api.to_arrow(
            self.name,
            version=version,
            partitions=partitions,
            columns=columns,
            limit=limit,
            workspace=ws,
        )

    def to_pandas(
        self,
        *,
        version: int | None = None,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> Any:
        """The data (or its first ``limit`` rows) as a ``pandas.DataFrame``."""
        table = self.to_arrow(version=version, partitions=partitions, columns=columns, limit=limit)
        return table.to_pandas()

    def download(
        self,
        dest: str | os.PathLike[str],
        *,
        format: Literal["parquet", "csv", "jsonl"] = "parquet",
        version: int | None = None,
        partitions: Sequence[str] | None = None,
        limit: int | None = None,
        progress: BytesProgress | None = None,
    ) -> Path:
        """Stream the data into a file (see :meth:`Datasets.download`)."""
        api, ws = self._bound()
        return api.download(
            self.name,
            dest,
            format=format,
            version=version,
            partitions=partitions,
            limit=limit,
            progress=progress,
            workspace=ws,
        )

    def media(self, *, label: str | None = None, limit: int | None = None) -> Iterator[MediaItem]:
        """The images or videos of a media dataset (metadata), optionally of one label."""
        api, ws = self._bound()
        return api.media(self.name, label=label, limit=limit, workspace=ws)

    def thumbnail(self, item: str) -> builtins.bytes:
        """A small preview image of a media item (by its id)."""
        api, ws = self._bound()
        return api.thumbnail(self.name, item, workspace=ws)

    def media_content(self, item: str) -> builtins.bytes:
        """A media item's whole file (by its id)."""
        api, ws = self._bound()
        return api.media_content(self.name, item, workspace=ws)


# -- the resource ----------------------------------------------------------------------------------------


class Datasets(WorkspaceResource):
    """Register, list, inspect, version and read datasets."""

    def __init__(self, transport: Transport, default_workspace: Callable[[], str | None], jobs: Jobs) -> None:
        super().__init__(transport, default_workspace)
        self._jobs = jobs

    # -- registering -----------------------------------------------------------------------------------

    def preview(
        self,
        *,
        connection: str | None = None,
        path: str | None = None,
        table: str | None = None,
        query: str | None = None,
        format: str = "auto",
        partition_filter: builtins.list[str] | str | None = None,
        csv: Mapping[str, Any] | None = None,
        variables: Mapping[str, str] | None = None,
        allow_empty: bool = False,
        workspace: str | None = None,
    ) -> Inspection:
        """What registering would find (format, schema, sample, partitions), saving nothing.

        Runs on the server within its preview timeout; ``variables`` resolve a dynamic
        ``partition_filter`` (``{"ds": "2024-06-01"}``).
        """
        body = {
            "connection": connection,
            "source": _source(path, table, query, format, partition_filter, csv),
            "variables": dict(variables or {}),
            "allow_empty": allow_empty,
        }
        return Inspection.model_validate(
            self._t.call(PREVIEW, path={"workspace": self._ws(workspace)}, json=body).json()
        )

    @overload
    def register(
        self,
        name: str,
        *,
        connection: str | None = ...,
        path: str | None = ...,
        table: str | None = ...,
        query: str | None = ...,
        format: str = ...,
        partition_filter: builtins.list[str] | str | None = ...,
        csv: Mapping[str, Any] | None = ...,
        description: str = ...,
        tags: Sequence[str] = ...,
        allow_empty: bool = ...,
        wait: Literal[True] = ...,
        timeout: float | None = ...,
        progress: JobProgress | None = ...,
        workspace: str | None = ...,
    ) -> Dataset: ...

    @overload
    def register(
        self,
        name: str,
        *,
        connection: str | None = ...,
        path: str | None = ...,
        table: str | None = ...,
        query: str | None = ...,
        format: str = ...,
        partition_filter: builtins.list[str] | str | None = ...,
        csv: Mapping[str, Any] | None = ...,
        description: str = ...,
        tags: Sequence[str] = ...,
        allow_empty: bool = ...,
        wait: Literal[False],
        timeout: float | None = ...,
        progress: JobProgress | None = ...,
        workspace: str | None = ...,
    ) -> Registration: ...

    def register(
        self,
        name: str,
        *,
        connection: str | None = None,
        path: str | None = None,
        table: str | None = None,
        query: str | None = None,
        format: str = "auto",
        partition_filter: builtins.list[str] | str | None = None,
        csv: Mapping[str, Any] | None = None,
        description: str = "",
        tags: Sequence[str] = (),
        allow_empty: bool = False,
        wait: bool = True,
        timeout: float | None = None,
        progress: JobProgress | None = None,
        workspace: str | None = None,
    ) -> Dataset | Registration:
        """Register ``name``: a ``path`` (file, folder or glob) of a files connection, or a ``table`` or
        ``query`` of a tables connection. ``connection=None``: a path in the workspace's uploads.

        A ``data.register`` job checks the source, samples it and captures its schema. ``wait``
        (default): wait for it (``progress`` hears how far it is) and return the :class:`Dataset`;
        a failed job raises the error it failed with (``SourceNotFound``, ``UnreadableData``, ...).
        ``wait=False``: return the :class:`Registration` (the job) at once.
        ``partition_filter``: pinned partitions (``["dt=2024-01-01"]``) or an expression
        (``"dt=${ds}"``) resolved when the data is read.
        """
        ws = self._ws(workspace)
        body = {
            "name": name,
            "description": description,
            "tags": list(tags),
            "connection": connection,
            "source": _source(path, table, query, format, partition_filter, csv),
            "allow_empty": allow_empty,
        }
        reply = self._t.call(CREATE, path={"workspace": ws}, json=body).json()
        job = Job.model_validate(reply["job"]).bind(self._jobs)
        registration = Registration(dataset=str(reply.get("dataset") or name), job=job)
        if not wait:
            return registration
        self.wait_for_job(job, timeout=timeout, progress=progress)
        return self.get(registration.dataset, workspace=ws)

    def wait_for_job(
        self,
        job: Job,
        *,
        timeout: float | None = None,
        progress: JobProgress | None = None,
        poll: float = 0.3,
    ) -> Job:
        """Wait for a data job to finish, telling ``progress`` how far it is; a failed job raises.

        The error raised is the one the job failed with, as the same :class:`DaisError` class where
        the SDK knows it (else a plain :class:`DaisError`), with the job's id in ``extra["job_id"]``.
        """
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[float | None, str] | None = None
        while True:
            if progress is not None:
                now = (job.progress, job.progress_message or job.wait_reason or job.state)
                if now != seen:
                    progress(*now)
                    seen = now
            if job.finished:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"Job {job.id} is still {job.state} after {timeout:g} s.")
            time.sleep(poll)
            job = self._jobs.get(job.workspace_id, job.id)
        if not job.succeeded:
            raise job_error(job)
        return job

    # -- reading the catalogue ---------------------------------------------------------------------------

    def list(
        self,
        *,
        q: str | None = None,
        format: str | None = None,
        connection: str | None = None,
        limit: int | None = None,
        workspace: str | None = None,
    ) -> Iterator[Dataset]:
        """The workspace's datasets (``q``: part of the name), across all pages."""
        ws = self._ws(workspace)
        params = {"q": q, "format": format, "connection": connection}
        for item in self._t.pages(LIST, path={"workspace": ws}, params=params, limit=limit):
            yield Dataset.model_validate(item).bind(self, ws)

    def get(self, name: str, *, workspace: str | None = None) -> Dataset:
        """One dataset by name."""
        ws = self._ws(workspace)
        body = self._t.call(GET, path={"workspace": ws, "dataset": name}).json()
        return Dataset.model_validate(body).bind(self, ws)

    def update(
        self,
        name: str,
        *,
        new_name: str | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        partition_filter: builtins.list[str] | str | None = None,
        workspace: str | None = None,
    ) -> Dataset:
        """Rename a dataset or change its description, tags or partition filter (only what is given)."""
        ws = self._ws(workspace)
        body: dict[str, Any] = {}
        if new_name is not None:
            body["name"] = new_name
        if description is not None:
            body["description"] = description
        if tags is not None:
            body["tags"] = list(tags)
        if partition_filter is not None:
            body["partition_filter"] = partition_filter
        reply = self._t.call(UPDATE, path={"workspace": ws, "dataset": name}, json=body).json()
        return Dataset.model_validate(reply).bind(self, ws)

    def delete(self, name: str, *, workspace: str | None = None) -> None:
        """Forget a dataset (its versions and media index); the data at the source is untouched."""
        self._t.call(DELETE, path={"workspace": self._ws(workspace), "dataset": name})

    def partitions(self, name: str, *, live: bool = False, workspace: str | None = None) -> PartitionInfo:
        """The dataset's partitions (``live``: listed again from the source now)."""
        body = self._t.call(
            PARTITIONS, path={"workspace": self._ws(workspace), "dataset": name}, params={"live": live}
        ).json()
        return PartitionInfo.model_validate(body)

    def _part(self, what: str, name: str, workspace: str) -> Any:
        route_of = {"schema": SCHEMA, "sample": SAMPLE, "stats": STATS, "partitions": PARTITIONS}[what]
        return self._t.call(route_of, path={"workspace": workspace, "dataset": name}).json()

    # -- versions ----------------------------------------------------------------------------------------

    def versions(self, name: str, *, workspace: str | None = None) -> builtins.list[DatasetVersion]:
        """Every version of the dataset, newest first."""
        path = {"workspace": self._ws(workspace), "dataset": name}
        return [DatasetVersion.model_validate(v) for v in self._t.pages(VERSIONS, path=path)]

    def version(self, name: str, number: int, *, workspace: str | None = None) -> DatasetVersion:
        """One version by number."""
        path = {"workspace": self._ws(workspace), "dataset": name, "number": str(number)}
        return DatasetVersion.model_validate(self._t.call(VERSION, path=path).json())

    def create_version(
        self,
        name: str,
        *,
        kind: Literal["pointer", "materialized"] = "pointer",
        partitions: Sequence[str] | None = None,
        partition_filter: str | None = None,
        variables: Mapping[str, str] | None = None,
        from_version: int | None = None,
        note: str = "",
        timeout: float | None = None,
        progress: JobProgress | None = None,
        workspace: str | None = None,
    ) -> DatasetVersion:
        """A new version: a ``pointer`` (a fingerprint of the source as it is now, made at once) or a
        ``materialized`` parquet copy in the artifact store (a ``data.materialize`` job, waited for;
        ``progress`` hears how far it is).

        ``partitions`` pins partitions; ``partition_filter`` (``"dt=${ds}"``) with ``variables``
        (``{"ds": "2024-06-01"}``) picks them by expression, resolved now. ``from_version``: the
        version a materialised copy reads (default: the current one).
        """
        ws = self._ws(workspace)
        body: dict[str, Any] = {"kind": kind, "note": note, "variables": dict(variables or {})}
        if partitions is not None:
            body["partitions"] = list(partitions)
        if partition_filter is not None:
            body["partition_filter"] = partition_filter
        if from_version is not None:
            body["from_version"] = from_version
        reply = self._t.call(CREATE_VERSION, path={"workspace": ws, "dataset": name}, json=body).json()
        if "job" not in reply:
            return DatasetVersion.model_validate(reply)
        job = Job.model_validate(reply["job"]).bind(self._jobs)
        done = self.wait_for_job(job, timeout=timeout, progress=progress)
        number = (done.result or {}).get("version")
        if number is not None:
            return self.version(name, int(number), workspace=ws)
        return self.versions(name, workspace=ws)[0]

    def lineage(self, name: str, *, workspace: str | None = None) -> Lineage:
        """Which job produced which version from which inputs."""
        body = self._t.call(LINEAGE, path={"workspace": self._ws(workspace), "dataset": name}).json()
        return Lineage.model_validate(body)

    def refresh(
        self,
        name: str,
        *,
        wait: bool = True,
        timeout: float | None = None,
        progress: JobProgress | None = None,
        workspace: str | None = None,
    ) -> Dataset:
        """Sample and inspect the source again (a ``data.refresh`` job); a new version if it changed."""
        ws = self._ws(workspace)
        reply = self._t.call(REFRESH, path={"workspace": ws, "dataset": name}).json()
        job = Job.model_validate(reply.get("job", reply)).bind(self._jobs)
        if wait:
            self.wait_for_job(job, timeout=timeout, progress=progress)
        return self.get(name, workspace=ws)

    # -- reading the data --------------------------------------------------------------------------------

    def _download_params(
        self,
        fmt: str,
        version: int | None,
        partitions: Sequence[str] | None,
        columns: Sequence[str] | None,
        limit: int | None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"format": fmt, "version": version, "limit": limit}
        if partitions:
            params["partitions"] = list(partitions)
        if columns:
            params["columns"] = list(columns)
        return params

    def iter_batches(
        self,
        name: str,
        *,
        version: int | None = None,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        workspace: str | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The dataset's rows as Arrow record batches, streamed (an Arrow IPC stream from the server).

        Memory stays bounded by one batch however large the dataset. ``version``: a version number
        (default: the current one, whose partitions it reads); ``partitions``: only these;
        ``columns``: only these; ``limit``: at most this many rows.
        """
        import pyarrow as pa

        params = self._download_params("arrow", version, partitions, columns, limit)
        path = {"workspace": self._ws(workspace), "dataset": name}
        with self._t.stream(DOWNLOAD, path=path, params=params) as r:
            raw = _ChunksReader(r.iter_bytes(CHUNK))
            reader = pa.ipc.open_stream(io.BufferedReader(raw, CHUNK))
            yield from reader

    def to_arrow(
        self,
        name: str,
        *,
        version: int | None = None,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        workspace: str | None = None,
    ) -> pa.Table:
        """The dataset's rows as one Arrow table (all in memory: give ``limit`` for a taste)."""
        import pyarrow as pa

        params = self._download_params("arrow", version, partitions, columns, limit)
        path = {"workspace": self._ws(workspace), "dataset": name}
        with self._t.stream(DOWNLOAD, path=path, params=params) as r:
            reader = pa.ipc.open_stream(io.BufferedReader(_ChunksReader(r.iter_bytes(CHUNK)), CHUNK))
            return reader.read_all()

    def to_pandas(
        self,
        name: str,
        *,
        version: int | None = None,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        workspace: str | None = None,
    ) -> Any:
        """The dataset's rows as a ``pandas.DataFrame`` (all in memory: give ``limit`` for a taste)."""
        table = self.to_arrow(
            name,
            version=version,
            partitions=partitions,
            columns=columns,
            limit=limit,
            workspace=workspace,
        )
        return table.to_pandas()

    def download(
        self,
        name: str,
        dest: str | os.PathLike[str],
        *,
        format: Literal["parquet", "csv", "jsonl", "arrow"] = "parquet",
        version: int | None = None,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        progress: BytesProgress | None = None,
        workspace: str | None = None,
    ) -> Path:
        """Stream the dataset into a file (``dest``: a file, or a folder for ``<name>.<format>``).

        The file appears complete or not at all. ``progress`` hears the bytes written so far (the
        total is unknown: the server converts as it sends).
        """
        target = Path(dest)
        if target.is_dir():
            target = target / f"{name}.{format}"
        tmp = target.with_name(f".{target.name}.part")
        params = self._download_params(format, version, partitions, columns, limit)
        path = {"workspace": self._ws(workspace), "dataset": name}
        try:
            with self._t.stream(DOWNLOAD, path=path, params=params) as r, tmp.open("wb") as fh:
                length = r.headers.get("content-length")
                total = int(length) if length else None
                done = 0
                if progress:
                    progress(0, total)
                for chunk in r.iter_bytes(CHUNK):
                    fh.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    # -- media -------------------------------------------------------------------------------------------

    def media(
        self, name: str, *, label: str | None = None, limit: int | None = None, workspace: str | None = None
    ) -> Iterator[MediaItem]:
        """The items of a media dataset (metadata only), optionally of one ``label``."""
        path = {"workspace": self._ws(workspace), "dataset": name}
        for item in self._t.pages(MEDIA, path=path, params={"label": label}, limit=limit):
            yield MediaItem.model_validate(item)

    def thumbnail(self, name: str, item: str, *, workspace: str | None = None) -> bytes:
        """A small preview image of a media item."""
        path = {"workspace": self._ws(workspace), "dataset": name, "item": item}
        return self._t.call(THUMBNAIL, path=path).content

    def media_content(self, name: str, item: str, *, workspace: str | None = None) -> bytes:
        """A media item's whole file."""
        path = {"workspace": self._ws(workspace), "dataset": name, "item": item}
        with self._t.stream(CONTENT, path=path) as r:
            return b"".join(r.iter_bytes(CHUNK))


# -- helpers ---------------------------------------------------------------------------------------------


def _source(
    path: str | None,
    table: str | None,
    query: str | None,
    fmt: str,
    partition_filter: builtins.list[str] | str | None,
    csv: Mapping[str, Any] | None,
) -> dict[str, Any]:
    given = [k for k, v in (("path", path), ("table", table), ("query", query)) if v is not None]
    if len(given) != 1:
        from dais.core.errors import InvalidInput

        raise InvalidInput(f"Give exactly one of path, table or query (got {', '.join(given) or 'none'}).")
    source: dict[str, Any] = {"path": path, "table": table, "query": query, "format": fmt}
    if partition_filter is not None:
        source["partition_filter"] = partition_filter
    if csv is not None:
        source["csv"] = dict(csv)
    return {k: v for k, v in source.items() if v is not None}


def _items(body: Any, *keys: str) -> builtins.list[Any]:
    """A reply's list, whether bare or under one of ``keys``."""
    if isinstance(body, dict):
        for key in keys:
            if isinstance(body.get(key), list):
                return list(body[key])
        return []
    return list(body or [])


def _known_errors() -> dict[str, type[DaisError]]:
    """Every DaisError class loaded in this process, by class name."""
    out: dict[str, type[DaisError]] = {}
    todo: builtins.list[type[DaisError]] = [DaisError]
    while todo:
        cls = todo.pop()
        out.setdefault(cls.__name__, cls)
        todo.extend(cls.__subclasses__())
    return out


def job_error(job: Job) -> DaisError:
    """The error a failed data job ended with, as the :class:`DaisError` class it names if known.

    A job records ``"ClassName: message"``; a cancelled or upstream-failed job gets a plain error.
    """
    text = job.error or f"Job {job.id} ended {job.state}."
    cls_name, sep, detail = text.partition(": ")
    cls = _known_errors().get(cls_name) if sep else None
    if cls is None:
        return DaisError(text, job_id=job.id, job_state=job.state)
    return cls(detail, job_id=job.id, job_state=job.state)


class _ChunksReader(io.RawIOBase):
    """A readable file over an iterator of byte chunks (for pyarrow's stream reader)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._left:
            try:
                self._left = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(view), len(self._left))
        view[:n] = self._left[:n]
        self._left = self._left[n:]
        return n
