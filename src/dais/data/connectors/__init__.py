"""Connector plugins (group ``dais.connectors``): file, s3, sql, hive, hdfs."""

from dais.data.connectors.base import (
    CheckResult,
    Connector,
    ConnectorUnavailable,
    FilesConnector,
    SourceAccessDenied,
    SourceEntry,
    SourceError,
    SourceNotFound,
    SourceTimeout,
    SourceUnreachable,
    TablesConnector,
    UnreadableData,
    connectors,
)

__all__ = [
    "CheckResult",
    "Connector",
    "ConnectorUnavailable",
    "FilesConnector",
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
