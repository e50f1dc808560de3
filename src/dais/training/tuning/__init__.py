"""Tuning (AutoML): studies on Optuna over a preset's params, a script's declared space, or a task's
presets (an "auto model"); trials run as jobs, each a child tracking run; a coordinator job
(``train.tune``) asks, prunes and tells; the best trial can be promoted to the registry.

Other domains use these names only (imported lazily: the worker's launchers import every job kind).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dais.training.tuning.models import Study as Study
    from dais.training.tuning.models import Trial as Trial
    from dais.training.tuning.service import create_auto_study as create_auto_study
    from dais.training.tuning.service import create_study as create_study

_NAMES = {
    "Study": "dais.training.tuning.models",
    "Trial": "dais.training.tuning.models",
    "create_auto_study": "dais.training.tuning.service",
    "create_study": "dais.training.tuning.service",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(name)
