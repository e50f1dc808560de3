"""Calls to a dataset's source made on behalf of the API and the jobs, each bounded by a timeout.

The API calls these from worker threads (never on the event loop), through
:func:`dais.data.connectors.run_with_timeout`, so a source that stops answering costs the caller
at most its timeout and never holds up other requests.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from dais.core.errors import InvalidInput
from dais.core.settings import Settings
from dais.data.connectors import Connector, FilesConnector, TablesConnector, run_with_timeout
from dais.data.models import DataConnection, Dataset, DatasetVersion
from dais.data.source import DataFormat, Inspection, PartitionInfo, SourceSpec

if TYPE_CHECKING:
    import pyarrow as pa

    from dais.data.reader import DataReader


def artifacts_connector(settings: Settings, workspace_id: str) -> FilesConnector:
    """The workspace's own area of the artifact store (uploads, materialised versions)."""
    from dais.data.connectors.artifacts import ArtifactsConnector

    return ArtifactsConnector.for_workspace(settings, workspace_id)


def connector_of(session: Session, ds: Dataset, settings: Settings) -> Connector:
    """A connector for where ``ds`` points (its connection, or the workspace's uploads area)."""
    from dais.data.service import connector_for

    if ds.connection_id is None:
        return artifacts_connector(settings, ds.workspace_id)
    conn = session.get(DataConnection, ds.connection_id)
    if conn is None or conn.workspace_id != ds.workspace_id:
        raise InvalidInput(f"Dataset {ds.name!r} lost its connection; register it again.")
    return connector_for(conn, settings)


def schema_columns(schema: Any) -> list[dict[str, Any]] | None:
    """Columns as stored (``ColumnSchema`` dicts) from an Arrow schema or a list of columns."""
    if schema is None:
        return None
    if isinstance(schema, list):
        return [c if isinstance(c, dict) else c.model_dump(mode="json") for c in schema]
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable, "partition": False} for f in schema]


# -- preview, live partitions, fingerprints ----------------------------------------------------------


def preview(
    connector: Connector,
    source: SourceSpec,
    settings: Settings,
    *,
    variables: dict[str, str],
    allow_empty: bool,
) -> Inspection:
    """What registering ``source`` would find, bounded by ``preview_timeout_s``; persists nothing."""
    from dais.data.inspect import inspect_source

    timeout = settings.data.preview_timeout_s

    def run() -> Inspection:
        return inspect_source(
            connector,
            source,
            sample_rows=settings.data.sample_rows,
            sample_max_bytes=settings.data.sample_max_bytes,
            timeout_s=timeout,
            variables=variables or None,
            allow_empty=allow_empty,
        )

    try:
        return run_with_timeout(run, timeout, f"Previewing {_what(source)}")
    finally:
        connector.close()


def _what(source: SourceSpec) -> str:
    if source.path is not None:
        return source.path or "the connection's root"
    return source.table or "the query"


def _files(connector: FilesConnector, path: str, timeout_s: float) -> tuple[Any, Any]:
    from dais.data.listing import list_files

    fs = connector.filesystem(timeout_s)
    return fs, list_files(connector, fs, path)


def live_partitions(connector: Connector, source: SourceSpec, timeout_s: float) -> PartitionInfo:
    """List a files dataset's partitions again from the source (tables have none)."""
    from dais.data.partitions import detect_partitions

    if not isinstance(connector, FilesConnector) or source.path is None:
        return PartitionInfo(style="none")
    path = source.path

    def run() -> PartitionInfo:
        _, listing = _files(connector, path, timeout_s)
        if listing.single_file:
            return PartitionInfo(style="none")
        return detect_partitions((listing.relative(f), f.size or 0) for f in listing.files)

    try:
        return run_with_timeout(run, timeout_s, f"Listing the partitions of {path}")
    finally:
        connector.close()


def fingerprint(
    connector: Connector, source: SourceSpec, partitions: list[str] | None, timeout_s: float
) -> dict[str, Any]:
    """What identifies the content now: files' sizes, mtimes/ETags (files) or row count and
    ``max(update_column)`` (tables), restricted to ``partitions`` when given."""
    from dais.data.fingerprint import files_fingerprint

    def run() -> dict[str, Any]:
        if isinstance(connector, TablesConnector):
            return connector.fingerprint(
                table=source.table,
                query=source.query,
                update_column=source.update_column,
                timeout_s=timeout_s,
            )
        fs, listing = _files(files_connector(connector), source.path or "", timeout_s)
        infos = listing.files
        if partitions is not None:
            wanted = [p.strip("/") for p in partitions]
            infos = [
                f
                for f in infos
                if any(listing.relative(f) == w or listing.relative(f).startswith(w + "/") for w in wanted)
            ]
        return dict(files_fingerprint(fs, infos))

    try:
        return run_with_timeout(run, timeout_s, f"Fingerprinting {_what(source)}")
    finally:
        connector.close()


def resolve_partitions(
    info: PartitionInfo,
    *,
    pinned: list[str] | None,
    expression: list[str] | str | None,
    variables: dict[str, str],
) -> list[str] | None:
    """The partition paths a version covers: pinned ones, or an expression resolved now (``None``: all)."""
    from dais.data.partitions import select_partitions

    if pinned is not None and expression is not None:
        raise InvalidInput(
            "Give pinned `partitions` or a `partition_filter` expression, not both.",
            errors=[{"loc": ["body", "partitions"], "msg": "not with partition_filter"}],
        )
    wanted = pinned if pinned is not None else expression
    if wanted is None:
        return None
    if info.style == "none":
        raise InvalidInput(
            "This dataset has no partitions to pick from.",
            errors=[{"loc": ["body", "partitions"], "msg": "no partitions"}],
        )
    return [p.path for p in select_partitions(info, wanted, variables)]


