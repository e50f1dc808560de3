"""Fixtures for the readers: a real ``file`` connection on a temporary folder, and small writers."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dais.core.settings import DataSettings
from dais.data.connectors.base import NoSecrets
from dais.data.connectors.file import FileConfig, FileConnector


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The connection's root (and the only allowed root)."""
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def files(root: Path) -> FileConnector:
    return FileConnector(FileConfig(root=str(root)), NoSecrets(), settings=DataSettings(allowed_roots=[root]))


def write_parquet(path: Path, table: pa.Table, **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **kwargs)
    return path


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def partitioned(root: Path, days: list[str], *, rows: int = 3, name: str = "events") -> Path:
    """``root/name/dt=<day>/part-0.parquet`` for each day, ``rows`` rows each."""
    for i, day in enumerate(days):
        table = pa.table(
            {
                "id": pa.array(range(i * rows, (i + 1) * rows), pa.int64()),
                "label": pa.array([f"v{j % 2}" for j in range(rows)]),
                "score": pa.array([j / 2 for j in range(rows)], pa.float64()),
            }
        )
        write_parquet(root / name / f"dt={day}" / "part-0.parquet", table)
    return root / name
