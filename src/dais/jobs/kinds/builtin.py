"""Small built-in kinds: ``noop`` (for measuring the queue), ``sleep`` and ``fail`` (for trying things)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from dais.jobs.kinds.base import JobContext, JobKind


class NoopKind(JobKind):
    """Does nothing and succeeds: measures the scheduler itself."""

    name = "noop"
    api_access = False

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        return {}


class SleepSpec(BaseModel):
    seconds: float = Field(default=1.0, ge=0, le=86_400, description="How long to sleep.")
    steps: int = Field(default=10, ge=1, le=10_000, description="How many progress reports.")
    output: str = Field(default="", max_length=10_000, description="Text printed at each step.")


class SleepKind(JobKind):
    """Sleeps, reporting progress: for trying schedules, cancellation and timeouts."""

    name = "sleep"
    Spec = SleepSpec
    api_access = False

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        for i in range(spec.steps):
            time.sleep(spec.seconds / spec.steps)
            if spec.output:
                print(spec.output, flush=True)
            ctx.progress((i + 1) / spec.steps, f"step {i + 1} of {spec.steps}")
        return {"slept": spec.seconds}


class FailSpec(BaseModel):
    message: str = Field(default="failed on purpose", max_length=1000)


class FailKind(JobKind):
    """Fails with a message: for trying retries, DAG failure handling and notifications."""

    name = "fail"
    Spec = FailSpec
    api_access = False

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        raise RuntimeError(spec.message)
