"""Training: preset algorithms (``dais.algorithms``), evaluation, splits, loading dataset versions
into arrays, the ``train.run`` job kind and the API that launches training runs.

Other domains use these names only. They are imported lazily: a worker's launcher imports every job
kind, and importing :mod:`dais.training.jobs` must not pull scikit-learn or LightGBM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers
    from dais.training.algorithms import Algorithm as Algorithm
    from dais.training.algorithms import Choice as Choice
    from dais.training.algorithms import FloatRange as FloatRange
    from dais.training.algorithms import IntRange as IntRange
    from dais.training.algorithms import TrainData as TrainData
    from dais.training.algorithms import TrainLogger as TrainLogger
    from dais.training.algorithms import algorithms as algorithms
    from dais.training.algorithms import get_algorithm as get_algorithm
    from dais.training.evaluate import evaluate as evaluate
    from dais.training.splits import Split as Split
    from dais.training.splits import make_folds as make_folds

_NAMES = {
    "Algorithm": "dais.training.algorithms",
    "Choice": "dais.training.algorithms",
    "FloatRange": "dais.training.algorithms",
    "IntRange": "dais.training.algorithms",
    "Split": "dais.training.splits",
    "TrainData": "dais.training.algorithms",
    "TrainLogger": "dais.training.algorithms",
    "algorithms": "dais.training.algorithms",
    "evaluate": "dais.training.evaluate",
    "get_algorithm": "dais.training.algorithms",
    "make_folds": "dais.training.splits",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(name)
