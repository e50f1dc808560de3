"""The executor interface."""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from dais.core.plugins import Registry, registry

BUILTIN_EXECUTORS = {"local": "dais.jobs.executors.local:LocalExecutor"}


@dataclass
class RunRequest:
    """Everything an executor needs to run one attempt of one job."""

    job_id: str
    attempt: int
    workspace_id: str
    kind: str
    spec: dict[str, Any]
    scratch: Path
    attempt_prefix: str
    gpu_ids: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class RunOutcome:
    """How an attempt ended."""

    succeeded: bool
    exit_code: int | None
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class RunHandle:
    """An attempt an executor is running; ``native`` is the executor's own handle."""

    request: RunRequest
    log_path: Path
    progress_path: Path
    native: Any = None


class Executor(abc.ABC):
    """Runs attempts somewhere: each attempt isolated, its output in ``log_path``.

    Implementations must guarantee that :meth:`kill` stops the attempt and everything it started,
    and that an attempt does not outlive the worker that launched it.
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def launch(self, request: RunRequest) -> RunHandle:
        """Start the attempt and return at once."""

    @abc.abstractmethod
    def poll(self, handle: RunHandle) -> RunOutcome | None:
        """``None`` while the attempt runs; its outcome once it ended."""

    @abc.abstractmethod
    def kill(self, handle: RunHandle, *, grace_s: float = 5.0) -> None:
        """Stop the attempt and its whole process tree (SIGTERM, then SIGKILL after ``grace_s``)."""

    def wait(self, timeout: float) -> None:
        """Block until some attempt may have ended, or ``timeout`` seconds (a plain sleep by default)."""
        time.sleep(timeout)

    def prewarm(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Get ready for the kinds this worker may run (a long-lived worker calls it once at start)."""

    def close(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release the executor's own resources."""


def executors() -> Registry[type[Executor]]:
    return registry("dais.executors", builtins=BUILTIN_EXECUTORS)
