"""One reader for every dataset: a stream of Arrow record batches, or a DuckDB relation, never the
whole data in memory.

:func:`open_dataset` lists the files a source names (or asks a tables connector), picks the
partitions, and returns a :class:`DataReader` (:mod:`dais.data.file_reader`,
:mod:`dais.data.table_reader`).
"""

from __future__ import annotations

from dais.core.errors import InvalidInput
from dais.data.connectors.base import Connector, FilesConnector, TablesConnector
from dais.data.connectors.calls import run_with_timeout
from dais.data.file_reader import files_reader, pick_partitions, resolve_files
from dais.data.source import SourceSpec
from dais.data.streams import DataReader
from dais.data.table_reader import tables_reader

__all__ = ["DataReader", "describe", "open_dataset"]


def describe(source: SourceSpec) -> str:
    """How errors name a source: its path, table, or "the query"."""
    if source.path is not None:
        return source.path or "the connection's root"
    return f"table {source.table}" if source.table else "the query"


def open_dataset(
    connector: Connector,
    source: SourceSpec,
    *,
    partitions: list[str] | None = None,
    variables: dict[str, str] | None = None,
    timeout_s: float,
) -> DataReader:
    """Open a source for streaming reads.

    ``partitions`` pins partition paths (a version's resolved list); otherwise
    ``source.partition_filter`` is resolved with ``variables`` (``{"ds": "2024-01-02"}``). Listing
    and schema discovery are bounded by ``timeout_s``; reads use the connector's own timeouts.
    """
    what = describe(source)
    if isinstance(connector, TablesConnector):
        return run_with_timeout(
            lambda: tables_reader(connector, source, variables, timeout_s), timeout_s, f"Opening {what}"
        )
    if not isinstance(connector, FilesConnector):
        raise InvalidInput(f"The connector {connector.name!r} reads neither files nor tables.")
    if source.path is None:
        raise InvalidInput("A files connection needs a path.")

    def open_files() -> DataReader:
        fs = connector.filesystem(timeout_s)
        src = resolve_files(connector, fs, source, what)
        pick_partitions(src, partitions, source.partition_filter, variables)
        return files_reader(connector, src, source, what)

    return run_with_timeout(open_files, timeout_s, f"Opening {what}")
