"""Plain values the tracking service takes and returns (no database behind them)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


def now_ms() -> int:
    """Now in epoch milliseconds, MLflow's unit of time."""
    return int(time.time() * 1000)


@dataclass
class MetricIn:
    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None


@dataclass
class ParamIn:
    key: str
    value: str


@dataclass
class TagIn:
    key: str
    value: str


@dataclass
class DatasetInput:
    """A dataset a run consumed (MLflow's ``DatasetInput``), optionally a Dais dataset version."""

    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    schema: str | None = None
    profile: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    dataset_version_id: str | None = None


@dataclass
class MetricPoint:
    key: str
    value: float
    timestamp: int
    step: int
    run_id: str | None = None
    model_id: str | None = None


@dataclass
class InputEntry:
    """One row of a run's inputs: a dataset (``model_id`` None) or an MLflow 3 model input."""

    name: str | None
    digest: str | None
    source_type: str | None
    source: str | None
    schema: str | None
    profile: str | None
    context: str | None
    tags: dict[str, Any] | None
    dataset_version_id: str | None
    model_id: str | None


@dataclass
class OutputEntry:
    """A logged model a run produced."""

    model_id: str
    step: int


@dataclass
class RunData:
    """What MLflow's ``Run.data``, ``inputs`` and ``outputs`` carry for one run."""

    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, MetricPoint] = field(default_factory=dict)
    inputs: list[InputEntry] = field(default_factory=list)
    outputs: list[OutputEntry] = field(default_factory=list)
