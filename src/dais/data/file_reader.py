"""Files datasets: list a source, choose its format and partitions, and read it.

Parquet, CSV, JSON lines and Arrow IPC become a ``pyarrow.dataset`` built from the listing (one
fragment per file, with no extra request per file; partition values from ``key=value`` folders as
columns), so DuckDB and Arrow push projections and filters down. JSON arrays, text lines and media
listings stream through generators.
"""

from __future__ import annotations

import concurrent.futures as cf
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dais.core.errors import DaisError, InvalidInput
from dais.data.connectors.base import Connector, FilesConnector, UnreadableData
from dais.data.formats import DATASET_FORMATS, choose_format
from dais.data.formats import csv as csvfmt
from dais.data.formats import json as jsonfmt
from dais.data.formats import text as textfmt
from dais.data.listing import Listing, guarded, list_files
from dais.data.partitions import HIVE_NULL, detect_partitions, partition_types, select_partitions
from dais.data.source import DataFormat, Partition, PartitionInfo, SourceSpec
from dais.data.streams import DataReader, StreamReader, limited

if TYPE_CHECKING:
    import duckdb

#: Threads reading parquet/Arrow footers at once (S3: requests in flight).
FOOTER_THREADS = 32
#: Read size while sampling a parquet file page by page: the first pages of each column.
SAMPLE_BUFFER_BYTES = 1024 * 1024
#: A first row group up to this size (uncompressed) is sampled with whole, coalesced reads.
SAMPLE_PREBUFFER_BYTES = 64 * 1024 * 1024

MEDIA_SCHEMA = pa.schema(
    [("path", pa.string()), ("size", pa.int64()), ("label", pa.string()), ("format", pa.string())]
)


