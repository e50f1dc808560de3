"""The durable job queue in the metadata database.

Workers *claim* jobs under a lease that they renew with heartbeats. Claiming happens in one write
transaction: on PostgreSQL candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` (two workers
never wait on, or take, the same row) and the workspace quota row is locked so concurrent claims
cannot overrun a quota; on SQLite the write transaction is ``BEGIN IMMEDIATE``, which serialises
claimers. Every later write of an attempt is fenced by ``(id, attempt, lease_owner)``: a worker
that lost its lease can no longer change the job, so no two attempts ever both count.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from dais.core.ids import new_id
from dais.db import utcnow
from dais.jobs.models import Job, JobAttempt, JobDependency, Worker
from dais.jobs.notify import enabled_rules, record_job_event
from dais.jobs.states import FINISHED, JobState, WaitReason
from dais.tenancy import Quota, Workspace

LEASE_SECONDS = 30.0
CANDIDATES = 64
# A job whose worker vanished is delivered again; after this many lost deliveries beyond its
# attempts it fails instead, so a job that kills its worker cannot loop forever.
EXTRA_DELIVERIES = 3
# The plain tables, for batched statements on the hot path (no ORM bookkeeping per row).
_JOBS = cast(Table, Job.__table__)
_ATTEMPTS = cast(Table, JobAttempt.__table__)


class Wants(Protocol):
    """What a job asks for (a :class:`~dais.jobs.models.Job` or a claim candidate)."""

    cpus: float
    memory_mb: int
    gpus: int
    labels: dict[str, Any] | None


@dataclass
class Capacity:
    """Free resources of one worker at the moment it claims."""

    cpus: float
    memory_mb: int
    gpu_ids: list[str]
    slots: int
    labels: dict[str, str] = field(default_factory=dict)

    def fits(self, job: Wants) -> bool:
        return (
            self.slots > 0
            and job.cpus <= self.cpus + 1e-9
            and job.memory_mb <= self.memory_mb
            and job.gpus <= len(self.gpu_ids)
            and all(self.labels.get(k) == str(v) for k, v in (job.labels or {}).items())
        )

    def take(self, job: Wants) -> list[str]:
        self.cpus -= job.cpus
        self.memory_mb -= job.memory_mb
        self.slots -= 1
        taken, self.gpu_ids = self.gpu_ids[: job.gpus], self.gpu_ids[job.gpus :]
        return taken


@dataclass
class Usage:
    jobs: int = 0
    cpus: float = 0.0
    memory_mb: int = 0
    gpus: int = 0

    def add(self, job: Wants) -> None:
        self.jobs += 1
        self.cpus += job.cpus
        self.memory_mb += job.memory_mb
        self.gpus += job.gpus


def quota_block(quota: Quota | None, usage: Usage, job: Wants) -> str | None:
    """Why the workspace quota keeps ``job`` waiting (``None``: it does not)."""
    if quota is None:
        return None
    checks = [
        (quota.max_concurrent_jobs, usage.jobs + 1, f"{quota.max_concurrent_jobs} concurrent job(s)"),
        (quota.max_cpus, usage.cpus + job.cpus, f"{quota.max_cpus} CPUs"),
        (quota.max_memory_mb, usage.memory_mb + job.memory_mb, f"{quota.max_memory_mb} MB of memory"),
        (quota.max_gpus, usage.gpus + job.gpus, f"{quota.max_gpus} GPUs"),
    ]
    for limit, wanted, text in checks:
        if limit is not None and wanted > limit + 1e-9:
            return (
                f"{WaitReason.quota}: the workspace quota allows {text} and {usage.jobs} job(s) are running"
            )
    return None


@dataclass
class Claim:
    """A job a worker now holds, with what it needs to run it."""

    job_id: str
    attempt: int
    workspace_id: str
    kind: str
    spec: dict[str, Any]
    gpu_ids: list[str]
    timeout_s: float | None
    owner_id: str | None
    cpus: float
    memory_mb: int


@dataclass
class _Candidate:
    """A claimable job, read as plain columns (no ORM objects on the hot path)."""

    id: str
    workspace_id: str
    kind: str
    spec: dict[str, Any] | None
    priority: int
    cpus: float
    memory_mb: int
    gpus: int
    labels: dict[str, Any] | None
    attempt: int
    timeout_s: float | None
    owner_id: str | None
    created_at: datetime
    wait_reason: str | None
    ws_priority: int


_CANDIDATE_COLUMNS = (
    Job.id,
    Job.workspace_id,
    Job.kind,
    Job.spec,
    Job.priority,
    Job.cpus,
    Job.memory_mb,
    Job.gpus,
    Job.labels,
    Job.attempt,
    Job.timeout_s,
    Job.owner_id,
    Job.created_at,
    Job.wait_reason,
    Workspace.priority,
)


def _limits(quota: Quota) -> bool:
    return any(
        limit is not None
        for limit in (quota.max_concurrent_jobs, quota.max_cpus, quota.max_memory_mb, quota.max_gpus)
    )


def _running_usage(session: Session, workspace_ids: set[str]) -> dict[str, Usage]:
    usage: dict[str, Usage] = defaultdict(Usage)
    if not workspace_ids:
        return usage
    rows = session.execute(
        select(
            Job.workspace_id,
            func.count(),
            func.coalesce(func.sum(Job.cpus), 0),
            func.coalesce(func.sum(Job.memory_mb), 0),
            func.coalesce(func.sum(Job.gpus), 0),
        )
        .where(Job.state == JobState.running, Job.workspace_id.in_(workspace_ids))
        .group_by(Job.workspace_id)
    )
    for ws_id, n, cpus, mem, gpus in rows:
        usage[ws_id] = Usage(int(n), float(cpus), int(mem), int(gpus))
    return usage


def claim(
    session: Session,
    worker_id: str,
    free: Capacity,
    *,
    now: datetime | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> list[Claim]:
    """Claim as many runnable jobs as fit ``free``, best first; note why the others wait.

    Reads plain columns and writes with one batched UPDATE and INSERT, so claiming several jobs
    costs about as much as claiming one.
    """
    now = now or utcnow()
    if free.slots <= 0:
        return []
    is_pg = session.get_bind().dialect.name == "postgresql"
    stmt = (
        select(*_CANDIDATE_COLUMNS)
        .join(Workspace, Workspace.id == Job.workspace_id)
        .where(Job.state.in_([JobState.queued, JobState.retrying]), Job.not_before <= now)
        .order_by(Workspace.priority.desc(), Job.priority.desc(), Job.created_at, Job.id)
        .limit(min(CANDIDATES, 8 + 4 * free.slots))
    )
    if is_pg:
        stmt = stmt.with_for_update(skip_locked=True, of=Job)
    candidates = [_Candidate(*row) for row in session.execute(stmt)]
    if not candidates:
        return []
    ws_ids = {job.workspace_id for job in candidates}
    quota_stmt = select(Quota).where(Quota.workspace_id.in_(sorted(ws_ids)))
    if is_pg:
        # Serialise claims per workspace so concurrent workers cannot overrun its quota together.
        quota_stmt = quota_stmt.order_by(Quota.workspace_id).with_for_update()
    quotas = {q.workspace_id: q for q in session.scalars(quota_stmt) if _limits(q)}
    # Running usage matters for quota limits and for fair share between workspaces; with one
    # workspace and no limit (the common case) it changes nothing, so it is not computed.
    usage = _running_usage(session, ws_ids) if quotas or len(ws_ids) > 1 else defaultdict(Usage)
    claims: list[Claim] = []
    taken: list[dict[str, Any]] = []
    reasons: list[dict[str, Any]] = []
    # One queue per workspace, each already in (job priority, age) order from the query.
    lanes: dict[str, deque[_Candidate]] = defaultdict(deque)
    for job in candidates:
        lanes[job.workspace_id].append(job)
    while lanes and free.slots > 0 and free.cpus > 0 and free.memory_mb > 0:
        # Fair share: the highest-priority workspace first; among equals, the one running fewer
        # jobs (re-evaluated after every claim, so workspaces of equal priority alternate).
        ws_id = min(
            lanes,
            key=lambda w: (
                -lanes[w][0].ws_priority,
                usage[w].jobs,
                lanes[w][0].priority * -1,
                lanes[w][0].created_at,
                lanes[w][0].id,
            ),
        )
        job = lanes[ws_id].popleft()
        if not lanes[ws_id]:
            del lanes[ws_id]
        reason = quota_block(quotas.get(job.workspace_id), usage[job.workspace_id], job)
        if reason is None and not free.fits(job):
            reason = f"{WaitReason.capacity}: needs {job.cpus:g} CPU, {job.memory_mb} MB, {job.gpus} GPU"
            if job.labels:
                reason += f", labels {job.labels}"
        if reason is not None:
            if job.wait_reason != reason:
                reasons.append({"b_id": job.id, "b_reason": reason})
            continue
        gpu_ids = free.take(job)
        usage[job.workspace_id].add(job)
        attempt = job.attempt + 1
        taken.append({"b_id": job.id, "b_attempt": attempt, "b_gpu_ids": gpu_ids})
        claims.append(
            Claim(
                job.id,
                attempt,
                job.workspace_id,
                job.kind,
                dict(job.spec or {}),
                gpu_ids,
                job.timeout_s,
                job.owner_id,
                job.cpus,
                job.memory_mb,
            )
        )
    jobs = _JOBS
    if reasons:
        session.execute(
            update(jobs)
            .where(jobs.c.id == bindparam("b_id"))
            .values(wait_reason=bindparam("b_reason"), updated_at=now),
            reasons,
        )
    if taken:
        session.execute(
            update(jobs)
            .where(jobs.c.id == bindparam("b_id"))
            .values(
                state=JobState.running,
                attempt=bindparam("b_attempt"),
                lease_owner=worker_id,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                started_at=now,
                wait_reason=None,
                gpu_ids=bindparam("b_gpu_ids"),
                progress=None,
                progress_message=None,
                updated_at=now,
            ),
            taken,
        )
        session.execute(
            insert(_ATTEMPTS),
            [
                {
                    "id": new_id(),
                    "job_id": c.job_id,
                    "number": c.attempt,
                    "worker_id": worker_id,
                    "state": "running",
                    "started_at": now,
                }
                for c in claims
            ],
        )
    return claims


def heartbeat(
    session: Session,
    worker_id: str,
    held: list[tuple[str, int]],
    *,
    now: datetime | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> set[str]:
    """Renew the leases of ``held`` (job id, attempt); the ids whose lease is lost (stop them)."""
    now = now or utcnow()
    session.execute(update(Worker).where(Worker.id == worker_id).values(heartbeat_at=now))
    lost: set[str] = set()
    for job_id, attempt in held:
        result = session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.attempt == attempt,
                Job.lease_owner == worker_id,
                Job.state == JobState.running,
            )
            .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            lost.add(job_id)
    return lost


def cancel_requested(session: Session, job_ids: list[str]) -> set[str]:
    if not job_ids:
        return set()
    return set(session.scalars(select(Job.id).where(Job.id.in_(job_ids), Job.cancel_requested)))


def report_progress(
    session: Session, job_id: str, attempt: int, worker_id: str, fraction: float | None, message: str | None
) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempt == attempt, Job.lease_owner == worker_id)
        .values(progress=fraction, progress_message=message)
    )


def _fenced(session: Session, job_id: str, attempt: int, worker_id: str) -> Job | None:
    return session.scalar(
        select(Job)
        .where(
            Job.id == job_id,
            Job.attempt == attempt,
            Job.lease_owner == worker_id,
            Job.state == JobState.running,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _finish_attempt(
    session: Session,
    job: Job,
    state: str,
    *,
    exit_code: int | None,
    error: str | None,
    now: datetime,
    log_key: str | None,
) -> None:
    session.execute(
        update(JobAttempt)
        .where(JobAttempt.job_id == job.id, JobAttempt.number == job.attempt)
        .values(state=state, finished_at=now, exit_code=exit_code, error=error, log_key=log_key)
    )


@dataclass
class Ending:
    """How one attempt a worker held ended (what :func:`complete_many` records)."""

    job_id: str
    attempt: int
    succeeded: bool
    result: dict[str, Any] | None = None
    error: str | None = None
    exit_code: int | None = None
    cancelled: bool = False
    log_key: str | None = None


def complete_many(
    session: Session, worker_id: str, endings: list[Ending], *, now: datetime | None = None
) -> list[Job | None]:
    """Record the end of several attempts at once; per ending its job, or ``None`` if the lease was lost.

    One locking read of the jobs, one batched write of the attempts, one look for dependents and
    one for notification rules, however many attempts ended.
    """
    now = now or utcnow()
    if not endings:
        return []
    held = {
        job.id: job
        for job in session.scalars(
            select(Job)
            .where(
                Job.id.in_([e.job_id for e in endings]),
                Job.lease_owner == worker_id,
                Job.state == JobState.running,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    jobs: list[Job | None] = [
        held[e.job_id] if e.job_id in held and held[e.job_id].attempt == e.attempt else None for e in endings
    ]
    live = [j for j in jobs if j is not None]
    if not live:
        return jobs
    with_dependents = set(
        session.scalars(
            select(JobDependency.depends_on_id).where(JobDependency.depends_on_id.in_([j.id for j in live]))
        )
    )
    rules = enabled_rules(session, {j.workspace_id for j in live})
    attempts: list[dict[str, Any]] = []
    for ending, job in zip(endings, jobs, strict=True):
        if job is None:
            continue
        job.lease_owner, job.lease_expires_at = None, None
        if ending.succeeded:
            state, error = JobState.succeeded, None
            job.state, job.result, job.error, job.finished_at = JobState.succeeded, ending.result, None, now
            job.progress, job.progress_message = 1.0, "done"
            if job.id in with_dependents:
                release_dependents(session, job, now=now)
        elif ending.cancelled or job.cancel_requested:
            state, error = JobState.cancelled, ending.error
            job.state, job.error, job.finished_at = JobState.cancelled, ending.error or "cancelled", now
            if job.id in with_dependents:
                fail_dependents(session, job, now=now)
        else:
            state, error = JobState.failed, ending.error
            job.error = ending.error
            if job.attempt < job.max_attempts:
                job.state = JobState.retrying
                job.not_before = now + timedelta(seconds=job.backoff_s * 2 ** (job.attempt - 1))
                job.wait_reason = (
                    f"{WaitReason.backoff}: attempt {job.attempt} failed; next try after backoff"
                )
            else:
                job.state, job.finished_at = JobState.failed, now
                if job.id in with_dependents:
                    fail_dependents(session, job, now=now)
        attempts.append(
            {
                "b_job": job.id,
                "b_number": job.attempt,
                "b_state": str(state),
                "b_exit": ending.exit_code,
                "b_error": error,
                "b_log": ending.log_key,
            }
        )
        if job.state in FINISHED:
            record_job_event(session, job, str(job.state), now=now, rules=rules[job.workspace_id])
    table = _ATTEMPTS
    session.execute(
        update(table)
        .where(table.c.job_id == bindparam("b_job"), table.c.number == bindparam("b_number"))
        .values(
            state=bindparam("b_state"),
            finished_at=now,
            exit_code=bindparam("b_exit"),
            error=bindparam("b_error"),
            log_key=bindparam("b_log"),
        ),
        attempts,
    )
    session.flush()
    return jobs


def complete(
    session: Session,
    job_id: str,
    attempt: int,
    worker_id: str,
    *,
    succeeded: bool,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    exit_code: int | None = None,
    cancelled: bool = False,
    log_key: str | None = None,
    now: datetime | None = None,
) -> Job | None:
    """Record the end of an attempt; ``None`` if the worker no longer holds the lease."""
    ending = Ending(job_id, attempt, succeeded, result, error, exit_code, cancelled, log_key)
    return complete_many(session, worker_id, [ending], now=now)[0]


def hand_back(session: Session, job_id: str, attempt: int, worker_id: str, *, reason: str) -> bool:
    """Give a claimed job back to the queue without counting the attempt (a draining worker)."""
    now = utcnow()
    job = _fenced(session, job_id, attempt, worker_id)
    if job is None:
        return False
    _finish_attempt(session, job, "handed_back", exit_code=None, error=reason, now=now, log_key=None)
    job.state, job.lease_owner, job.lease_expires_at = JobState.queued, None, None
    job.attempt -= 1
    job.wait_reason = reason
    session.flush()
    return True


def reap_expired(session: Session, *, now: datetime | None = None) -> list[str]:
    """Re-queue running jobs whose lease expired (their worker died or hung); ids re-queued or failed."""
    now = now or utcnow()
    stmt = select(Job).where(Job.state == JobState.running, Job.lease_expires_at < now).limit(200)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    touched = []
    for job in session.scalars(stmt):
        lost = f"the worker holding attempt {job.attempt} stopped renewing its lease"
        _finish_attempt(session, job, "lost", exit_code=None, error=lost, now=now, log_key=None)
        job.lease_owner, job.lease_expires_at = None, None
        if job.cancel_requested:
            job.state, job.finished_at, job.error = JobState.cancelled, now, "cancelled"
            fail_dependents(session, job, now=now)
        elif job.attempt < job.max_attempts + EXTRA_DELIVERIES:
            job.state, job.wait_reason = JobState.queued, f"redelivered: {lost}"
        else:
            job.state, job.finished_at, job.error = JobState.failed, now, f"gave up: {lost}, too many times"
            fail_dependents(session, job, now=now)
        if job.state in FINISHED:
            record_job_event(session, job, str(job.state), now=now)
        touched.append(job.id)
    session.flush()
    return touched


def release_dependents(session: Session, job: Job, *, now: datetime) -> None:
    """Queue the pending dependents of ``job`` whose every upstream has now succeeded."""
    dependents = session.scalars(
        select(Job)
        .join(JobDependency, JobDependency.job_id == Job.id)
        .where(JobDependency.depends_on_id == job.id, Job.state == JobState.pending)
    )
    for dep in dependents:
        waiting = session.scalar(
            select(func.count())
            .select_from(JobDependency)
            .join(Job, Job.id == JobDependency.depends_on_id)
            .where(JobDependency.job_id == dep.id, Job.state != JobState.succeeded)
        )
        if not waiting:
            dep.state, dep.queued_at, dep.not_before, dep.wait_reason = JobState.queued, now, now, None


def fail_dependents(session: Session, job: Job, *, now: datetime) -> None:
    """Mark everything downstream of ``job`` upstream_failed (transitively)."""
    frontier = [job.id]
    while frontier:
        rows = list(
            session.scalars(
                select(Job)
                .join(JobDependency, JobDependency.job_id == Job.id)
                .where(JobDependency.depends_on_id.in_(frontier), Job.state == JobState.pending)
            )
        )
        for dep in rows:
            dep.state, dep.finished_at = JobState.upstream_failed, now
            dep.wait_reason = None
            dep.error = f"upstream job {job.name} ({job.id}) did not succeed"
        frontier = [d.id for d in rows]
