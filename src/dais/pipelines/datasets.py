"""How a pipeline reaches datasets: the :class:`DatasetResolver` protocol.

Validation asks a resolver for a ``source`` node's schema (through the operators' own hook,
:func:`dais.pipelines.operators.io.resolving_schemas`); the runner asks it for a version key (part of
the cache keys: "latest" is pinned when the run is planned) and for a :class:`~dais.data.reader.DataReader`
that the engine scans as a stream. Two implementations:

- :class:`ReaderResolver`: over the data domain's readers (``open_dataset(connector, source, ...)``),
  with a ``lookup`` callable that maps (name, version) to a connector and source spec: the pipelines
  service provides it over the metadata DB, scoped to the run's workspace.
- :class:`ParquetFolderResolver`: datasets as folders of parquet files (``<root>/<name>/v<N>/``), for
  benchmarks, tests and local experiments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa
import pyarrow.dataset as ds

from dais.core.errors import InvalidInput
from dais.pipelines.operators.base import Column, ParamError, TableSchema

if TYPE_CHECKING:
    from dais.data.connectors.base import Connector
    from dais.data.source import SourceSpec


class DataReader(Protocol):
    """What engines need from a dataset reader (the data domain's ``DataReader`` has it): a schema, a
    stream of batches, the first rows, and, for re-scannable files, an Arrow ``dataset`` attribute."""

    schema: pa.Schema

    def batches(
        self, columns: list[str] | None = None, batch_rows: int = 65_536, limit: int | None = None
    ) -> pa.RecordBatchReader: ...

    def head(self, rows: int) -> pa.Table: ...


class ArrowDatasetSource:
    """A :class:`DataReader` over a ``pyarrow.dataset`` (parquet folders)."""

    def __init__(self, dataset: ds.Dataset) -> None:
        self.dataset = dataset
        self.schema = dataset.schema

    def batches(
        self, columns: list[str] | None = None, batch_rows: int = 65_536, limit: int | None = None
    ) -> pa.RecordBatchReader:
        scanner = self.dataset.scanner(columns=columns, batch_size=batch_rows)
        if limit is None:
            return scanner.to_reader()
        return pa.RecordBatchReader.from_batches(
            scanner.projected_schema, iter(self.dataset.head(limit, columns=columns).to_batches())
        )

    def head(self, rows: int) -> pa.Table:
        """The first rows, reading one batch at a time (no read-ahead of further row groups)."""
        scanner = self.dataset.scanner(batch_size=max(rows, 1), batch_readahead=0, fragment_readahead=0)
        taken: list[pa.RecordBatch] = []
        left = rows
        for batch in scanner.to_batches():
            if left <= 0:
                break
            taken.append(batch.slice(0, left))
            left -= min(left, batch.num_rows)
        return pa.Table.from_batches(taken, schema=scanner.projected_schema)


class DatasetResolver(Protocol):
    """Datasets by name and version (``None``: the latest), as seen by one workspace."""

    def schema(self, name: str, version: int | None) -> TableSchema:
        """The dataset version's columns; :class:`ParamError` (field ``dataset`` or ``version``) if it
        does not exist."""

    def version_key(self, name: str, version: int | None) -> str:
        """A stable identity of the version the run reads ("latest" resolved), for cache keys."""

    def open(
        self,
        name: str,
        version: int | None,
        partitions: list[str] | str | None,
        variables: Mapping[str, str],
    ) -> DataReader:
        """A reader over the version's rows (``partitions``: pinned paths, or one filter expression)."""


def table_schema(schema: pa.Schema) -> TableSchema:
    """An Arrow schema as a :class:`TableSchema` (Ibis dtype names)."""
    import ibis

    converted = ibis.Schema.from_pyarrow(schema)
    return TableSchema(
        columns=[
            Column(name=name, dtype=str(t.copy(nullable=True)), nullable=t.nullable)
            for name, t in converted.items()
        ]
    )


@dataclass
class DatasetLocation:
    """Where a dataset version's rows are: what :class:`ReaderResolver`'s ``lookup`` answers."""

    key: str  # e.g. "<dataset id>@v3": changes whenever the rows may change
    connector: Connector
    source: SourceSpec
    schema: pa.Schema
    partitions: list[str] | None = None  # the version's pinned partitions, if any


class ReaderResolver:
    """A resolver over the data domain's readers; ``lookup`` raises ParamError for unknown names."""

    def __init__(
        self, lookup: Callable[[str, int | None], DatasetLocation], *, timeout_s: float = 60.0
    ) -> None:
        self._lookup = lookup
        self._seen: dict[tuple[str, int | None], DatasetLocation] = {}
        self.timeout_s = timeout_s

    def _find(self, name: str, version: int | None) -> DatasetLocation:
        key = (name, version)
        if key not in self._seen:
            self._seen[key] = self._lookup(name, version)
        return self._seen[key]

    def schema(self, name: str, version: int | None) -> TableSchema:
        return table_schema(self._find(name, version).schema)

    def version_key(self, name: str, version: int | None) -> str:
        return self._find(name, version).key

    def open(
        self,
        name: str,
        version: int | None,
        partitions: list[str] | str | None,
        variables: Mapping[str, str],
    ) -> DataReader:
        from dais.data.reader import open_dataset

        loc = self._find(name, version)
        source = loc.source
        pinned = loc.partitions
        if isinstance(partitions, list):
            pinned = partitions
        elif isinstance(partitions, str):
            source, pinned = source.model_copy(update={"partition_filter": partitions}), None
        reader: DataReader = open_dataset(
            loc.connector, source, partitions=pinned, variables=dict(variables), timeout_s=self.timeout_s
        )
        return reader


class ParquetFolderResolver:
    """Datasets as folders: ``<root>/<name>/v<N>/`` holds version N's parquet files (``key=value``
    subfolders are hive partitions; ``partitions`` lists the subfolders to read)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _folder(self, name: str, version: int | None) -> Path:
        base = self.root / name
        if not base.is_dir():
            raise ParamError("dataset", f"No dataset named {name!r}.")
        if version is None:
            versions = sorted(int(p.name[1:]) for p in base.glob("v*") if p.name[1:].isdigit())
            if not versions:
                raise ParamError("dataset", f"The dataset {name!r} has no version yet.")
            version = versions[-1]
        folder = base / f"v{version}"
        if not folder.is_dir():
            raise ParamError("version", f"The dataset {name!r} has no version {version}.")
        return folder

    def _dataset(self, folder: Path) -> ds.FileSystemDataset:
        dataset = ds.dataset(str(folder), format="parquet", partitioning="hive")
        assert isinstance(dataset, ds.FileSystemDataset)
        return dataset

    def schema(self, name: str, version: int | None) -> TableSchema:
        return table_schema(self._dataset(self._folder(name, version)).schema)

    def version_key(self, name: str, version: int | None) -> str:
        folder = self._folder(name, version)
        stamp = max((p.stat().st_mtime_ns for p in folder.rglob("*.parquet")), default=0)
        return f"{name}@{folder.name}:{stamp}"

    def open(
        self,
        name: str,
        version: int | None,
        partitions: list[str] | str | None,
        variables: Mapping[str, str],
    ) -> DataReader:
        folder = self._folder(name, version)
        dataset = self._dataset(folder)
        if isinstance(partitions, str):
            raise InvalidInput("A folder dataset takes a list of partition folders, not an expression.")
        if partitions:
            wanted = tuple(str(folder / p.strip("/")) + "/" for p in partitions)
            files = [f for f in dataset.files if f.startswith(wanted)]
            dataset = ds.FileSystemDataset(
                [fr for fr in dataset.get_fragments() if fr.path in set(files)],
                dataset.schema,
                dataset.format,
                dataset.filesystem,
            )
        return ArrowDatasetSource(dataset)
