"""Inspecting a source: the three registration steps, reading only metadata and a bounded sample.

1. The source exists and is readable (else :class:`SourceNotFound`, :class:`SourceAccessDenied`,
   :class:`~dais.core.errors.UnsafePath`).
2. A sample: the first rows up to ``sample_rows`` and ``sample_max_bytes`` (parquet: the first pages
   of one row group of one file).
3. The schema (partition columns marked), statistics over the sample, partitions with file counts and
   sizes, file and byte totals, the row count where footers give it, and a content fingerprint.

Media datasets instead probe each image/video header (size, duration; label = parent folder) up to
``media_limit`` items. Every source call is bounded by ``timeout_s``.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.fs as pafs

from dais.core.errors import DaisError, InvalidInput
from dais.data.connectors.base import (
    Connector,
    FilesConnector,
    SourceTimeout,
    TablesConnector,
    UnreadableData,
)
from dais.data.connectors.calls import run_with_timeout
from dais.data.file_reader import FilesSource, files_reader, pick_partitions, resolve_files
from dais.data.fingerprint import files_fingerprint
from dais.data.media import label_of, probe
from dais.data.partitions import is_dynamic, partition_types
from dais.data.profile import profile_table, sample_records
from dais.data.reader import describe
from dais.data.source import MEDIA_FORMATS, ColumnSchema, Inspection, MediaItem, SourceSpec
from dais.data.streams import DataReader
from dais.data.table_reader import TableReader, tables_reader

Progress = Callable[[float | None, str], None]
T = TypeVar("T")
_PROBE_THREADS = 8


def _bounded(fn: Callable[[], T], timeout_s: float, what: str) -> T:
    return run_with_timeout(fn, timeout_s, what)


def _columns(schema: pa.Schema, partition_columns: set[str]) -> list[ColumnSchema]:
    return [
        ColumnSchema(
            name=f.name, type=str(f.type), nullable=f.nullable, partition=f.name in partition_columns
        )
        for f in schema
    ]


def inspect_source(
    connector: Connector,
    source: SourceSpec,
    *,
    sample_rows: int,
    sample_max_bytes: int,
    timeout_s: float,
    variables: dict[str, str] | None = None,
    media_limit: int = 100_000,
    progress: Progress | None = None,
    allow_empty: bool = False,
) -> Inspection:
    """What a source holds: format, schema, sample, stats, partitions, totals, fingerprint.

    An empty source (0 bytes or 0 rows) raises :class:`UnreadableData` unless ``allow_empty``.
    A dynamic ``partition_filter`` is resolved with ``variables``; without them the sample comes
    from all partitions (with a warning).
    """

    def report(fraction: float | None, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    what = describe(source)
    if isinstance(connector, TablesConnector):
        return _inspect_table(
            connector, source, what, sample_rows, sample_max_bytes, timeout_s, variables, report, allow_empty
        )
    if not isinstance(connector, FilesConnector):
        raise InvalidInput(f"The connector {connector.name!r} reads neither files nor tables.")
    if source.path is None:
        raise InvalidInput("A files connection needs a path.")

    report(0.0, f"Listing {what}")
    fs = _bounded(lambda: connector.filesystem(timeout_s), timeout_s, f"Connecting for {what}")
    src = _bounded(lambda: resolve_files(connector, fs, source, what), timeout_s, f"Listing {what}")
    warnings = list(src.warnings)
    nonempty = [f for f in src.files if (f.size or 0) > 0]
    if not nonempty:
        if not allow_empty:
            raise UnreadableData(f"{what} is empty: nothing to register.")
        return Inspection(
            format=src.format, schema_=[], sample=[], partitions=src.partitions, files=len(src.files),
            bytes=0, row_count=0, fingerprint=files_fingerprint(fs, src.files), warnings=warnings,
        )  # fmt: skip
    if len(nonempty) < len(src.files):
        warnings.append(f"{len(src.files) - len(nonempty)} empty file(s) left out.")
        src.files = nonempty
    fingerprint = files_fingerprint(fs, src.files)
    totals: dict[str, Any] = {"files": len(src.files), "bytes": sum(f.size or 0 for f in src.files)}

    if src.format in MEDIA_FORMATS:
        return _inspect_media(
            connector,
            src,
            fs,
            sample_rows,
            sample_max_bytes,
            timeout_s,
            media_limit,
            report,
            warnings,
            fingerprint,
            totals,
        )

    if source.partition_filter is not None:
        if is_dynamic(source.partition_filter) and not variables:
            warnings.append(
                "The partition filter has variables, resolved at read time: "
                "the sample comes from all partitions."
            )
        else:
            pick_partitions(src, None, source.partition_filter, variables)

    report(0.2, f"Reading the schema of {what}")
    reader = _bounded(lambda: files_reader(connector, src, source, what), timeout_s, f"Opening {what}")
    report(0.4, f"Sampling {what}")
    table = _bounded(lambda: reader.head(sample_rows), timeout_s, f"Sampling {what}")
    report(0.7, f"Counting rows of {what}")
    row_count = _bounded(reader.cheap_row_count, timeout_s, f"Counting rows of {what}")
    _check_rows(table, row_count, what, allow_empty)
    partition_columns = set(partition_types(src.partitions))
    return _finish(reader, table, sample_max_bytes, partition_columns, report,
                   partitions=src.partitions, row_count=row_count, fingerprint=fingerprint, warnings=warnings,
                   **totals)  # fmt: skip


def _check_rows(table: pa.Table, row_count: int | None, what: str, allow_empty: bool) -> None:
    if table.num_rows == 0 and not row_count and not allow_empty:
        raise UnreadableData(f"{what} is empty: nothing to register (0 rows).")


def _finish(
    reader: DataReader,
    table: pa.Table,
    sample_max_bytes: int,
    partition_columns: set[str],
    report: Progress,
    **fields: Any,
) -> Inspection:
    records, truncated = sample_records(table, sample_max_bytes)
    report(0.9, "Computing column statistics")
    inspection = Inspection(
        format=reader.format,
        schema_=_columns(reader.schema, partition_columns),
        sample=records,
        sample_truncated=truncated,
        stats=profile_table(table),
        **fields,
    )
    report(1.0, "Inspected")
    return inspection


def _inspect_table(
    connector: TablesConnector,
    source: SourceSpec,
    what: str,
    sample_rows: int,
    sample_max_bytes: int,
    timeout_s: float,
    variables: dict[str, str] | None,
    report: Progress,
    allow_empty: bool,
) -> Inspection:
    report(0.0, f"Reading the schema of {what}")
    reader = _bounded(
        lambda: tables_reader(connector, source, variables, timeout_s), timeout_s, f"Opening {what}"
    )
    assert isinstance(reader, TableReader)
    report(0.3, f"Sampling {what}")
    table = _bounded(lambda: reader.head(sample_rows), timeout_s, f"Sampling {what}")
    report(0.6, f"Counting rows of {what}")
    row_count = _bounded(reader.cheap_row_count, timeout_s, f"Counting rows of {what}")
    _check_rows(table, row_count, what, allow_empty)
    fingerprint = _bounded(
        lambda: connector.fingerprint(
            table=reader.table, query=reader.query, update_column=source.update_column, timeout_s=timeout_s
        ),
        timeout_s,
        f"Fingerprinting {what}",
    )
    return _finish(
        reader, table, sample_max_bytes, set(), report, row_count=row_count, fingerprint=fingerprint
    )


def _inspect_media(
    connector: FilesConnector,
    src: FilesSource,
    fs: pafs.FileSystem,
    sample_rows: int,
    sample_max_bytes: int,
    timeout_s: float,
    media_limit: int,
    report: Progress,
    warnings: list[str],
    fingerprint: dict[str, Any],
    totals: dict[str, Any],
) -> Inspection:
    files = src.files[:media_limit]
    if len(src.files) > media_limit:
        warnings.append(f"Only the first {media_limit} of {len(src.files)} media files were probed.")
    items: list[MediaItem | None] = [None] * len(files)
    unreadable: list[str] = []

    def one(i: int) -> None:
        f = files[i]
        rel = connector.relative(f.path)
        label = label_of(src.relative(f))
        try:
            item = probe(fs, f.path, size=f.size)
        except UnreadableData:
            unreadable.append(rel)
            item = MediaItem(path=rel, size=f.size or 0, format=src.relative(f).rsplit(".", 1)[-1].lower())
        items[i] = item.model_copy(update={"path": rel, "label": label})

    pool = cf.ThreadPoolExecutor(max_workers=_PROBE_THREADS, thread_name_prefix="dais-probe")
    try:
        futures = [pool.submit(one, i) for i in range(len(files))]
        step = max(1, len(files) // 100)
        for done, future in enumerate(futures, 1):
            try:
                future.result(timeout=timeout_s)
            except cf.TimeoutError as exc:
                raise SourceTimeout(
                    f"Probing {files[done - 1].path}: no answer within {timeout_s:g} s."
                ) from exc
            except DaisError:
                raise
            if done % step == 0:
                report(0.1 + 0.8 * done / len(files), f"Probed {done} of {len(files)} media files")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if unreadable:
        shown = ", ".join(unreadable[:3]) + (" ..." if len(unreadable) > 3 else "")
        warnings.append(f"{len(unreadable)} media file(s) could not be read: {shown}")
    media = [i for i in items if i is not None]
    table = pa.Table.from_pylist([m.model_dump() for m in media], schema=_MEDIA_ARROW)
    records, truncated = sample_records(table.slice(0, sample_rows), sample_max_bytes)
    inspection = Inspection(
        format=src.format,
        schema_=_columns(_MEDIA_ARROW, set()),
        sample=records,
        sample_truncated=truncated,
        stats=profile_table(table.drop_columns(["path"])),
        partitions=src.partitions,
        fingerprint=fingerprint,
        media=media,
        media_total=len(src.files),
        warnings=warnings,
        **totals,
    )
    report(1.0, "Inspected")
    return inspection


_MEDIA_ARROW = pa.schema(
    [
        ("path", pa.string()),
        ("size", pa.int64()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("duration_s", pa.float64()),
        ("label", pa.string()),
        ("format", pa.string()),
    ]
)
