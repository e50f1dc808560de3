"""Preset training algorithms (group ``dais.algorithms``): the interface, the registry, search spaces."""

from __future__ import annotations

from dais.training.algorithms.base import (
    BUILTIN_ALGORITHMS,
    Algorithm,
    AlgorithmInfo,
    Choice,
    Distribution,
    FloatRange,
    IntRange,
    MetricPoint,
    SearchSpace,
    Task,
    TrainData,
    TrainLogger,
    algorithms,
    get_algorithm,
    list_algorithms,
    space_json,
)

__all__ = [
    "BUILTIN_ALGORITHMS",
    "Algorithm",
    "AlgorithmInfo",
    "Choice",
    "Distribution",
    "FloatRange",
    "IntRange",
    "MetricPoint",
    "SearchSpace",
    "Task",
    "TrainData",
    "TrainLogger",
    "algorithms",
    "get_algorithm",
    "list_algorithms",
    "space_json",
]
