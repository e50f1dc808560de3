"""The DuckDB engine: operators' Ibis expressions run on an in-process DuckDB, memory bounded.

Settings (see :class:`DuckDBConfig`): ``memory_limit`` caps DuckDB's buffer pool and operators spill
to ``temp_directory`` beyond it; ``preserve_insertion_order=false`` lets DuckDB stream row-wise
queries without buffering to keep order (an ``ORDER BY`` is still honoured); ``threads`` defaults to
the machine's cores. Local parquet datasets are scanned by DuckDB's own parquet reader (parallel,
projection and filter push-down); other readers through Arrow (``DataReader.to_duckdb``), and one-shot
streams (tables, JSON arrays) are copied once into a temporary table so they can be read twice.
Each expression is compiled once per session and its SQL reused (sample, count, sink ``COPY``).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from pydantic import Field

from dais.pipelines.engines.base import Engine, EngineConfig, EngineError, EngineSession, SourceSample

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from dais.pipelines.datasets import DataReader


class DuckDBConfig(EngineConfig):
    memory_limit: str = Field(default="1GB", description="DuckDB's memory limit, e.g. '1GB', '512MB'.")
    threads: int | None = Field(default=None, ge=1, le=256, description="Worker threads (cores if unset).")
    preserve_insertion_order: bool = Field(
        default=False, description="Keep source order in results without ORDER BY (costs memory)."
    )
    compression: str = Field(default="snappy", description="Parquet compression of written outputs.")
    row_group_size: int = Field(default=122_880, ge=1024, description="Rows per parquet row group.")


class DuckDBEngine(Engine):
    """Runs pipelines on an in-process DuckDB through Ibis."""

    name: ClassVar[str] = "duckdb"
    Config: ClassVar[type[EngineConfig]] = DuckDBConfig
    capabilities: ClassVar[frozenset[str]] = frozenset({"spill", "native_parquet"})

    def session(self, workdir: Path) -> DuckDBSession:
        assert isinstance(self.config, DuckDBConfig)
        return DuckDBSession(self.config, workdir)


class DuckDBSession(EngineSession):
    def __init__(self, config: DuckDBConfig, workdir: Path) -> None:
        import ibis

        self.config = config
        spill = workdir / "spill"
        spill.mkdir(parents=True, exist_ok=True)
        settings: dict[str, Any] = {
            "memory_limit": config.memory_limit,
            "temp_directory": str(spill),
            "preserve_insertion_order": config.preserve_insertion_order,
            "threads": config.threads or os.cpu_count() or 1,
        }
        self.ibis = ibis.duckdb.connect(**settings)
        self.raw = self.ibis.con
        self._names = itertools.count()
        self._lock = threading.Lock()
        self._keep: list[Any] = []  # Arrow objects that registered views read from
        self._compiled: dict[Any, str] = {}  # expression -> its SQL

    def _name(self, hint: str) -> str:
        safe = "".join(ch if ch.isalnum() else "_" for ch in hint)[:40]
        return f"_dais_{safe}_{next(self._names)}"

    # -- sources ---------------------------------------------------------------------------------

    def source(self, reader: DataReader, *, name: str, sample: SourceSample | None = None) -> ir.Table:
        table_name = self._name(name)
        with self._guard("reading the dataset"):
            files = local_parquet_files(reader)
            if sample is not None and sample.method == "first":
                if files is not None:  # DuckDB reads just the first vectors, not whole row groups
                    first = self.ibis.read_parquet(files, table_name=table_name + "_scan").limit(sample.rows)
                    return self.ibis.create_table(table_name, first, temp=True)
                import ibis

                return self.ibis.create_table(table_name, ibis.memtable(reader.head(sample.rows)), temp=True)
            if files is not None:
                scan = self.ibis.read_parquet(files, table_name=table_name + "_scan")
            else:
                dataset = getattr(reader, "dataset", None)
                if isinstance(dataset, ds.Dataset):
                    self._keep.append(dataset)
                    self.raw.register(table_name + "_scan", dataset)
                    scan = self.ibis.table(table_name + "_scan")
                else:  # a one-shot stream: copy it once so that it can be read several times
                    stream = reader.batches()
                    self._keep.append(stream)
                    self.raw.register(table_name + "_stream", stream)
                    self.raw.execute(
                        # names are generated here, never user text
                        f'CREATE TEMP TABLE "{table_name}_scan" AS SELECT * FROM "{table_name}_stream"'  # noqa: S608
                    )
                    self.raw.unregister(table_name + "_stream")
                    scan = self.ibis.table(table_name + "_scan")
            if sample is None:
                return scan
            sql = self.ibis.compile(scan)
            self.raw.execute(
                f'CREATE TEMP TABLE "{table_name}" AS SELECT * FROM ({sql}) '  # noqa: S608 - compiled by Ibis
                f"USING SAMPLE reservoir({int(sample.rows)} ROWS) REPEATABLE ({int(sample.seed)})"
            )
            return self.ibis.table(table_name)

    # -- running ---------------------------------------------------------------------------------

    def _guard(self, what: str) -> _Guard:
        return _Guard(what)

    def _sql(self, expr: ir.Table) -> str:
        """``expr`` compiled to DuckDB SQL, once per session: a run asks for the same expression several
        times (a node's sample, then the next node's input, the sink's query), and Ibis takes 0.1-0.2 s
        to compile a wide one."""
        key = expr.op()
        sql = self._compiled.get(key)
        if sql is None:
            self.ibis._run_pre_execute_hooks(expr)  # registers in-memory tables and UDFs it uses
            sql = self._compiled[key] = self.ibis.compile(expr)
        return sql

    def _arrow(self, expr: ir.Table, sql: str) -> pa.Table:
        from ibis.backends.duckdb.converter import DuckDBPyArrowData

        table = self.raw.sql(sql).to_arrow_table()
        result: pa.Table = expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)
        return result

    def execute(self, expr: ir.Table) -> pa.Table:
        with self._guard("running an aggregate"):
            return self._arrow(expr, self._sql(expr))

    def materialize(self, expr: ir.Table, *, name: str) -> ir.Table:
        table_name = self._name(name)
        with self._guard("computing an intermediate table"):
            self.raw.execute(f'CREATE TEMP TABLE "{table_name}" AS {self._sql(expr)}')
            return self.ibis.table(table_name)

    def count(self, expr: ir.Table) -> int:
        with self._guard("counting rows"):
            rows = self.raw.execute(f"SELECT count(*) FROM ({self._sql(expr)})").fetchall()  # noqa: S608
            return int(rows[0][0])

    def head(self, expr: ir.Table, rows: int) -> pa.Table:
        with self._guard("reading a sample"):
            return self._arrow(expr, f"SELECT * FROM ({self._sql(expr)}) LIMIT {int(rows)}")  # noqa: S608

    def batches(self, expr: ir.Table, *, batch_rows: int = 65_536) -> pa.RecordBatchReader:
        with self._guard("streaming rows"):
            cursor = self.raw.execute(self._sql(expr))

            def produce() -> Any:
                yield from cursor.fetch_record_batch(rows_per_batch=batch_rows)

            return pa.RecordBatchReader.from_batches(expr.schema().to_pyarrow(), produce())

    def write_parquet(
        self, expr: ir.Table, folder: Path, *, max_rows_per_file: int = 5_000_000
    ) -> dict[str, Any]:
        folder.mkdir(parents=True, exist_ok=True)
        sql = self._sql(expr)
        options = [
            "FORMAT parquet",
            f"COMPRESSION {self.config.compression}",
            f"ROW_GROUP_SIZE {int(self.config.row_group_size)}",
            "FILENAME_PATTERN 'part-{i}'",
            "FILE_SIZE_BYTES '256MB'",
        ]
        with self._guard("writing parquet"):
            rows = self.raw.execute(
                f"COPY ({sql}) TO '{_quote(str(folder))}' ({', '.join(options)})"
            ).fetchall()
        files = sorted(str(p) for p in folder.glob("part-*.parquet"))
        return {"files": files, "rows": int(rows[0][0]) if rows else 0}

    def read_parquet(self, paths: Sequence[str], *, name: str) -> ir.Table:
        with self._guard("reading cached parquet"):
            return self.ibis.read_parquet(list(paths), table_name=self._name(name))

    def close(self) -> None:
        try:
            self.ibis.disconnect()
        finally:
            self._keep.clear()


class _Guard:
    """Turns a DuckDB/Ibis error into an :class:`EngineError` (DaisErrors pass through)."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        from dais.core.errors import DaisError

        if exc is None or isinstance(exc, DaisError) or not isinstance(exc, Exception):
            return
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"DuckDB failed while {self.what}: {message}") from exc


def _quote(text: str) -> str:
    return text.replace("'", "''")


def local_parquet_files(reader: DataReader) -> list[str] | None:
    """The files of a local parquet dataset with no partition columns (DuckDB reads them natively)."""
    dataset = getattr(reader, "dataset", None)
    if not isinstance(dataset, ds.FileSystemDataset) or not isinstance(dataset.format, ds.ParquetFileFormat):
        return None
    if not isinstance(dataset.filesystem, pafs.LocalFileSystem):
        return None
    files = list(dataset.files)
    if not files:
        return None
    physical = dataset.get_fragments().__next__().physical_schema
    if physical.names != dataset.schema.names:
        return None  # partition columns come from folder names: let Arrow add them
    return files
