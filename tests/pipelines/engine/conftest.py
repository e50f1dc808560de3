"""Fixtures of the engine tests: datasets as parquet folders in a temporary folder (read through
:class:`ParquetFolderResolver`), a folder sink writer, and a small builder of pipeline graphs."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dais.pipelines.datasets import ParquetFolderResolver
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.runner import FolderSinkWriter

ENGINES = ["duckdb", "polars"]
CITIES = ["paris", "lyon", "nice", None]


def people(rows: int = 200) -> pa.Table:
    start = datetime(2024, 1, 1)
    return pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "age": pa.array([None if i % 10 == 3 else float(20 + i % 50) for i in range(rows)], pa.float64()),
            "city": pa.array([CITIES[i % 4] for i in range(rows)], pa.string()),
            "income": pa.array([1000.0 + 37.5 * (i % 17) for i in range(rows)], pa.float64()),
            "joined": pa.array([start + timedelta(days=i) for i in range(rows)], pa.timestamp("us")),
            "label": pa.array([i % 2 for i in range(rows)], pa.int64()),
        }
    )


def write_dataset(root: Path, name: str, table: pa.Table, version: int = 1) -> Path:
    folder = root / name / f"v{version}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-0.parquet")
    return folder


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    write_dataset(root, "people", people())
    return root


@pytest.fixture
def resolver(data_root: Path) -> ParquetFolderResolver:
    return ParquetFolderResolver(data_root)


@pytest.fixture
def writer(data_root: Path) -> FolderSinkWriter:
    return FolderSinkWriter(data_root)


def chain(*steps: tuple[str, str, dict[str, Any]]) -> PipelineGraph:
    """A linear pipeline: each step (id, operator, params) feeds the next through ``out`` -> ``in``."""
    nodes = [{"id": i, "operator": op, "params": params} for i, op, params in steps]
    edges = [{"source": a[0], "target": b[0]} for a, b in itertools.pairwise(steps)]
    return PipelineGraph.model_validate({"nodes": nodes, "edges": edges})


def read_version(root: Path, name: str, version: int) -> pa.Table:
    return pq.read_table(str(root / name / f"v{version}"))
