"""The reader interface: a dataset as a stream of Arrow record batches (or a DuckDB relation), and
the generator-backed reader that JSON arrays, text lines, tables and media listings use."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from dais.core.errors import DaisError, InvalidInput
from dais.data.connectors.base import Connector
from dais.data.listing import translate
from dais.data.source import DataFormat

if TYPE_CHECKING:
    import duckdb


def limited(batches: Iterator[pa.RecordBatch], limit: int | None) -> Iterator[pa.RecordBatch]:
    if limit is None:
        yield from batches
        return
    left = limit
    for batch in batches:
        if left <= 0:
            return
        if batch.num_rows > left:
            batch = batch.slice(0, left)
        left -= batch.num_rows
        yield batch


class DataReader(abc.ABC):
    """A dataset opened for reading. ``schema`` holds file columns then partition columns."""

    schema: pa.Schema
    format: DataFormat

    def __init__(self, what: str, connector: Connector | None) -> None:
        self.what = what
        self._connector = connector

    @abc.abstractmethod
    def _batches(self, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Batches in source order (translated by :meth:`batches`)."""

    def _explain(self, exc: BaseException) -> DaisError | None:
        """A format-specific error for a failure while reading (CSV: the ragged line)."""
        return None

    def _translated(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        try:
            yield from batches
        except DaisError:
            raise
        except Exception as exc:
            raise (self._explain(exc) or translate(exc, self.what, self._connector)) from exc

    def _check_columns(self, columns: list[str] | None) -> None:
        if columns is None:
            return
        unknown = [c for c in columns if c not in self.schema.names]
        if unknown:
            raise InvalidInput(
                f"Unknown column(s) {', '.join(map(repr, unknown))}; "
                f"the dataset has: {', '.join(self.schema.names)}."
            )

    def batches(
        self, columns: list[str] | None = None, batch_rows: int = 65_536, limit: int | None = None
    ) -> pa.RecordBatchReader:
        """A streaming reader of at most ``limit`` rows, ``batch_rows`` at most per batch."""
        self._check_columns(columns)
        schema = pa.schema([self.schema.field(c) for c in columns]) if columns is not None else self.schema
        stream = limited(self._translated(self._batches(columns, batch_rows)), limit)
        return pa.RecordBatchReader.from_batches(schema, stream)

    def head(self, rows: int) -> pa.Table:
        """The first ``rows`` rows (a sample), reading as little as the format allows."""
        return self.batches(batch_rows=max(rows, 1), limit=rows).read_all()

    def to_arrow(self) -> pa.Table:
        """The whole dataset as one table (convenience: mind its size)."""
        return self.batches().read_all()

    def count_rows(self) -> int:
        """How many rows (from metadata where the format keeps it, else by reading)."""
        return sum(b.num_rows for b in self.batches())

    def cheap_row_count(self) -> int | None:
        """The row count when metadata gives it (parquet and Arrow footers, some tables), else ``None``."""
        return None

    def to_duckdb(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        """A DuckDB relation scanning this dataset as a stream (read once)."""
        return con.from_arrow(self.batches())


class StreamReader(DataReader):
    """A dataset read by a generator: JSON arrays, text lines, tables and queries, media listings."""

    def __init__(
        self,
        schema: pa.Schema,
        fmt: DataFormat,
        what: str,
        connector: Connector | None,
        make: Callable[[int], Iterator[pa.RecordBatch]],
        *,
        counter: Callable[[], int | None] | None = None,
    ) -> None:
        super().__init__(what, connector)
        self.schema = schema
        self.format = fmt
        self._make = make
        self._counter = counter

    def _batches(self, columns: list[str] | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
        for batch in self._make(batch_rows):
            if batch.schema != self.schema:
                batch = conform(batch, self.schema)
            yield batch.select(columns) if columns is not None else batch

    def cheap_row_count(self) -> int | None:
        return self._counter() if self._counter is not None else None

    def count_rows(self) -> int:
        cheap = self.cheap_row_count()
        return cheap if cheap is not None else super().count_rows()


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A batch with ``schema``'s columns: missing ones null, others cast (JSON blocks may differ)."""
    arrays = []
    for f in schema:
        if f.name in batch.schema.names:
            col = batch.column(f.name)
            arrays.append(col if col.type == f.type else col.cast(f.type))
        else:
            arrays.append(pa.nulls(batch.num_rows, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
