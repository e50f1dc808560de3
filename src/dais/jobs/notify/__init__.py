"""Notifications about jobs: rules per workspace and per object, delivered by notifier plugins.

The queue calls :func:`record_job_event` in the same transaction that changes a job's state, so an
event is never lost and never sent for a change that rolled back (an outbox); the scheduler's loop
calls :func:`deliver_due` to send what is due, with retries and backoff, and
:func:`check_long_running` to raise "running longer than N" events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dais.jobs.models import Job


def record_job_event(session: Session, job: Job, event: str, *, now: datetime) -> None:
    """Queue notifications for ``event`` ("succeeded", "failed", "cancelled", ...) of ``job``."""
    from dais.jobs.notify.service import match_and_enqueue

    match_and_enqueue(session, job, event, now=now)
