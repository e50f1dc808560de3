"""Feature pipelines: a DAG of typed operators, validated before it runs, compiled for an engine.

Public names (other domains use only these): the graph model, validation, the runner and its
protocols (dataset resolver, sink writer, cache), fitted-transform chains, and the engine registry.
They are imported lazily: a job process importing ``dais.pipelines.jobs`` (every worker's launcher
imports all job kinds) stays light until a pipeline actually runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers
    from dais.core.errors import PipelineInvalid  # noqa: F401
    from dais.pipelines.cache import RunCache  # noqa: F401
    from dais.pipelines.datasets import (
        DatasetLocation,  # noqa: F401
        DatasetResolver,  # noqa: F401
        ParquetFolderResolver,  # noqa: F401
        ReaderResolver,  # noqa: F401
        table_schema,  # noqa: F401
    )
    from dais.pipelines.engines import (
        Engine,  # noqa: F401
        EngineError,  # noqa: F401
        NotSupportedByEngine,  # noqa: F401
        engines,  # noqa: F401
        get_engine,  # noqa: F401
    )
    from dais.pipelines.graph import (
        Edge,  # noqa: F401
        Node,  # noqa: F401
        PipelineGraph,  # noqa: F401
        Variable,  # noqa: F401
    )
    from dais.pipelines.runner import (
        FolderSinkWriter,  # noqa: F401
        NodeEvent,  # noqa: F401
        NodeResult,  # noqa: F401
        NodeStatus,  # noqa: F401
        RunResult,  # noqa: F401
        SinkData,  # noqa: F401
        SinkWriter,  # noqa: F401
        run_pipeline,  # noqa: F401
    )
    from dais.pipelines.transforms import (
        TransformChain,  # noqa: F401
        chain_for,  # noqa: F401
    )
    from dais.pipelines.validate import (
        Issue,  # noqa: F401
        Validation,  # noqa: F401
        check_graph,  # noqa: F401
        validate_graph,  # noqa: F401
    )

_NAMES = {
    "DatasetLocation": "dais.pipelines.datasets",
    "DatasetResolver": "dais.pipelines.datasets",
    "Edge": "dais.pipelines.graph",
    "Engine": "dais.pipelines.engines",
    "EngineError": "dais.pipelines.engines",
    "FolderSinkWriter": "dais.pipelines.runner",
    "Issue": "dais.pipelines.validate",
    "Node": "dais.pipelines.graph",
    "NodeEvent": "dais.pipelines.runner",
    "NodeResult": "dais.pipelines.runner",
    "NodeStatus": "dais.pipelines.runner",
    "NotSupportedByEngine": "dais.pipelines.engines",
    "ParquetFolderResolver": "dais.pipelines.datasets",
    "PipelineGraph": "dais.pipelines.graph",
    "PipelineInvalid": "dais.core.errors",
    "ReaderResolver": "dais.pipelines.datasets",
    "RunCache": "dais.pipelines.cache",
    "RunResult": "dais.pipelines.runner",
    "SinkData": "dais.pipelines.runner",
    "SinkWriter": "dais.pipelines.runner",
    "TransformChain": "dais.pipelines.transforms",
    "Validation": "dais.pipelines.validate",
    "Variable": "dais.pipelines.graph",
    "chain_for": "dais.pipelines.transforms",
    "check_graph": "dais.pipelines.validate",
    "engines": "dais.pipelines.engines",
    "get_engine": "dais.pipelines.engines",
    "run_pipeline": "dais.pipelines.runner",
    "table_schema": "dais.pipelines.datasets",
    "validate_graph": "dais.pipelines.validate",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(name)
