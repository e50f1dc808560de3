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

from sqlalchemy import Table, bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session

from dais.core.ids import new_id
from dais.db import utcnow
from dais.jobs.models import Job, JobAttempt, JobDependency, Worker
from dais.jobs.notify import enabled_rules, record_job_event
from dais.jobs.notify.models import NotificationRule
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
_QUOTAS = cast(Table, Quota.__table__)
_WORKSPACES = cast(Table, Workspace.__table__)
_DEPENDENCIES = cast(Table, JobDependency.__table__)
_RULES = cast(Table, NotificationRule.__table__)
_CLAIMABLE = [JobState.queued, JobState.retrying]


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

    def has_room(self) -> bool:
        """Whether some job could still fit (a free slot, and CPU and memory left)."""
        return self.slots > 0 and self.cpus > 1e-9 and self.memory_mb > 0

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


class Limits(Protocol):
    """A workspace's quota (a :class:`~dais.tenancy.Quota` or a row read with the candidates)."""

    max_concurrent_jobs: int | None
    max_cpus: float | None
    max_memory_mb: int | None
    max_gpus: int | None


@dataclass
class _QuotaRow:
    max_concurrent_jobs: int | None
    max_cpus: float | None
    max_memory_mb: int | None
    max_gpus: int | None


def quota_block(quota: Limits | None, usage: Usage, job: Wants) -> str | None:
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
    quota: _QuotaRow


def _candidates_statement(*, skip_locked: bool) -> Any:
    """Claimable jobs best first, with their workspace's priority and quota (built once)."""
    j, w, q = _JOBS.c, _WORKSPACES.c, _QUOTAS.c
    stmt = (
        select(
            j.id,
            j.workspace_id,
            j.kind,
            j.spec,
            j.priority,
            j.cpus,
            j.memory_mb,
            j.gpus,
            j.labels,
            j.attempt,
            j.timeout_s,
            j.owner_id,
            j.created_at,
            j.wait_reason,
            w.priority,
            q.max_concurrent_jobs,
            q.max_cpus,
            q.max_memory_mb,
            q.max_gpus,
        )
        .select_from(
            _JOBS.join(_WORKSPACES, w.id == j.workspace_id).outerjoin(
                _QUOTAS, q.workspace_id == j.workspace_id
            )
        )
        .where(j.state.in_(_CLAIMABLE), j.not_before <= bindparam("now"))
        .order_by(w.priority.desc(), j.priority.desc(), j.created_at, j.id)
        .limit(bindparam("limit"))
    )
    # PostgreSQL: two workers never wait on, or take, the same job row.
    return stmt.with_for_update(skip_locked=True, of=_JOBS) if skip_locked else stmt


_CANDIDATES = _candidates_statement(skip_locked=False)
_CANDIDATES_PG = _candidates_statement(skip_locked=True)
_LOCK_QUOTAS = (
    select(
        _QUOTAS.c.workspace_id,
        _QUOTAS.c.max_concurrent_jobs,
        _QUOTAS.c.max_cpus,
        _QUOTAS.c.max_memory_mb,
        _QUOTAS.c.max_gpus,
    )
    .where(_QUOTAS.c.workspace_id.in_(bindparam("ws_ids", expanding=True)))
    .order_by(_QUOTAS.c.workspace_id)
    .with_for_update()
)
_SET_WAIT_REASON = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("b_id"))
    .values(wait_reason=bindparam("b_reason"), updated_at=bindparam("b_now"))
)
_START = (
    update(_JOBS)
    .where(_JOBS.c.id == bindparam("b_id"))
    .values(
        state=JobState.running,
        attempt=bindparam("b_attempt"),
        lease_owner=bindparam("b_owner"),
        lease_expires_at=bindparam("b_expires"),
        started_at=bindparam("b_now"),
        wait_reason=None,
        gpu_ids=bindparam("b_gpu_ids"),
        progress=None,
        progress_message=None,
        updated_at=bindparam("b_now"),
    )
)


