"""The connector interface (group ``dais.connectors``): how Dais reaches data where it lives.

A connector kind declares two pydantic models: ``Config``, the connection's settings (stored as JSON,
shown to anyone who can read the connection, and the source of the UI form), and ``Secrets``, its
credentials (stored encrypted with :mod:`dais.core.vault`, never returned by the API or logged).

Two families exist, told apart by ``capabilities``:

- ``"files"``: :class:`FilesConnector` (file, s3, hdfs) hands out a pyarrow filesystem and a root;
  every path a user gives is resolved *inside* that root by :meth:`FilesConnector.resolve`.
- ``"tables"``: :class:`TablesConnector` (sql, hive) lists tables and streams a table or a query as
  Arrow record batches.

Every call that touches the source takes a timeout and raises a :class:`SourceError` subclass carrying
the source's own message; callers run them off the event loop, and
:func:`dais.data.connectors.run_with_timeout` bounds any blocking call.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from dais.core.errors import (  # the source errors live in core so the SDK maps them back too
    ConnectorUnavailable,
    SourceAccessDenied,
    SourceError,
    SourceNotFound,
    SourceTimeout,
    SourceUnreachable,
    UnreadableData,
)
from dais.core.plugins import Registry, registry

__all__ = [
    "BUILTIN_CONNECTORS",
    "CheckResult",
    "Connector",
    "ConnectorUnavailable",
    "FilesConnector",
    "NoSecrets",
    "SourceAccessDenied",
    "SourceEntry",
    "SourceError",
    "SourceNotFound",
    "SourceTimeout",
    "SourceUnreachable",
    "TablesConnector",
    "UnreadableData",
    "connectors",
]

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.fs as pafs

    from dais.core.settings import DataSettings

BUILTIN_CONNECTORS = {
    "file": "dais.data.connectors.file:FileConnector",
    "s3": "dais.data.connectors.s3:S3Connector",
    "sql": "dais.data.connectors.sql:SqlConnector",
    "hive": "dais.data.connectors.hive:HiveConnector",
    "hdfs": "dais.data.connectors.hdfs:HdfsConnector",
}


# -- models ---------------------------------------------------------------------------------------------


class NoSecrets(BaseModel):
    """For a connector that needs no credentials."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of "test connection"."""

    ok: bool
    message: str
    latency_ms: float
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class SourceEntry:
    """One thing a user can pick in the registration wizard: a folder, a file, a schema or a table."""

    name: str
    path: str  # relative to the connection's root (files) or "schema.table" (tables)
    kind: str  # "dir" | "file" | "table" | "view" | "schema"
    size: int | None = None
    modified: str | None = None  # ISO-8601


class Connector(abc.ABC):
    """A kind of data connection. Subclasses set ``name``, ``Config``, ``Secrets``, ``capabilities``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Config: ClassVar[type[BaseModel]]
    Secrets: ClassVar[type[BaseModel]] = NoSecrets
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: BaseModel, secrets: BaseModel, *, settings: DataSettings) -> None:
        self.config = config
        self.secrets = secrets
        self.settings = settings

    def validate_config(self) -> None:
        """Checks beyond the ``Config`` model that need settings (an allowed root, say).

        Raises :class:`~dais.core.errors.InvalidInput` naming the field; runs before a connection is
        saved, so nothing invalid is ever stored. Touches no source.
        """
        return

    @abc.abstractmethod
    def check(self, timeout_s: float) -> CheckResult:
        """Try the connection (reach it, authenticate, read its root); never raises for a source failure."""

    @abc.abstractmethod
    def browse(self, path: str = "", *, limit: int = 1000, timeout_s: float) -> list[SourceEntry]:
        """What lies at ``path`` (files: a folder under the root; tables: a schema or ``""``)."""

    def close(self) -> None:
        """Release pools and clients (called when the connector is no longer needed)."""
        return


class FilesConnector(Connector):
    """A connector to files (local/NFS folders, S3 buckets, HDFS)."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"files"})

    @abc.abstractmethod
    def filesystem(self, timeout_s: float) -> pafs.FileSystem:
        """A pyarrow filesystem whose calls are bounded by ``timeout_s`` (connect and read)."""

    @abc.abstractmethod
    def resolve(self, path: str) -> str:
        """The filesystem path of ``path`` (relative to the connection's root; globs allowed).

        Raises :class:`~dais.core.errors.UnsafePath` for anything that would leave the root
        (``..``, absolute paths, and for local files symlinks pointing out of the allowed roots).
        """

    @abc.abstractmethod
    def relative(self, fs_path: str) -> str:
        """The inverse of :meth:`resolve`: a filesystem path back to one relative to the root."""

    def guard(self, fs_path: str) -> str:
        """``fs_path`` (one found by listing under :meth:`resolve`'s result) if reading it stays inside
        what the connection may read; :class:`~dais.core.errors.UnsafePath` if not.

        Only local folders need it (a listed file may be a symlink to elsewhere): the default accepts.
        """
        return fs_path


class TablesConnector(Connector):
    """A connector to tables (SQL databases, Hive)."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"tables"})

    @abc.abstractmethod
    def arrow_schema(self, *, table: str | None, query: str | None, timeout_s: float) -> pa.Schema:
        """The schema of a table or a query, without reading its rows."""

    @abc.abstractmethod
    def read(
        self,
        *,
        table: str | None,
        query: str | None,
        limit: int | None = None,
        batch_rows: int = 65_536,
        timeout_s: float,
    ) -> pa.RecordBatchReader:
        """A table or a query as a stream of record batches (server-side cursor; never all at once)."""

    @abc.abstractmethod
    def row_count(self, *, table: str | None, query: str | None, timeout_s: float) -> int | None:
        """How many rows (``None`` if the source cannot tell cheaply)."""

    @abc.abstractmethod
    def fingerprint(
        self, *, table: str | None, query: str | None, update_column: str | None, timeout_s: float
    ) -> dict[str, Any]:
        """What identifies the current content: row count and ``max(update_column)`` where given."""


def connectors() -> Registry[type[Connector]]:
    return registry("dais.connectors", builtins=BUILTIN_CONNECTORS)
