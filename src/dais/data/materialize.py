"""Materialising a dataset: a streaming parquet copy (used for materialised versions in the artifact
store). Batches go through bounded row groups into rolling files; memory stays bounded whatever the
dataset's size."""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dais.data.reader import DataReader

#: Rows gathered before a row group is written (fewer when the bytes cap comes first).
ROW_GROUP_ROWS = 1_000_000
ROW_GROUP_BYTES = 128 * 1024 * 1024
#: Seconds between progress reports.
PROGRESS_EVERY_S = 1.0


class _Files:
    """Rolling parquet files ``part-00000.parquet``, ``part-00001.parquet``... under a folder."""

    def __init__(self, fs: pafs.FileSystem, base_path: str, schema: pa.Schema) -> None:
        self.fs, self.base, self.schema = fs, base_path.rstrip("/"), schema
        self.paths: list[str] = []
        self.rows_in_file = 0
        self._stream: Any = None
        self._writer: pq.ParquetWriter | None = None

    def open(self) -> pq.ParquetWriter:
        if self._writer is None:
            path = posixpath.join(self.base, f"part-{len(self.paths):05d}.parquet")
            self._stream = self.fs.open_output_stream(path)
            self._writer = pq.ParquetWriter(self._stream, self.schema, compression="zstd")
            self.paths.append(path)
            self.rows_in_file = 0
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._stream.close()
            self._writer = self._stream = None
        self.rows_in_file = 0


def write_parquet(
    reader: DataReader,
    fs: pafs.FileSystem,
    base_path: str,
    *,
    progress: Callable[[float | None, str], None] | None = None,
    max_rows_per_file: int = 5_000_000,
) -> dict[str, Any]:
    """Write ``reader``'s rows as parquet files under ``base_path``; ``{files, rows, bytes, schema}``.

    ``files`` lists the written paths; ``schema`` is a list of ``{name, type, nullable}``. A dataset
    with no rows still gets one (empty) file, so the copy can be read back with its schema.
    """
    schema = reader.schema
    out = _Files(fs, base_path, schema)
    pending: list[pa.RecordBatch] = []
    pending_rows = pending_bytes = rows = 0
    fs.create_dir(base_path.rstrip("/"), recursive=True)
    next_report = 0.0

    def flush() -> None:
        nonlocal pending, pending_rows, pending_bytes
        if pending_rows:
            out.open().write_table(pa.Table.from_batches(pending, schema=schema), row_group_size=pending_rows)
            out.rows_in_file += pending_rows
        pending, pending_rows, pending_bytes = [], 0, 0

    try:
        for batch in reader.batches():
            while batch.num_rows:
                room = max_rows_per_file - out.rows_in_file - pending_rows
                part, batch = batch.slice(0, room), batch.slice(room)
                pending.append(part)
                pending_rows += part.num_rows
                pending_bytes += part.nbytes
                rows += part.num_rows
                if pending_rows >= ROW_GROUP_ROWS or pending_bytes >= ROW_GROUP_BYTES:
                    flush()
                if out.rows_in_file + pending_rows >= max_rows_per_file:
                    flush()
                    out.close()
            if progress is not None and time.monotonic() >= next_report:
                progress(None, f"{rows:,} rows written")
                next_report = time.monotonic() + PROGRESS_EVERY_S
        flush()
        if progress is not None:
            progress(None, f"{rows:,} rows written")
        if not out.paths:
            out.open()
        out.close()
    finally:
        out.close()
    infos = fs.get_file_info(out.paths)
    return {
        "files": out.paths,
        "rows": rows,
        "bytes": sum(i.size or 0 for i in infos),
        "schema": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema],
    }