def _limits(quota: Limits) -> bool:
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

    One read of the candidates (with their workspace's quota) and one batched UPDATE and INSERT,
    however many jobs it claims. A workspace with quota limits is locked first on PostgreSQL, so
    concurrent claims cannot overrun it; on SQLite the write transaction itself serialises claims.
    """
    now = now or utcnow()
    if free.slots <= 0:
        return []
    conn = session.connection()
    is_pg = conn.dialect.name == "postgresql"
    # A few more candidates than free slots, to see past jobs that do not fit (each row read costs).
    params = {"now": now, "limit": min(CANDIDATES, 8 + 2 * free.slots)}
    candidates = [
        _Candidate(*row[:15], _QuotaRow(*row[15:]))  # type: ignore[call-arg]
        for row in conn.execute(_CANDIDATES_PG if is_pg else _CANDIDATES, params)
    ]
    if not candidates:
        return []
    ws_ids = {job.workspace_id for job in candidates}
    first = {job.workspace_id: job.quota for job in reversed(candidates)}  # one row per workspace
    quotas: dict[str, Limits] = {ws_id: quota for ws_id, quota in first.items() if _limits(quota)}
    if quotas and is_pg:
        # Serialise claims per limited workspace, and read its limits again under the lock.
        locked = conn.execute(_LOCK_QUOTAS, {"ws_ids": sorted(quotas)})
        quotas = {row[0]: _QuotaRow(*row[1:]) for row in locked if _limits(_QuotaRow(*row[1:]))}
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
    expires = now + timedelta(seconds=lease_seconds)
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
                reasons.append({"b_id": job.id, "b_reason": reason, "b_now": now})
            continue
        gpu_ids = free.take(job)
        usage[job.workspace_id].add(job)
        attempt = job.attempt + 1
        taken.append(
            {
                "b_id": job.id,
                "b_attempt": attempt,
                "b_gpu_ids": gpu_ids,
                "b_owner": worker_id,
                "b_expires": expires,
                "b_now": now,
            }
        )
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
    if reasons:
        conn.execute(_SET_WAIT_REASON, reasons)
    if taken:
        conn.execute(_START, taken)
        conn.execute(
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
    """Renew the leases of ``held`` (job id, attempt); the ids whose lease is lost (stop them).

    One UPDATE renews them all, and one read finds the attempts this worker no longer holds.
    """
    now = now or utcnow()
    session.execute(update(Worker).where(Worker.id == worker_id).values(heartbeat_at=now))
    if not held:
        return set()
    ids = [job_id for job_id, _ in held]
    mine = (Job.id.in_(ids), Job.lease_owner == worker_id, Job.state == JobState.running)
    session.execute(update(Job).where(*mine).values(lease_expires_at=now + timedelta(seconds=lease_seconds)))
    kept = {
        (job_id, attempt) for job_id, attempt in session.execute(select(Job.id, Job.attempt).where(*mine))
    }
    return {job_id for job_id, attempt in held if (job_id, attempt) not in kept}


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


@dataclass
class Settled:
    """What :func:`complete_many` recorded for one attempt: the job's new state and error."""

    job_id: str
    workspace_id: str
    state: JobState
    error: str | None


def _held_statement(*, lock: bool) -> Any:
    """The jobs a worker holds among ``ids``, with whether anything waits on them (built once)."""
    j, d, r = _JOBS.c, _DEPENDENCIES.c, _RULES.c
    stmt = select(
        j.id,
        j.attempt,
        j.workspace_id,
        j.cancel_requested,
        j.max_attempts,
        j.backoff_s,
        exists().where(d.depends_on_id == j.id).label("dependents"),
        exists().where(r.workspace_id == j.workspace_id, r.enabled.is_(True)).label("rules"),
    ).where(
        j.id.in_(bindparam("ids", expanding=True)),
        j.lease_owner == bindparam("owner"),
        j.state == JobState.running,
    )
    return stmt.with_for_update(of=_JOBS) if lock else stmt


_HELD = _held_statement(lock=False)
_HELD_PG = _held_statement(lock=True)
_ENDED_ATTEMPT = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.job_id == bindparam("b_job"), _ATTEMPTS.c.number == bindparam("b_number"))
    .values(
        state=bindparam("b_state"),
        finished_at=bindparam("b_now"),
        exit_code=bindparam("b_exit"),
        error=bindparam("b_error"),
        log_key=bindparam("b_log"),
    )
)


