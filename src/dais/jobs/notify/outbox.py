"""The outbox: deliveries written with the job change that caused them, then sent with retries.

:func:`match_and_enqueue` runs inside the queue's transaction and only writes rows. The scheduler's
loop calls :func:`check_long_running` (in a transaction) and :func:`deliver_due` (which manages its
own short transactions). Sending happens outside any transaction, several deliveries at a time on a
small thread pool, each bounded by its channel's timeout, so a slow or dead destination delays only
its own deliveries. A claimed delivery's ``next_try_at`` is pushed ahead by :data:`CLAIM_S` while it
is being sent; if the process dies mid-send it becomes due again then (at-least-once).
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dais.core.errors import DaisError
from dais.core.ids import new_id
from dais.core.settings import Settings
from dais.db import Database, utcnow
from dais.jobs.models import Job, ScheduleRun
from dais.jobs.notify.messages import job_payload, render
from dais.jobs.notify.models import DeliveryTry, NotificationChannel, NotificationDelivery, NotificationRule
from dais.jobs.notify.notifiers import DeliveryFailed, notifiers
from dais.jobs.notify.schemas import DeliveryState, RuleEvent
from dais.jobs.notify.vault import unseal
from dais.jobs.states import JobState
from dais.tenancy import Workspace

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_S = 10.0  # waits 10 s, 20 s, 40 s, ... between tries
BACKOFF_MAX_S = 3600.0
CLAIM_S = 600.0  # longer than any send may take (timeouts are at most 60 s per step)
SEND_THREADS = 8
MAX_ERROR_CHARS = 2000


def backoff_delay(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed try."""
    return float(min(BACKOFF_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


# -- matching ----------------------------------------------------------------------------------------


def _scheduled_by(session: Session, job: Job) -> set[str]:
    cond = ScheduleRun.job_id == job.id
    if job.dag_id:
        cond = or_(cond, ScheduleRun.dag_id == job.dag_id)
    return set(session.scalars(select(ScheduleRun.schedule_id).where(cond)))


def rule_covers(rule: NotificationRule, job: Job, schedules: Callable[[], set[str]]) -> bool:
    """Whether ``job`` is in the rule's scope (``schedules``: the ids of schedules that submitted it)."""
    if rule.job_id is not None:
        return job.id == rule.job_id
    if rule.dag_id is not None:
        return job.dag_id == rule.dag_id
    if rule.job_name_pattern is not None:
        return fnmatch.fnmatchcase(job.name, rule.job_name_pattern)
    if rule.schedule_id is not None:
        return rule.schedule_id in schedules()
    return True


def _new_delivery(
    session: Session,
    rule: NotificationRule,
    job: Job,
    event: str,
    *,
    now: datetime,
    dedupe_key: str | None = None,
) -> NotificationDelivery:
    delivery_id = new_id()
    workspace = session.get(Workspace, job.workspace_id)
    payload = job_payload(
        job,
        workspace,
        event,
        delivery_id=delivery_id,
        rule_id=rule.id,
        rule_name=rule.name,
        now=now,
        threshold_s=rule.running_longer_than_s if event == RuleEvent.running_longer else None,
    )
    return NotificationDelivery(
        id=delivery_id,
        workspace_id=job.workspace_id,
        rule_id=rule.id,
        channel_id=rule.channel_id,
        job_id=job.id,
        event=event,
        payload=payload,
        state=DeliveryState.pending,
        attempts=0,
        max_attempts=MAX_ATTEMPTS,
        next_try_at=now,
        dedupe_key=dedupe_key,
        created_at=now,
    )


def enabled_rules(session: Session, workspace_ids: Iterable[str]) -> dict[str, list[NotificationRule]]:
    """The enabled rules of each workspace (one query for many jobs ending together)."""
    found: dict[str, list[NotificationRule]] = {ws: [] for ws in workspace_ids}
    if found:
        for rule in session.scalars(
            select(NotificationRule).where(
                NotificationRule.workspace_id.in_(list(found)), NotificationRule.enabled.is_(True)
            )
        ):
            found[rule.workspace_id].append(rule)
    return found


def match_and_enqueue(
    session: Session, job: Job, event: str, *, now: datetime, rules: list[NotificationRule] | None = None
) -> int:
    """Write a pending delivery for every enabled rule of the job's workspace that wants ``event``.

    Runs in the transaction that changed the job, and must never make that change fail: a problem
    here is logged and the notification dropped, in a savepoint of its own. ``rules``: the
    workspace's enabled rules when the caller already read them (:func:`enabled_rules`).
    """
    if rules is None:
        rules = enabled_rules(session, [job.workspace_id])[job.workspace_id]
    if not rules:
        return 0
    cache: dict[str, set[str]] = {}

    def schedules() -> set[str]:
        if "ids" not in cache:
            cache["ids"] = _scheduled_by(session, job)
        return cache["ids"]

    wanted = [r for r in rules if event in (r.events or []) and rule_covers(r, job, schedules)]
    if not wanted:
        return 0
    try:
        with session.begin_nested():
            for rule in wanted:
                session.add(_new_delivery(session, rule, job, event, now=now))
    except Exception:
        log.exception("could not queue notifications for job %s (%s)", job.id, event)
        return 0
    return len(wanted)


def check_long_running(session: Session, *, now: datetime) -> int:
    """Queue one "running longer than N" delivery per running job and rule, never a second one."""
    rules = [
        r
        for r in session.scalars(
            select(NotificationRule).where(
                NotificationRule.enabled.is_(True), NotificationRule.running_longer_than_s.is_not(None)
            )
        )
        if RuleEvent.running_longer in (r.events or [])
    ]
    queued = 0
    for rule in rules:
        assert rule.running_longer_than_s is not None
        cutoff = now - timedelta(seconds=rule.running_longer_than_s)
        stmt = select(Job).where(
            Job.workspace_id == rule.workspace_id,
            Job.state == JobState.running,
            Job.started_at <= cutoff,
        )
        if rule.job_id is not None:
            stmt = stmt.where(Job.id == rule.job_id)
        if rule.dag_id is not None:
            stmt = stmt.where(Job.dag_id == rule.dag_id)
        jobs = list(session.scalars(stmt.limit(500)))
        if not jobs:
            continue
        keys = {f"{rule.id}:{j.id}": j for j in jobs}
        done = set(
            session.scalars(
                select(NotificationDelivery.dedupe_key).where(NotificationDelivery.dedupe_key.in_(list(keys)))
            )
        )
        for key, job in keys.items():
            if key in done or not rule_covers(rule, job, functools.partial(_scheduled_by, session, job)):
                continue
            try:
                with session.begin_nested():
                    session.add(
                        _new_delivery(session, rule, job, RuleEvent.running_longer, now=now, dedupe_key=key)
                    )
            except IntegrityError:
                continue  # another scheduler queued it first
            queued += 1
    return queued


# -- sending -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    """A delivery taken out of the database to be sent."""

    delivery_id: str
    attempts: int
    channel_id: str
    channel_name: str
    kind: str
    config: dict[str, Any]
    secrets_encrypted: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """How one try went."""

    ok: bool
    error: str | None
    started_at: datetime
    duration_ms: float


def work_for(channel: NotificationChannel, delivery_id: str, attempts: int, payload: dict[str, Any]) -> Work:
    return Work(
        delivery_id,
        attempts,
        channel.id,
        channel.name,
        channel.kind,
        dict(channel.config or {}),
        channel.secrets_encrypted,
        payload,
    )


def attempt(work: Work, settings: Settings, *, started_at: datetime | None = None) -> Outcome:
    """Send ``work`` once; never raises (the reason of a failure is in the outcome)."""
    started_at = started_at or utcnow()
    t0 = time.monotonic()
    error: str | None = None
    try:
        cls = notifiers().get(work.kind)
        config = cls.Config.model_validate(work.config)
        secrets = cls.Secrets.model_validate(unseal(settings.secret_key(), work.secrets_encrypted))
        cls().send(render(work.payload, settings), config, secrets)
    except DeliveryFailed as exc:
        error = str(exc) or type(exc).__name__
    except DaisError as exc:
        error = exc.detail
    except ValidationError as exc:
        error = f"The channel's settings no longer fit the {work.kind} notifier: {exc.errors()[0]['msg']}"
    except Exception as exc:
        log.exception("notifier %s raised while sending delivery %s", work.kind, work.delivery_id)
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = (time.monotonic() - t0) * 1000
    if error is not None and len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS] + " [...]"
    return Outcome(error is None, error, started_at, round(duration_ms, 3))


def _claim_due(session: Session, *, now: datetime, limit: int) -> list[Work]:
    stmt = (
        select(NotificationDelivery, NotificationChannel)
        .join(NotificationChannel, NotificationChannel.id == NotificationDelivery.channel_id)
        .where(NotificationDelivery.state == DeliveryState.pending, NotificationDelivery.next_try_at <= now)
        .order_by(NotificationDelivery.next_try_at, NotificationDelivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=NotificationDelivery)
    batch = []
    for delivery, channel in session.execute(stmt):
        delivery.next_try_at = now + timedelta(seconds=CLAIM_S)
        batch.append(work_for(channel, delivery.id, delivery.attempts, dict(delivery.payload or {})))
    session.flush()
    return batch


def record_outcome(
    session: Session, work: Work, outcome: Outcome, *, now: datetime
) -> NotificationDelivery | None:
    """Log the try and move the delivery on: sent, due again after a backoff, or failed for good."""
    stmt = select(NotificationDelivery).where(NotificationDelivery.id == work.delivery_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    delivery = session.scalar(stmt)
    if delivery is None or delivery.state != DeliveryState.pending or delivery.attempts != work.attempts:
        return None  # deleted, or recorded by someone else meanwhile
    delivery.attempts += 1
    session.add(
        DeliveryTry(
            delivery_id=delivery.id,
            number=delivery.attempts,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            ok=outcome.ok,
            error=outcome.error,
        )
    )
    if outcome.ok:
        delivery.state, delivery.sent_at, delivery.last_error = DeliveryState.sent, now, None
        log.info("notification %s (%s) sent to channel %s", delivery.id, delivery.event, work.channel_name)
    else:
        delivery.last_error = outcome.error
        if delivery.attempts >= delivery.max_attempts:
            delivery.state = DeliveryState.failed
        else:
            delivery.next_try_at = now + timedelta(seconds=backoff_delay(delivery.attempts))
        log.warning(
            "notification %s (%s) to channel %s failed (try %d of %d)%s: %s",
            delivery.id,
            delivery.event,
            work.channel_name,
            delivery.attempts,
            delivery.max_attempts,
            "; giving up" if delivery.state == DeliveryState.failed else "",
            outcome.error,
        )
    session.flush()
    return delivery


def deliver_due(db: Database, settings: Settings, *, now: datetime | None = None, limit: int = 50) -> int:
    """Send up to ``limit`` due deliveries; the number tried. Never raises for a failing destination.

    ``now`` fixes the clock (tests drive retries with it); by default the real time is used.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    with db.session() as session:
        batch = _claim_due(session, now=clock(), limit=limit)
    if not batch:
        return 0
    with ThreadPoolExecutor(
        max_workers=min(SEND_THREADS, len(batch)), thread_name_prefix="dais-notify"
    ) as pool:
        futures = {pool.submit(attempt, w, settings, started_at=clock()): w for w in batch}
        _record_all(db, futures.items(), clock)
    return len(batch)


def _record_all(db: Database, futures: Iterable[tuple[Any, Work]], clock: Callable[[], datetime]) -> None:
    pending = dict(futures)
    # Record each outcome as soon as it is known, so a slow destination holds back nothing else.
    for future in as_completed(pending):
        work = pending[future]
        try:
            with db.session() as session:
                record_outcome(session, work, future.result(), now=clock())
        except Exception:
            # The claim lapses after CLAIM_S and the delivery is tried again.
            log.exception("could not record the outcome of notification %s", work.delivery_id)
