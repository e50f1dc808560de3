"""``hive``: Hive tables through Spark. The settings are real; reading arrives with the scale-out work,
until then every source call answers :class:`ConnectorUnavailable` (501) saying what is needed."""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from dais.data.connectors.base import (
    CheckResult,
    ConnectorUnavailable,
    NoSecrets,
    SourceEntry,
    TablesConnector,
)

SPARK_HINT = "The hive connector needs the spark extra (pip install 'dais[spark]')."
LATER = "The hive connector arrives with the scale-out work; this installation cannot read Hive yet."


class HiveConfig(BaseModel):
    """Where the Hive metastore is, and the Spark settings used to read through it."""

    model_config = ConfigDict(extra="forbid")

    metastore_uri: str = Field(
        pattern=r"^thrift://[^\s/]+(:\d+)?$", description="Hive metastore, thrift://host:9083."
    )
    database: str = Field(default="default", max_length=128, description="Hive database of table names.")
    spark_master: str | None = Field(default=None, description="Spark master URL (default: the platform's).")
    spark_conf: dict[str, str] = Field(default_factory=dict, description="Extra Spark settings (spark.*).")


def unavailable() -> ConnectorUnavailable:
    """What every source call raises: the extra to install, or that the support itself is pending."""
    present = importlib.util.find_spec("pyspark") is not None
    return ConnectorUnavailable(LATER if present else SPARK_HINT, needs="spark")


class HiveConnector(TablesConnector):
    """Hive tables (through Spark); a clear 501 until the scale-out work implements reading."""

    name = "hive"
    description = "Hive tables through Spark (needs the spark extra)."
    Config = HiveConfig
    Secrets = NoSecrets
    capabilities: ClassVar[frozenset[str]] = frozenset({"tables", "query", "spark"})

    def check(self, timeout_s: float) -> CheckResult:
        error = unavailable()
        return CheckResult(ok=False, message=error.detail, latency_ms=0.0, details={"code": error.code})

    def browse(self, path: str = "", *, limit: int = 1000, timeout_s: float) -> list[SourceEntry]:
        raise unavailable()

    def arrow_schema(self, *, table: str | None, query: str | None, timeout_s: float) -> pa.Schema:
        raise unavailable()

    def read(
        self,
        *,
        table: str | None,
        query: str | None,
        limit: int | None = None,
        batch_rows: int = 65_536,
        timeout_s: float,
    ) -> pa.RecordBatchReader:
        raise unavailable()

    def row_count(self, *, table: str | None, query: str | None, timeout_s: float) -> int | None:
        raise unavailable()

    def fingerprint(
        self, *, table: str | None, query: str | None, update_column: str | None, timeout_s: float
    ) -> dict[str, Any]:
        raise unavailable()
