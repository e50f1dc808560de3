"""The job state machine."""

from __future__ import annotations

import enum


class JobState(enum.StrEnum):
    """Where a job is in its life.

    ``pending`` waits for its dependencies; ``queued`` may run as soon as quota and capacity allow;
    ``retrying`` failed an attempt and waits out its backoff before being queued again.
    """

    pending = "pending"
    queued = "queued"
    running = "running"
    retrying = "retrying"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    upstream_failed = "upstream_failed"

    @property
    def finished(self) -> bool:
        return self in FINISHED


FINISHED = frozenset({JobState.succeeded, JobState.failed, JobState.cancelled, JobState.upstream_failed})
ACTIVE = frozenset({JobState.pending, JobState.queued, JobState.running, JobState.retrying})


class WaitReason(enum.StrEnum):
    """Why a queued or pending job is not running yet."""

    dependency = "dependency"
    quota = "quota"
    capacity = "capacity"
    backoff = "backoff"
    priority = "priority"
