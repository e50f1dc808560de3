"""The job kind interface and the registry of kinds."""

from __future__ import annotations

import abc
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel

from dais.core.plugins import Registry, registry

if TYPE_CHECKING:
    from dais.db import Database

BUILTIN_KINDS = {
    "noop": "dais.jobs.kinds.builtin:NoopKind",
    "sleep": "dais.jobs.kinds.builtin:SleepKind",
    "fail": "dais.jobs.kinds.builtin:FailKind",
    "script": "dais.jobs.kinds.script:ScriptKind",
    "data.register": "dais.data.jobs:RegisterKind",
    "data.refresh": "dais.data.jobs:RefreshKind",
    "data.materialize": "dais.data.jobs:MaterializeKind",
    "pipeline.run": "dais.pipelines.jobs:RunKind",
    "train.run": "dais.training.jobs:TrainRunKind",
    "train.script": "dais.training.jobs:TrainScriptKind",
    "train.tune": "dais.training.tuning.jobs:TuneKind",
}


class EmptySpec(BaseModel):
    """A kind that takes no parameters."""


@dataclass
class JobContext:
    """What a running handler knows and can do."""

    job_id: str
    attempt: int
    workspace_id: str
    scratch: Path
    attempt_prefix: str
    progress_file: Path | None = None
    env: dict[str, str] = field(default_factory=dict)

    def progress(self, fraction: float | None, message: str | None = None) -> None:
        """Report progress (0..1) and a short message; shown live in the API, CLI and UI."""
        if self.progress_file is None:
            return
        with self.progress_file.open("a") as f:
            f.write(json.dumps({"fraction": fraction, "message": (message or "")[:255]}) + "\n")


@dataclass
class AttemptEnded:
    """How one attempt of a job ended, for :meth:`JobKind.on_finished`.

    ``state``: ``succeeded``; ``failed`` (the handler raised or the process died); ``cancelled``;
    ``killed`` (stopped for its timeout); ``lost`` (the worker lost the job's lease and stopped it).
    ``retrying``: the job will run again (a later attempt).
    """

    job_id: str
    attempt: int
    workspace_id: str
    kind: str
    spec: dict[str, Any]
    state: Literal["succeeded", "failed", "cancelled", "killed", "lost"]
    error: str | None = None
    retrying: bool = False


class JobKind(abc.ABC):
    """A kind of job. Subclasses set ``name`` and ``Spec`` and implement :meth:`run`."""

    name: ClassVar[str]
    Spec: ClassVar[type[BaseModel]] = EmptySpec
    #: Whether the job gets ``DAIS_URL``/``DAIS_TOKEN`` (a token limited to its workspace) to call the API.
    api_access: ClassVar[bool] = True
    #: A trusted platform kind (data registration, pipeline runs): the job process gets the
    #: platform's own settings (database URL, instance secret) so the handler can call
    #: :func:`dais.core.settings.load_settings`. Never set it on a kind that runs user code.
    platform_access: ClassVar[bool] = False
    #: Modules the process that forks this kind's jobs imports ahead of time (heavy libraries:
    #: Ibis, DuckDB, pyarrow), so a job starts warm. Kinds of one ``warm_group`` share a launcher
    #: that imports all their modules; kinds without any use the light default launcher, which
    #: keeps forking cheap.
    preload: ClassVar[tuple[str, ...]] = ()
    warm_group: ClassVar[str | None] = None

    @abc.abstractmethod
    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        """Do the work; return a small JSON-able result (large outputs go to artifacts)."""

    @classmethod  # noqa: B027 - an optional hook, not abstract
    def on_finished(cls, db: Database, ended: AttemptEnded) -> None:
        """Called in the worker's own process after an attempt's end is recorded, however it ended.

        For state a handler keeps outside the job (a tracking run) that the handler could not close
        itself: a killed or cancelled process runs no ``finally``. Nothing by default. It runs on
        the worker's loop: keep it to a short transaction; an error it raises is logged, not raised.
        """


def job_kinds() -> Registry[type[JobKind]]:
    return registry("dais.job_kinds", builtins=BUILTIN_KINDS)
