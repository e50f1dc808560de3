"""``hdfs``: files on a Hadoop cluster. The settings are real; reading arrives with the scale-out work,
until then every source call answers :class:`ConnectorUnavailable` (501) saying what is needed."""

from __future__ import annotations

import os
from typing import ClassVar

import pyarrow.fs as pafs
from pydantic import BaseModel, ConfigDict, Field

from dais.data.connectors.base import (
    CheckResult,
    ConnectorUnavailable,
    FilesConnector,
    NoSecrets,
    SourceEntry,
)

HADOOP_HINT = "The hdfs connector needs a Hadoop client (libhdfs and HADOOP_HOME) on the server."
LATER = "The hdfs connector arrives with the scale-out work; this installation cannot read HDFS yet."


class HdfsConfig(BaseModel):
    """Where the namenode is, and who to read as."""

    model_config = ConfigDict(extra="forbid")

    namenode_host: str = Field(min_length=1, max_length=255, description="Namenode host (or a nameservice).")
    namenode_port: int = Field(default=8020, ge=1, le=65535)
    root: str = Field(default="/", description="Absolute folder this connection is limited to.")
    user: str | None = Field(default=None, max_length=128, description="HDFS user to act as.")
    kerberos: bool = Field(
        default=False, description="Authenticate with Kerberos (a ticket cache on the server)."
    )


def hadoop_present() -> bool:
    """Whether a Hadoop client is installed here (HADOOP_HOME naming a folder with libhdfs)."""
    home = os.environ.get("HADOOP_HOME")
    return bool(home) and os.path.isdir(os.path.join(home or "", "lib", "native"))


def unavailable() -> ConnectorUnavailable:
    return ConnectorUnavailable(LATER if hadoop_present() else HADOOP_HINT, needs="hadoop")


class HdfsConnector(FilesConnector):
    """Files on HDFS; a clear 501 until the scale-out work implements reading."""

    name = "hdfs"
    description = "Files on a Hadoop cluster (needs a Hadoop client: libhdfs and HADOOP_HOME)."
    Config = HdfsConfig
    Secrets = NoSecrets
    capabilities: ClassVar[frozenset[str]] = frozenset({"files", "hadoop"})

    def check(self, timeout_s: float) -> CheckResult:
        error = unavailable()
        return CheckResult(ok=False, message=error.detail, latency_ms=0.0, details={"code": error.code})

    def browse(self, path: str = "", *, limit: int = 1000, timeout_s: float) -> list[SourceEntry]:
        raise unavailable()

    def filesystem(self, timeout_s: float) -> pafs.FileSystem:
        raise unavailable()

    def resolve(self, path: str) -> str:
        raise unavailable()

    def relative(self, fs_path: str) -> str:
        raise unavailable()
