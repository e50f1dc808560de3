"""Data: connections to sources, registered datasets (sample, schema, partitions), versions, readers.

Other domains (pipelines, training, labeling) use data through these names: find a dataset and a
version, open it as a streaming reader, write a materialised copy and record it as a new version
with its lineage. The names are imported lazily, so importing :mod:`dais.data` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers
    from dais.data.datasets_service import add_lineage as add_lineage
    from dais.data.datasets_service import add_version as add_version
    from dais.data.datasets_service import get_dataset_in as get_dataset_in
    from dais.data.datasets_service import get_version as get_version
    from dais.data.datasets_service import record_registration as record_registration
    from dais.data.datasets_service import submit_registration as submit_registration
    from dais.data.inspect import inspect_source as inspect_source
    from dais.data.materialize import write_parquet as write_parquet
    from dais.data.models import Dataset as Dataset
    from dais.data.models import DatasetVersion as DatasetVersion
    from dais.data.reader import DataReader as DataReader
    from dais.data.reader import open_dataset as open_dataset
    from dais.data.schemas import VersionKind as VersionKind
    from dais.data.source import DataFormat as DataFormat
    from dais.data.source import Inspection as Inspection
    from dais.data.source import SourceSpec as SourceSpec
    from dais.data.sources import OpenedVersion as OpenedVersion
    from dais.data.sources import artifacts_connector as artifacts_connector
    from dais.data.sources import connector_of as connector_of
    from dais.data.sources import open_version as open_version

_NAMES = {
    "DataFormat": "dais.data.source",
    "DataReader": "dais.data.reader",
    "Dataset": "dais.data.models",
    "DatasetVersion": "dais.data.models",
    "Inspection": "dais.data.source",
    "OpenedVersion": "dais.data.sources",
    "SourceSpec": "dais.data.source",
    "VersionKind": "dais.data.schemas",
    "add_lineage": "dais.data.datasets_service",
    "add_version": "dais.data.datasets_service",
    "artifacts_connector": "dais.data.sources",
    "connector_of": "dais.data.sources",
    "get_dataset_in": "dais.data.datasets_service",
    "get_version": "dais.data.datasets_service",
    "inspect_source": "dais.data.inspect",
    "open_dataset": "dais.data.reader",
    "open_version": "dais.data.sources",
    "record_registration": "dais.data.datasets_service",
    "submit_registration": "dais.data.datasets_service",
    "write_parquet": "dais.data.materialize",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(name)
