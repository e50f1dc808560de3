"""The engine interface (group ``dais.engines``): what the runner needs from a query engine.

Operators build Ibis expressions; an engine binds them to a backend and runs them. The runner never
sees engine-specific SQL: it asks an :class:`EngineSession` to turn dataset readers into tables, to run
small aggregates (fits), to materialise a table where the plan needs it, to count and sample node
outputs, and to stream or write a sink's rows. DuckDB implements it now (``engines/duckdb.py``); the
Spark engine implements the same methods over Ibis's pyspark backend.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from dais.core.errors import DaisError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from dais.pipelines.datasets import DataReader


class EngineError(DaisError):
    """The engine failed to run an expression (wraps the backend's own error)."""

    code = "pipeline_engine_error"
    status = 422
    title = "The engine could not run this step"


class NotSupportedByEngine(EngineError):
    """An operation this engine cannot run (the typed "not supported" of the Ibis model)."""

    code = "pipeline_not_supported"
    title = "Not supported by this engine"


@dataclass(frozen=True)
class SourceSample:
    """How a debug run samples a source: the first ``rows`` rows, or ``rows`` rows at random."""

    rows: int
    method: Literal["first", "random"] = "first"
    seed: int = 0


class EngineConfig(BaseModel):
    """Settings every engine understands (engines add their own)."""

    model_config = ConfigDict(extra="forbid")


class EngineSession(abc.ABC):
    """One run's connection to the engine. Closed by the runner (``with engine.session(...)``)."""

    @abc.abstractmethod
    def source(self, reader: DataReader, *, name: str, sample: SourceSample | None = None) -> ir.Table:
        """A dataset reader as a table: scanned in a stream (pushing projections and filters down when
        the reader allows it), or, with ``sample``, a small table of sampled rows."""

    @abc.abstractmethod
    def execute(self, expr: ir.Table) -> pa.Table:
        """Run ``expr`` now and return its (small) result."""

    @abc.abstractmethod
    def materialize(self, expr: ir.Table, *, name: str) -> ir.Table:
        """Compute ``expr`` once into an engine-side table (spilling to disk if large)."""

    @abc.abstractmethod
    def count(self, expr: ir.Table) -> int:
        """How many rows ``expr`` has."""

    @abc.abstractmethod
    def head(self, expr: ir.Table, rows: int) -> pa.Table:
        """The first ``rows`` rows of ``expr`` (reading no more than needed)."""

    @abc.abstractmethod
    def batches(self, expr: ir.Table, *, batch_rows: int = 65_536) -> pa.RecordBatchReader:
        """``expr``'s rows as a stream of Arrow batches (bounded memory)."""

    @abc.abstractmethod
    def write_parquet(
        self, expr: ir.Table, folder: Path, *, max_rows_per_file: int = 5_000_000
    ) -> dict[str, Any]:
        """Write ``expr`` as parquet files in a local ``folder``: ``{files, rows}``."""

    @abc.abstractmethod
    def read_parquet(self, paths: Sequence[str], *, name: str) -> ir.Table:
        """Local parquet files (a cached output) as a table."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the session's resources."""

    def __enter__(self) -> EngineSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Engine(abc.ABC):
    """A query engine plugin: a name, a ``Config`` model, and sessions."""

    name: ClassVar[str]
    Config: ClassVar[type[EngineConfig]] = EngineConfig
    #: What the engine can do beyond the basics ("spill", "native_parquet", ...).
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: EngineConfig | dict[str, Any] | None = None) -> None:
        if config is None or isinstance(config, dict):
            config = self.Config.model_validate(config or {})
        self.config = config

    @abc.abstractmethod
    def session(self, workdir: Path) -> EngineSession:
        """A new session whose scratch files (spill, temporary tables) live under ``workdir``."""