# -- reading a version -------------------------------------------------------------------------------


@dataclass
class OpenedVersion:
    """How to read one version: the connector, the source, and the partitions and variables."""

    connector: Connector
    source: SourceSpec
    partitions: list[str] | None
    variables: dict[str, str] = field(default_factory=dict)

    def open(self, timeout_s: float) -> DataReader:
        from dais.data.reader import open_dataset

        return run_with_timeout(
            lambda: open_dataset(
                self.connector,
                self.source,
                partitions=self.partitions,
                variables=self.variables or None,
                timeout_s=timeout_s,
            ),
            timeout_s,
            f"Opening {_what(self.source)}",
        )


def open_version(
    session: Session,
    ds: Dataset,
    version: DatasetVersion,
    settings: Settings,
    *,
    partitions: list[str] | None = None,
    partition_filter: str | None = None,
    variables: dict[str, str] | None = None,
) -> OpenedVersion:
    """What reading ``version`` of ``ds`` takes (touches no source yet).

    A materialised version reads its parquet copy; a pointer version reads the source, limited to
    the partitions it pinned unless others are asked for.
    """
    variables = dict(variables or {})
    if version.kind == "materialized" and version.artifact_prefix:
        if partitions is not None or partition_filter is not None:
            raise InvalidInput(
                f"Version {version.number} is a materialised copy: its partitions were fixed when written.",
                errors=[{"loc": ["body", "partitions"], "msg": "not for materialised versions"}],
            )
        source = SourceSpec(path=version.artifact_prefix, format=DataFormat.parquet)
        return OpenedVersion(artifacts_connector(settings, ds.workspace_id), source, None)
    source = SourceSpec.model_validate(ds.source)
    info = PartitionInfo.model_validate(ds.partitions or {"style": "none"})
    chosen = resolve_partitions(info, pinned=partitions, expression=partition_filter, variables=variables)
    if chosen is None:
        chosen = list(version.partitions) if version.partitions is not None else None
        variables = {**dict(version.variables or {}), **variables}
    return OpenedVersion(connector_of(session, ds, settings), source, chosen, variables)


# -- downloads ---------------------------------------------------------------------------------------

DOWNLOAD_TYPES = {
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "jsonl": ("application/x-ndjson", "jsonl"),
    "arrow": ("application/vnd.apache.arrow.stream", "arrows"),
}


class _Drain:
    """A write-only file that hands out what was written so far (for streaming writers)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        b = bytes(data)
        self.chunks.append(b)
        self.position += len(b)
        return len(b)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        return

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def encode_batches(batches: pa.RecordBatchReader, fmt: str) -> Iterator[bytes]:
    """``batches`` written as ``fmt`` (parquet, csv, jsonl, arrow), a chunk per batch: never all at once."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    schema = batches.schema
    if fmt == "jsonl":
        for batch in batches:
            lines = [json.dumps(row, default=str, ensure_ascii=False) for row in batch.to_pylist()]
            if lines:
                yield ("\n".join(lines) + "\n").encode()
        return
    drain = _Drain()
    sink = pa.PythonFile(drain, mode="w")
    writer: Any
    if fmt == "csv":
        writer = pacsv.CSVWriter(sink, schema)
    elif fmt == "arrow":
        writer = pa.ipc.new_stream(sink, schema)
    else:
        writer = pq.ParquetWriter(sink, schema)
    try:
        for batch in batches:
            if fmt == "parquet":
                writer.write_table(pa.Table.from_batches([batch], schema=schema))
            else:
                writer.write_batch(batch)
            chunk = drain.take()
            if chunk:
                yield chunk
    finally:
        writer.close()
    tail = drain.take()
    if tail:
        yield tail


# -- media -------------------------------------------------------------------------------------------


def files_connector(connector: Connector) -> FilesConnector:
    if not isinstance(connector, FilesConnector):
        raise InvalidInput(f"This needs a files connection; {connector.name!r} connections hold tables.")
    return connector


def media_path(connector: FilesConnector, path: str) -> str:
    """The filesystem path of a media item (relative to the connection's root), checked."""
    return connector.guard(connector.resolve(path))


def thumbnail(connector: Connector, path: str, max_px: int, timeout_s: float) -> tuple[bytes, str]:
    from dais.data import media

    files = files_connector(connector)

    def run() -> tuple[bytes, str]:
        return media.thumbnail(files.filesystem(timeout_s), media_path(files, path), max_px)

    try:
        return run_with_timeout(run, timeout_s, f"Making a thumbnail of {posixpath.basename(path)}")
    finally:
        connector.close()


def media_size(connector: Connector, path: str, timeout_s: float) -> tuple[Any, str, int]:
    """The filesystem, the resolved path and the size of a media file."""
    import pyarrow.fs as pafs

    from dais.data.connectors import SourceNotFound

    files = files_connector(connector)

    def run() -> tuple[Any, str, int]:
        fs = files.filesystem(timeout_s)
        resolved = media_path(files, path)
        info = fs.get_file_info(resolved)
        if info.type != pafs.FileType.File:
            raise SourceNotFound(f"{path} is no longer at the source.")
        return fs, resolved, int(info.size or 0)

    return run_with_timeout(run, timeout_s, f"Finding {posixpath.basename(path)}")


def read_range(fs: Any, path: str, start: int, end: int, chunk: int = 256 * 1024) -> Iterator[bytes]:
    """Bytes ``[start, end)`` of a file, in chunks."""
    with fs.open_input_file(path) as f:
        f.seek(start)
        left = end - start
        while left > 0:
            data = f.read(min(chunk, left))
            if not data:
                break
            left -= len(data)
            yield bytes(data)