def _ended(state: JobState, **values: Any) -> Any:
    """The UPDATE that ends a job's attempt in ``state`` (the lease is given up)."""
    return (
        update(_JOBS)
        .where(_JOBS.c.id == bindparam("b_id"))
        .values(
            state=state,
            lease_owner=None,
            lease_expires_at=None,
            error=bindparam("b_error"),
            updated_at=bindparam("b_now"),
            **values,
        )
    )


_FINISHED_AT: dict[str, Any] = {"finished_at": bindparam("b_now")}
_ENDS = {
    JobState.succeeded: _ended(
        JobState.succeeded,
        result=bindparam("b_result"),
        progress=1.0,
        progress_message="done",
        **_FINISHED_AT,
    ),
    JobState.cancelled: _ended(JobState.cancelled, **_FINISHED_AT),
    JobState.failed: _ended(JobState.failed, **_FINISHED_AT),
    JobState.retrying: _ended(
        JobState.retrying, not_before=bindparam("b_not_before"), wait_reason=bindparam("b_wait")
    ),
}


def complete_many(
    session: Session, worker_id: str, endings: list[Ending], *, now: datetime | None = None
) -> list[Settled | None]:
    """Record the end of several attempts at once; per ending what was recorded, or ``None`` if the
    worker no longer held that attempt's lease (its result is dropped).

    One read of the held jobs (locked on PostgreSQL), one batched UPDATE per new state and one of
    the attempts, however many attempts ended. Dependents and notification rules are looked at
    only for jobs that have them.
    """
    now = now or utcnow()
    if not endings:
        return []
    conn = session.connection()
    held = {
        row.id: row
        for row in conn.execute(
            _HELD_PG if conn.dialect.name == "postgresql" else _HELD,
            {"ids": [e.job_id for e in endings], "owner": worker_id},
        )
    }
    settled: list[Settled | None] = []
    writes: dict[JobState, list[dict[str, Any]]] = defaultdict(list)
    attempts: list[dict[str, Any]] = []
    for ending in endings:
        row = held.get(ending.job_id)
        if row is None or row.attempt != ending.attempt:
            settled.append(None)
            continue
        values: dict[str, Any] = {"b_id": row.id, "b_now": now, "b_error": ending.error}
        attempt_state = state = JobState.failed
        if ending.succeeded:
            attempt_state = state = JobState.succeeded
            values.update(b_result=ending.result, b_error=None)
        elif ending.cancelled or row.cancel_requested:
            attempt_state = state = JobState.cancelled
            values["b_error"] = ending.error or "cancelled"
        elif row.attempt < row.max_attempts:
            state = JobState.retrying
            values["b_not_before"] = now + timedelta(seconds=row.backoff_s * 2 ** (row.attempt - 1))
            values["b_wait"] = f"{WaitReason.backoff}: attempt {row.attempt} failed; next try after backoff"
        writes[state].append(values)
        attempts.append(
            {
                "b_job": row.id,
                "b_number": row.attempt,
                "b_state": str(attempt_state),
                "b_now": now,
                "b_exit": ending.exit_code,
                "b_error": None if ending.succeeded else ending.error,
                "b_log": ending.log_key,
            }
        )
        settled.append(Settled(row.id, row.workspace_id, state, values["b_error"]))
    if not attempts:
        return settled
    for state, rows in writes.items():
        conn.execute(_ENDS[state], rows)
    conn.execute(_ENDED_ATTEMPT, attempts)
    _follow_up(session, [(held[s.job_id], s) for s in settled if s is not None], now=now)
    session.flush()
    return settled


def _follow_up(session: Session, ended: list[tuple[Any, Settled]], *, now: datetime) -> None:
    """Release or fail the dependents of the jobs that ended, and queue their notifications."""
    wanted = [(row, s) for row, s in ended if row.dependents or (row.rules and s.state in FINISHED)]
    if not wanted:
        return
    rules = enabled_rules(session, {s.workspace_id for row, s in wanted if row.rules})
    for row, s in wanted:
        job = session.get_one(Job, s.job_id, populate_existing=True)
        if row.dependents:
            if s.state == JobState.succeeded:
                release_dependents(session, job, now=now)
            elif s.state in FINISHED:
                fail_dependents(session, job, now=now)
        if row.rules and s.state in FINISHED:
            record_job_event(session, job, str(s.state), now=now, rules=rules[s.workspace_id])


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
) -> Settled | None:
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