class ArrowDatasetReader(DataReader):
    """Parquet, CSV, JSON lines and Arrow IPC files through ``pyarrow.dataset``."""

    def __init__(
        self,
        dataset: ds.FileSystemDataset,
        fmt: DataFormat,
        what: str,
        connector: Connector | None,
        dialect: csvfmt.CsvDialect | None = None,
    ) -> None:
        super().__init__(what, connector)
        self.dataset = dataset
        self.schema = dataset.schema
        self.format = fmt
        self.dialect = dialect

    def _explain(self, exc: BaseException) -> DaisError | None:
        return self.dialect.explain(exc, self.what) if self.dialect is not None else None

    def _batches(self, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
        scanner = self.dataset.scanner(columns=columns, batch_size=batch_rows)
        yield from scanner.to_batches()

    def head(self, rows: int) -> pa.Table:
        """The first rows of the first fragments only (parquet: the first pages of one row group)."""

        def first() -> Iterator[pa.RecordBatch]:
            for fragment in self.dataset.get_fragments():
                if self.format == DataFormat.parquet:
                    yield from _parquet_head(fragment, self.dataset.filesystem, self.schema, rows)
                    continue
                scanner = ds.Scanner.from_fragment(
                    fragment, schema=self.schema, batch_size=max(rows, 1), batch_readahead=1
                )
                yield from scanner.to_batches()

        batches = list(limited(self._translated(first()), rows))
        return pa.Table.from_batches(batches, schema=self.schema)

    def count_rows(self) -> int:
        if self.format in (DataFormat.parquet, DataFormat.arrow):
            return self._footer_rows()
        return int(guarded(self.dataset.count_rows, self.what, self._connector))

    def _footer_rows(self) -> int:
        """Sum of the files' footers, read in parallel (one small ranged read per file on S3)."""
        fragments = list(self.dataset.get_fragments())

        def count(fragment: ds.Fragment) -> int:
            return int(fragment.count_rows())

        def total() -> int:
            if len(fragments) == 1:
                return count(fragments[0])
            with cf.ThreadPoolExecutor(max_workers=min(FOOTER_THREADS, len(fragments))) as pool:
                return sum(pool.map(count, fragments))

        return guarded(total, self.what, self._connector)

    def cheap_row_count(self) -> int | None:
        if self.format in (DataFormat.parquet, DataFormat.arrow):
            return self.count_rows()
        return None

    def to_duckdb(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        return con.from_arrow(self.dataset)


def _parquet_head(
    fragment: ds.Fragment, fs: pafs.FileSystem, schema: pa.Schema, rows: int
) -> Iterator[pa.RecordBatch]:
    """The first ``rows`` rows of one parquet file with its partition values as columns: reads only the
    first row group's pages it needs (a big row group page by page through a small buffer)."""
    keys = ds.get_partition_keys(fragment.partition_expression)
    with fs.open_input_file(fragment.path) as handle:
        parquet = pq.ParquetFile(handle, pre_buffer=False, buffer_size=SAMPLE_BUFFER_BYTES)
        names = [n for n in parquet.schema_arrow.names if n in schema.names]
        meta = parquet.metadata
        if meta.num_row_groups and meta.row_group(0).total_byte_size <= SAMPLE_PREBUFFER_BYTES:
            # a small first row group: fetch its column chunks in a few coalesced reads (few requests
            # on S3) rather than page by page
            parquet = pq.ParquetFile(handle, metadata=meta, pre_buffer=True)
        left = rows
        for batch in parquet.iter_batches(batch_size=max(rows, 1), columns=names):
            arrays = []
            for f in schema:
                if f.name in batch.schema.names:
                    col = batch.column(f.name)
                    arrays.append(col if col.type == f.type else col.cast(f.type))
                elif f.name in keys:
                    arrays.append(pa.array([keys[f.name]] * batch.num_rows, f.type))
                else:
                    arrays.append(pa.nulls(batch.num_rows, f.type))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
            left -= batch.num_rows
            if left <= 0:
                return


# -- files -------------------------------------------------------------------------------------------


@dataclass
class FilesSource:
    """What a files source resolves to: its files (of the chosen format) and partitions."""

    fs: pafs.FileSystem
    listing: Listing
    format: DataFormat
    files: list[pafs.FileInfo]
    partitions: PartitionInfo
    selected: list[Partition] | None = None  # None: every file
    warnings: list[str] = field(default_factory=list)

    def relative(self, info: pafs.FileInfo) -> str:
        return self.listing.relative(info)

    @property
    def selected_files(self) -> list[pafs.FileInfo]:
        if self.selected is None:
            return self.files
        prefixes = tuple(p.path + "/" for p in self.selected)
        return [f for f in self.files if self.relative(f).startswith(prefixes)]


def resolve_files(
    connector: FilesConnector, fs: pafs.FileSystem, source: SourceSpec, what: str
) -> FilesSource:
    """List a files source and choose its format; partitions detected, none selected yet."""
    listing = list_files(connector, fs, source.path or "")
    if not listing.files:
        raise UnreadableData(f"{what} is empty: nothing to register (no files).")
    fmt, files = choose_format(source.format, listing.files, what)
    warnings = []
    if listing.refused:
        warnings.append(f"{listing.refused} file(s) left out: they lead out of the allowed folders.")
    if len(files) < len(listing.files):
        warnings.append(f"{len(listing.files) - len(files)} file(s) not in {fmt.value} format left out.")
    info = (
        detect_partitions((listing.relative(f), f.size or 0) for f in files)
        if not listing.single_file
        else None
    )
    return FilesSource(fs, listing, fmt, files, info or PartitionInfo(style="none"), warnings=warnings)


def pick_partitions(
    src: FilesSource,
    partitions: list[str] | None,
    partition_filter: list[str] | str | None,
    variables: Mapping[str, str] | None,
) -> None:
    """Select ``partitions`` (a resolved, pinned list) or else what ``partition_filter`` picks."""
    if partitions is not None:
        known = {p.path: p for p in src.partitions.partitions}
        missing = [p for p in partitions if p.strip("/") not in known]
        if missing:
            raise InvalidInput(f"Partition(s) not found: {', '.join(missing)}.")
        src.selected = [known[p.strip("/")] for p in partitions]
    elif partition_filter is not None:
        src.selected = select_partitions(src.partitions, partition_filter, variables)


def _partition_expression(values: dict[str, str], types: dict[str, pa.DataType]) -> ds.Expression | None:
    expr: ds.Expression | None = None
    for key, raw in values.items():
        t = types.get(key)
        if t is None:
            continue
        value = unquote(raw)
        if value == HIVE_NULL:
            term = ds.field(key).is_null()
        elif pa.types.is_integer(t):
            term = ds.field(key) == pa.scalar(int(value), t)
        elif pa.types.is_date(t):
            term = ds.field(key) == pa.scalar(date.fromisoformat(value), t)
        else:
            term = ds.field(key) == pa.scalar(value, t)
        expr = term if expr is None else expr & term
    return expr


def _file_format(
    src: FilesSource, source: SourceSpec, what: str
) -> tuple[ds.FileFormat, csvfmt.CsvDialect | None]:
    if src.format == DataFormat.parquet:
        return ds.ParquetFileFormat(), None
    if src.format == DataFormat.arrow:
        return ds.IpcFileFormat(), None
    if src.format == DataFormat.csv:
        dialect = csvfmt.sniff_csv(src.fs, src.files[0].path, source.csv, what)
        return dialect.file_format(), dialect
    newlines = jsonfmt.lines_need_multiline(src.fs, src.files[0].path)
    import pyarrow.json as pajson

    return ds.JsonFileFormat(
        read_options=pajson.ReadOptions(block_size=jsonfmt.BLOCK_BYTES),
        parse_options=pajson.ParseOptions(newlines_in_values=newlines),
    ), None


def files_reader(connector: FilesConnector, src: FilesSource, source: SourceSpec, what: str) -> DataReader:
    """A reader over the selected files of a resolved files source."""
    files = src.selected_files
    fs = src.fs
    if not files:
        raise UnreadableData(f"{what}: the selected partitions hold no files.")
    fmt = src.format
    if fmt in (DataFormat.json, DataFormat.jsonl):
        shape = jsonfmt.json_shape(fs, files[0].path, what)
        if shape == "lines":
            fmt = DataFormat.jsonl
        else:
            return _json_array_reader(connector, fs, [f.path for f in files], what)
    if fmt in DATASET_FORMATS:
        return _dataset_reader(connector, src, files, fmt, source, what)
    if fmt == DataFormat.text:
        head = csvfmt.read_head(fs, files[0].path)
        encoding = csvfmt.detect_encoding(
            head, source.csv.encoding if source.csv else None, what, complete=len(head) < csvfmt.SNIFF_BYTES
        )
        paths = [f.path for f in files]
        return StreamReader(
            textfmt.SCHEMA, fmt, what, connector, lambda n: textfmt.text_batches(fs, paths, encoding, n)
        )
    # media: the listing itself (path, size, label, format); probing is inspect's job
    from dais.data.media import label_of

    def rows(n: int) -> Iterator[pa.RecordBatch]:
        for start in range(0, len(files), n):
            chunk = files[start : start + n]
            rels = [connector.relative(f.path) for f in chunk]
            yield pa.record_batch(
                [
                    pa.array(rels, pa.string()),
                    pa.array([f.size or 0 for f in chunk], pa.int64()),
                    pa.array([label_of(src.relative(f)) for f in chunk], pa.string()),
                    pa.array([posixpath.splitext(f.path)[1].lstrip(".").lower() for f in chunk], pa.string()),
                ],
                schema=MEDIA_SCHEMA,
            )

    return StreamReader(MEDIA_SCHEMA, fmt, what, connector, rows, counter=lambda: len(files))


def _json_array_reader(
    connector: FilesConnector, fs: pafs.FileSystem, paths: list[str], what: str
) -> DataReader:
    first = guarded(lambda: jsonfmt.array_reader(fs, paths), what, connector)
    schema = first.schema
    handed: list[pa.RecordBatchReader] = [first]

    def make(_: int) -> Iterator[pa.RecordBatch]:
        reader = handed.pop() if handed else jsonfmt.array_reader(fs, paths, schema=schema)
        yield from reader

    return StreamReader(schema, DataFormat.json, what, connector, make)


def _dataset_reader(
    connector: FilesConnector,
    src: FilesSource,
    files: list[pafs.FileInfo],
    fmt: DataFormat,
    source: SourceSpec,
    what: str,
) -> DataReader:
    fs = src.fs
    file_format, dialect = _file_format(src, source, what)
    types = partition_types(src.partitions)

    def build() -> ds.FileSystemDataset:
        fragments = []
        for f in files:
            expr = None
            if types:
                rel = src.relative(f)
                values = dict(part.split("=", 1) for part in rel.split("/")[:-1] if "=" in part)
                expr = _partition_expression(values, types)
            fragments.append(
                file_format.make_fragment(f.path, filesystem=fs, partition_expression=expr, file_size=f.size)
            )
        physical = fragments[0].physical_schema
        fields = list(physical) + [pa.field(k, t) for k, t in types.items() if k not in physical.names]
        return ds.FileSystemDataset(fragments, pa.schema(fields), file_format, fs)

    try:
        dataset = guarded(build, what, connector)
    except UnreadableData as exc:
        if dialect is not None and (better := dialect.explain(exc.__cause__ or exc, what)) is not None:
            raise better from exc
        raise
    if dialect is not None:
        csvfmt.check_utf8_columns(dataset.schema, dialect, fs, files[0].path, what)
    return ArrowDatasetReader(dataset, fmt, what, connector, dialect)
