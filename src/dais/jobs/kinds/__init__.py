"""Job kinds: a registered handler with a pydantic spec model (group ``dais.job_kinds``).

A handler author writes::

    class Spec(BaseModel):
        rows: int = 1000

    class MyKind(JobKind):
        name = "my-kind"
        Spec = Spec

        def run(self, ctx: JobContext, spec: Spec) -> dict[str, Any] | None:
            ctx.progress(0.5, "half way")
            ...
            return {"rows": spec.rows}

The contract (at-least-once delivery): a job may run more than once (a worker dies, a lease
expires), so a handler is idempotent. It writes its outputs under ``ctx.attempt_prefix`` (an
artifact prefix unique to this attempt) or ``ctx.scratch`` (a local folder of this attempt), and
only the returned result, recorded when the attempt succeeds, says which outputs count. Anything
visible outside the attempt is written last and written so that writing it twice does no harm.
"""

from __future__ import annotations

from dais.jobs.kinds.base import AttemptEnded, JobContext, JobKind, job_kinds

__all__ = ["AttemptEnded", "JobContext", "JobKind", "job_kinds"]
