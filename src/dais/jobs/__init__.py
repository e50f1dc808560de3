"""Jobs and scheduling: the durable queue, workers and executors, job kinds, DAGs.

Other domains submit work through these names and register their own job kinds. The names are
imported lazily, so that a job process importing ``dais.jobs.kinds`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers
    from dais.jobs.kinds import JobContext, JobKind, job_kinds  # noqa: F401
    from dais.jobs.schemas import DagSubmit, JobRead, JobSubmit  # noqa: F401
    from dais.jobs.service import submit_dag, submit_job  # noqa: F401
    from dais.jobs.states import JobState  # noqa: F401

_NAMES = {
    "DagSubmit": "dais.jobs.schemas",
    "JobContext": "dais.jobs.kinds",
    "JobKind": "dais.jobs.kinds",
    "JobRead": "dais.jobs.schemas",
    "JobState": "dais.jobs.states",
    "JobSubmit": "dais.jobs.schemas",
    "job_kinds": "dais.jobs.kinds",
    "submit_dag": "dais.jobs.service",
    "submit_job": "dais.jobs.service",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(name)
