"""A pipeline's view of its workspace's datasets: the :class:`DatasetResolver` over the data domain,
and the sink writer that writes a sink's rows into the workspace's artifact area.

:class:`WorkspaceDatasets` answers schemas and version keys from the metadata database only (the API
validates without touching any source) and opens readers through the data domain
(:func:`dais.data.open_version`) in the run's job. It remembers which versions a run read:
they are the lineage of the versions the run writes.

:class:`ArtifactSinkWriter` writes each sink's rows as parquet files under
``pipelines/<pipeline id>/outputs/<run id>/<node id>/`` of the workspace's artifact area and inspects
them (schema, sample, statistics) the way registration does; the job records the dataset versions in
one transaction at the end (:func:`dais.pipelines.runs_service.record_outputs`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.core.errors import InvalidInput, NotFound
from dais.pipelines.datasets import table_schema
from dais.pipelines.operators.base import ParamError, TableSchema

if TYPE_CHECKING:
    from dais.core.settings import Settings
    from dais.data import DataReader, Inspection, OpenedVersion
    from dais.pipelines.runner import SinkData

Sessions = Callable[[], AbstractContextManager[Session]]

_TIMESTAMP = re.compile(r"^timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]$")
_DECIMAL = re.compile(r"^decimal(128|256)\((\d+), (-?\d+)\)$")
_LIST = re.compile(r"^(large_)?list<[^:]+: (.+)>$")
_DICTIONARY = re.compile(r"^dictionary<values=([^,]+), indices=")


def arrow_type(text: str) -> pa.DataType | None:
    """An Arrow type from its text (``str(pa.DataType)``), or ``None`` if it cannot be read back."""
    text = text.strip()
    try:
        return pa.type_for_alias(text)
    except (ValueError, KeyError):
        pass
    if m := _TIMESTAMP.match(text):
        return pa.timestamp(m.group(1), tz=m.group(2))
    if m := _DECIMAL.match(text):
        make = pa.decimal128 if m.group(1) == "128" else pa.decimal256
        return make(int(m.group(2)), int(m.group(3)))
    if m := _LIST.match(text):
        inner = arrow_type(m.group(2))
        if inner is None:
            return None
        return pa.large_list(inner) if m.group(1) else pa.list_(inner)
    if m := _DICTIONARY.match(text):
        return arrow_type(m.group(1))
    return None


def stored_schema(columns: list[Any] | None) -> TableSchema:
    """A dataset version's stored columns (``ColumnSchema`` dicts) as a :class:`TableSchema`; a column
    whose type cannot be read back is left out and the schema marked open."""
    fields, unknown = [], False
    for col in columns or []:
        t = arrow_type(str(col.get("type", "")))
        if t is None:
            unknown = True
            continue
        fields.append(pa.field(str(col["name"]), t, nullable=bool(col.get("nullable", True))))
    schema = table_schema(pa.schema(fields))
    if unknown or not columns:
        schema.open = True
    return schema


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass
class _Found:
    dataset_id: str
    name: str
    version_id: str
    number: int
    schema: TableSchema
    key: str


class WorkspaceDatasets:
    """Datasets of one workspace by name and version (``None``: the current one)."""

    def __init__(
        self,
        sessions: Sessions,
        workspace_id: str,
        *,
        settings: Settings | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self._sessions = sessions
        self.workspace_id = workspace_id
        self.settings = settings
        self.variables = dict(variables or {})
        self._found: dict[tuple[str, int | None], _Found] = {}
        self._opened: list[OpenedVersion] = []
        #: version id -> (dataset name, number) of every version this resolver opened
        self.read: dict[str, tuple[str, int]] = {}

    def _find(self, name: str, version: int | None) -> _Found:
        key = (name, version)
        if key in self._found:
            return self._found[key]
        from dais.data import Dataset, get_version

        with self._sessions() as s:
            ds = s.scalar(
                select(Dataset).where(Dataset.workspace_id == self.workspace_id, Dataset.name == name)
            )
            if ds is None:
                raise ParamError("dataset", f"No dataset named {name!r} in this workspace.")
            try:
                v = get_version(s, ds, version)
            except NotFound as exc:
                raise ParamError("version", exc.detail) from exc
            dynamic = v.partitions is None and "${" in str((ds.source or {}).get("partition_filter") or "")
            found = _Found(
                dataset_id=ds.id,
                name=ds.name,
                version_id=v.id,
                number=v.number,
                schema=stored_schema(v.schema_ if v.schema_ is not None else ds.schema_),
                key=f"{v.id}:"
                + _digest({"fingerprint": v.fingerprint, "variables": self.variables if dynamic else None}),
            )
        self._found[key] = found
        return found

    def schema(self, name: str, version: int | None) -> TableSchema:
        return self._find(name, version).schema

    def version_key(self, name: str, version: int | None) -> str:
        return self._find(name, version).key

    def open(
        self,
        name: str,
        version: int | None,
        partitions: list[str] | str | None,
        variables: Mapping[str, str],
    ) -> DataReader:
        from dais.data import get_dataset_in, get_version, open_version

        if self.settings is None:
            raise InvalidInput("This resolver only answers schemas: it cannot read datasets.")
        found = self._find(name, version)
        with self._sessions() as s:
            ds = get_dataset_in(s, self.workspace_id, found.dataset_id)
            v = get_version(s, ds, found.number)
            opened = open_version(
                s,
                ds,
                v,
                self.settings,
                partitions=partitions if isinstance(partitions, list) else None,
                partition_filter=partitions if isinstance(partitions, str) else None,
                variables=dict(variables),
            )
        self._opened.append(opened)
        self.read[found.version_id] = (found.name, found.number)
        return opened.open(self.settings.data.source_timeout_s)

    def close(self) -> None:
        for opened in self._opened:
            opened.connector.close()
        self._opened.clear()


@dataclass
class SinkOutput:
    """What a sink wrote: where, how much, and what registering those files found."""

    node_id: str
    dataset: str
    mode: str
    note: str
    prefix: str
    rows: int
    files: int
    bytes: int
    inspection: Inspection


@dataclass
class ArtifactSinkWriter:
    """Writes sinks into the workspace's artifact area under ``base`` (a prefix of that area)."""

    settings: Settings
    workspace_id: str
    base: str
    resolver: WorkspaceDatasets
    variables: Mapping[str, str] = field(default_factory=dict)
    outputs: dict[str, SinkOutput] = field(default_factory=dict)

    def write(self, node_id: str, params: Any, data: SinkData) -> dict[str, Any]:
        from dais.data import DataFormat, SourceSpec, artifacts_connector, inspect_source

        prefix = f"{self.base}/{node_id}"
        connector = artifacts_connector(self.settings, self.workspace_id)
        timeout = self.settings.data.source_timeout_s
        try:
            target = connector.resolve(prefix)
            fs = connector.filesystem(timeout)
            if self.settings.artifacts_url.startswith("file:"):
                rows = int(data.write_parquet(Path(target))["rows"])
            else:
                rows = _stream(data.batches(), fs, target, "part-{i}.parquet")
            if str(params.mode) == "append":
                self._append_previous(str(params.dataset), data.schema, fs, target)
            inspection = inspect_source(
                connector,
                SourceSpec(path=prefix, format=DataFormat.parquet),
                sample_rows=self.settings.data.sample_rows,
                sample_max_bytes=self.settings.data.sample_max_bytes,
                timeout_s=timeout,
                allow_empty=True,
            )
        finally:
            connector.close()
        out = SinkOutput(
            node_id=node_id,
            dataset=str(params.dataset),
            mode=str(params.mode),
            note=params.description or "",
            prefix=prefix,
            rows=inspection.row_count if inspection.row_count is not None else rows,
            files=inspection.files or 0,
            bytes=inspection.bytes or 0,
            inspection=inspection,
        )
        self.outputs[node_id] = out
        return {
            "dataset": out.dataset,
            "mode": out.mode,
            "rows": out.rows,
            "files": out.files,
            "prefix": prefix,
        }

    def _append_previous(self, dataset: str, schema: pa.Schema, fs: Any, target: str) -> None:
        """Copy the dataset's current rows next to the new ones (``prev-*.parquet``)."""
        try:
            reader = self.resolver.open(dataset, None, None, self.variables)
        except ParamError:
            return  # a new dataset: nothing to append to
        if reader.schema.names != schema.names:
            raise InvalidInput(
                f"Cannot append to {dataset!r}: it has the columns {reader.schema.names}, "
                f"the pipeline writes {schema.names}."
            )
        stream = reader.batches()
        cast = pa.RecordBatchReader.from_batches(
            schema, (pa.Table.from_batches([b]).cast(schema).to_batches()[0] for b in stream if b.num_rows)
        )
        _stream(cast, fs, target, "prev-{i}.parquet")


def _stream(batches: pa.RecordBatchReader, fs: Any, target: str, template: str) -> int:
    import pyarrow.dataset as pads

    rows = 0

    def counted() -> Any:
        nonlocal rows
        for batch in batches:
            rows += batch.num_rows
            yield batch

    pads.write_dataset(
        pa.RecordBatchReader.from_batches(batches.schema, counted()),
        target,
        format="parquet",
        filesystem=fs,
        basename_template=template,
        existing_data_behavior="overwrite_or_ignore",
        max_rows_per_file=5_000_000,
        max_rows_per_group=1_000_000,
    )
    return rows
