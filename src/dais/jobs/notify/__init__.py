"""Notifications about jobs: rules per workspace and per object, delivered by notifier plugins.

The queue calls :func:`record_job_event` in the same transaction that changes a job's state, so an
event is never lost and never sent for a change that rolled back (an outbox); the scheduler's loop
calls :func:`deliver_due` to send what is due, with retries and backoff, and
:func:`check_long_running` to raise "running longer than N" events.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from dais.jobs.models import Job

if TYPE_CHECKING:
    from dais.jobs.notify.models import NotificationRule


def record_job_event(
    session: Session, job: Job, event: str, *, now: datetime, rules: list[NotificationRule] | None = None
) -> None:
    """Queue notifications for ``event`` ("succeeded", "failed", "cancelled", ...) of ``job``.

    ``rules``: the enabled rules of the job's workspace, when the caller read them already.
    """
    from dais.jobs.notify.service import match_and_enqueue

    match_and_enqueue(session, job, event, now=now, rules=rules)


def enabled_rules(session: Session, workspace_ids: Iterable[str]) -> dict[str, list[NotificationRule]]:
    """The enabled notification rules of each workspace, read once for many jobs."""
    from dais.jobs.notify.outbox import enabled_rules as read

    return read(session, workspace_ids)
