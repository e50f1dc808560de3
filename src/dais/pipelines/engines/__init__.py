"""Pipeline engines (group ``dais.engines``): each binds operators' Ibis expressions to a backend."""

from __future__ import annotations

from typing import Any

from dais.core.plugins import Registry, registry
from dais.pipelines.engines.base import (
    Engine,
    EngineConfig,
    EngineError,
    EngineSession,
    NotSupportedByEngine,
    SourceSample,
)

#: Built-in engines, as lazy "module:Class" strings (also declared as entry points in pyproject).
BUILTIN_ENGINES: dict[str, str] = {
    "duckdb": "dais.pipelines.engines.duckdb:DuckDBEngine",
    "polars": "dais.pipelines.engines.polars:PolarsEngine",
}


def engines() -> Registry[type[Engine]]:
    """The registry of engine classes."""
    return registry("dais.engines", builtins=BUILTIN_ENGINES)


def get_engine(name: str = "duckdb", config: dict[str, Any] | None = None) -> Engine:
    """An engine instance by registry name, with its config validated."""
    return engines().get(name)(config)


__all__ = [
    "BUILTIN_ENGINES",
    "Engine",
    "EngineConfig",
    "EngineError",
    "EngineSession",
    "NotSupportedByEngine",
    "SourceSample",
    "engines",
    "get_engine",
]
