"""Job operations: submit (one, a batch or a DAG), read, list, cancel, retry; the worker pool view."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dais.core.errors import Conflict, InvalidInput, NotFound, PluginError
from dais.db import Page, paginate, utcnow
from dais.jobs.kinds import job_kinds
from dais.jobs.models import Job, JobAttempt, JobDependency, Worker
from dais.jobs.notify import record_job_event
from dais.jobs.queue import fail_dependents
from dais.jobs.schemas import DagSubmit, JobBatchSubmit, JobSubmit
from dais.jobs.states import FINISHED, JobState, WaitReason
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit

WORKER_TIMEOUT = timedelta(seconds=30)


def validate_spec(kind: str, spec: dict[str, Any], loc: list[str]) -> dict[str, Any]:
    """The spec as the kind's model normalises it; 422 naming the field if it does not fit."""
    reg = job_kinds()
    if kind not in reg:
        raise InvalidInput(
            f"Unknown job kind {kind!r}; known kinds: {', '.join(reg.names())}.",
            errors=[{"loc": [*loc, "kind"], "msg": "unknown kind"}],
        )
    try:
        cls = reg.get(kind)
    except PluginError as exc:
        raise InvalidInput(f"The job kind {kind!r} cannot be loaded: {exc.detail}") from exc
    try:
        return cls.Spec.model_validate(spec).model_dump(mode="json")
    except ValidationError as exc:
        errors = [
            {"loc": [*loc, "spec", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        fields = ", ".join(".".join(e["loc"][len(loc) :]) for e in errors[:5])
        raise InvalidInput(
            f"The spec does not fit job kind {kind!r}: check {fields}.", errors=errors
        ) from exc


def live_workers(session: Session) -> list[Worker]:
    cutoff = utcnow() - WORKER_TIMEOUT
    return list(session.scalars(select(Worker).where(Worker.state != "gone", Worker.heartbeat_at >= cutoff)))


def check_placeable(workers: list[Worker], spec: JobSubmit, loc: list[str]) -> str | None:
    """Refuse a request none of the live ``workers`` could ever satisfy; a wait reason if none is online."""
    if not workers:
        return f"{WaitReason.capacity}: no worker is online"
    r = spec.resources
    for w in workers:
        if (
            r.cpus <= w.cpus
            and r.memory_mb <= w.memory_mb
            and r.gpus <= len(w.gpu_ids or [])
            and all((w.labels or {}).get(k) == v for k, v in r.labels.items())
        ):
            return None
    biggest = max(workers, key=lambda w: (len(w.gpu_ids or []), w.cpus, w.memory_mb))
    raise InvalidInput(
        f"No worker can ever run this job: it asks for {r.cpus:g} CPU, {r.memory_mb} MB, {r.gpus} GPU"
        + (f" and labels {r.labels}" if r.labels else "")
        + f"; the largest worker offers {biggest.cpus:g} CPU, {biggest.memory_mb} MB, "
        f"{len(biggest.gpu_ids or [])} GPU. Ask for less, or add a worker that has it.",
        errors=[{"loc": [*loc, "resources"], "msg": "no worker fits"}],
    )


def _new_job(
    access: WorkspaceAccess,
    ctx: AuditContext,
    spec: JobSubmit,
    normalised: dict[str, Any],
    state: JobState,
    wait: str | None,
) -> Job:
    now = utcnow()
    r = spec.resources
    return Job(
        workspace_id=access.workspace.id,
        owner_id=ctx.actor_id,
        name=spec.name or spec.kind,
        kind=spec.kind,
        spec=normalised,
        priority=spec.priority,
        cpus=r.cpus,
        memory_mb=r.memory_mb,
        gpus=r.gpus,
        labels=r.labels,
        state=state,
        wait_reason=wait,
        max_attempts=spec.max_attempts,
        backoff_s=spec.backoff_s,
        timeout_s=spec.timeout_s,
        not_before=now,
        queued_at=now if state == JobState.queued else None,
        created_at=now,
    )


def submit_job(session: Session, ctx: AuditContext, access: WorkspaceAccess, spec: JobSubmit) -> Job:
    return _submit(session, ctx, access, [spec], [["body"]])[0]


def submit_jobs(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, batch: JobBatchSubmit
) -> list[Job]:
    """Submit independent jobs together, in one transaction: all are queued, or none is.

    Costs far less per job than one submit each: the workers and the upstream jobs are read once,
    and the rows are written in batches.
    """
    return _submit(
        session, ctx, access, batch.jobs, [["body", "jobs", str(i)] for i in range(len(batch.jobs))]
    )


def _submit(
    session: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    specs: list[JobSubmit],
    locs: list[list[str]],
) -> list[Job]:
    normalised = [validate_spec(spec.kind, spec.spec, loc) for spec, loc in zip(specs, locs, strict=True)]
    workers = live_workers(session)
    waits = [check_placeable(workers, spec, loc) for spec, loc in zip(specs, locs, strict=True)]
    wanted = {dep_id for spec in specs for dep_id in spec.depends_on}
    known = (
        {
            job.id: job
            for job in session.scalars(
                select(Job).where(Job.id.in_(sorted(wanted)), Job.workspace_id == access.workspace.id)
            )
        }
        if wanted
        else {}
    )
    jobs: list[Job] = []
    edges: list[tuple[Job, list[Job]]] = []
    for spec, loc, spec_json, wait in zip(specs, locs, normalised, waits, strict=True):
        upstream = []
        for dep_id in dict.fromkeys(spec.depends_on):
            if dep_id not in known:
                raise NotFound(
                    f"Job {dep_id!r} (in depends_on) not found in this workspace.",
                    errors=[{"loc": [*loc, "depends_on"], "msg": "unknown job"}],
                )
            upstream.append(known[dep_id])
        state = JobState.queued
        if any(u.state in FINISHED and u.state != JobState.succeeded for u in upstream):
            state = JobState.upstream_failed
        elif any(u.state != JobState.succeeded for u in upstream):
            state, wait = JobState.pending, f"{WaitReason.dependency}: waiting for upstream jobs"
        job = _new_job(access, ctx, spec, spec_json, state, wait)
        if state == JobState.upstream_failed:
            job.finished_at, job.error = utcnow(), "an upstream job did not succeed"
        jobs.append(job)
        edges.append((job, upstream))
    session.add_all(jobs)
    session.flush()
    for job, upstream in edges:
        session.add_all(JobDependency(job_id=job.id, depends_on_id=u.id) for u in upstream)
        record_audit(
            session,
            ctx,
            "job.submit",
            target_type="job",
            target_id=job.id,
            workspace_id=access.workspace.id,
            details={"kind": job.kind, "name": job.name},
        )
    session.flush()
    return jobs


def _find_cycle(nodes: dict[str, list[str]]) -> list[str] | None:
    indegree = dict.fromkeys(nodes, 0)
    for n, after in nodes.items():
        indegree[n] = len(after)
    children: dict[str, list[str]] = defaultdict(list)
    for n, after in nodes.items():
        for a in after:
            children[a].append(n)
    ready = [n for n, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for c in children[n]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if seen == len(nodes):
        return None
    return sorted(n for n, d in indegree.items() if d > 0)


def submit_dag(session: Session, ctx: AuditContext, access: WorkspaceAccess, dag: DagSubmit) -> list[Job]:
    """Create every job of a DAG at once: roots are queued, the rest wait for their upstreams."""
    names = [n.node for n in dag.nodes]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInput(
            f"Node names must be unique in a DAG; repeated: {', '.join(dupes)}.",
            errors=[{"loc": ["body", "nodes"], "msg": "duplicate node"}],
        )
    graph: dict[str, list[str]] = {}
    for i, node in enumerate(dag.nodes):
        unknown = [a for a in node.after if a not in names]
        if unknown:
            raise InvalidInput(
                f"Node {node.node!r} runs after unknown node(s): {', '.join(unknown)}.",
                errors=[{"loc": ["body", "nodes", str(i), "after"], "msg": "unknown node"}],
            )
        graph[node.node] = list(dict.fromkeys(node.after))
    cycle = _find_cycle(graph)
    if cycle:
        raise InvalidInput(
            f"The DAG has a cycle through: {', '.join(cycle)}.",
            errors=[{"loc": ["body", "nodes"], "msg": "cycle"}],
        )
    normalised = {
        n.node: validate_spec(n.kind, n.spec, ["body", "nodes", str(i)]) for i, n in enumerate(dag.nodes)
    }
    workers = live_workers(session)  # one query for the whole DAG
    waits = {n.node: check_placeable(workers, n, ["body", "nodes", str(i)]) for i, n in enumerate(dag.nodes)}
    jobs: dict[str, Job] = {}
    dag_id = None
    for node in dag.nodes:
        wait: str | None
        if node.after:
            state, wait = JobState.pending, f"{WaitReason.dependency}: waiting for {', '.join(node.after)}"
        else:
            state, wait = JobState.queued, waits[node.node]
        job = _new_job(access, ctx, node, normalised[node.node], state, wait)
        job.name = node.name or node.node
        job.dag_node = node.node
        job.dag_name = dag.name
        session.add(job)
        session.flush()
        dag_id = dag_id or job.id
        job.dag_id = dag_id
        jobs[node.node] = job
    for node in dag.nodes:
        for a in graph[node.node]:
            session.add(JobDependency(job_id=jobs[node.node].id, depends_on_id=jobs[a].id))
    record_audit(
        session,
        ctx,
        "dag.submit",
        target_type="dag",
        target_id=dag_id,
        workspace_id=access.workspace.id,
        details={"name": dag.name, "nodes": len(dag.nodes)},
    )
    session.flush()
    return list(jobs.values())


def get_job(session: Session, access: WorkspaceAccess, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.workspace_id != access.workspace.id:
        raise NotFound(f"Job {job_id!r} not found in workspace {access.workspace.slug!r}.")
    return job


def upstream_ids(session: Session, job_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    if job_ids:
        for job_id, dep in session.execute(
            select(JobDependency.job_id, JobDependency.depends_on_id).where(JobDependency.job_id.in_(job_ids))
        ):
            out[job_id].append(dep)
    return out


def attempts_of(session: Session, job_id: str) -> list[JobAttempt]:
    return list(
        session.scalars(
            select(JobAttempt)
            .where(JobAttempt.job_id == job_id)
            .order_by(JobAttempt.number, JobAttempt.started_at)
        )
    )


def list_jobs(
    session: Session,
    access: WorkspaceAccess,
    *,
    state: list[JobState] | None,
    kind: str | None,
    dag_id: str | None,
    q: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> Page[Job]:
    stmt = select(Job).where(Job.workspace_id == access.workspace.id)
    if state:
        stmt = stmt.where(Job.state.in_(state))
    if kind:
        stmt = stmt.where(Job.kind == kind)
    if dag_id:
        stmt = stmt.where(Job.dag_id == dag_id)
    if q:
        stmt = stmt.where(func.lower(Job.name).like(f"%{q.lower()}%"))
    return paginate(
        session,
        stmt,
        columns={
            "created_at": Job.created_at,
            "priority": Job.priority,
            "name": Job.name,
            "state": Job.state,
        },
        id_column=Job.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def cancel_job(session: Session, ctx: AuditContext, access: WorkspaceAccess, job_id: str) -> Job:
    """Cancel now if it is not running; a running job is stopped by its worker (process tree killed)."""
    job = get_job(session, access, job_id)
    if job.state in FINISHED:
        raise Conflict(f"Job {job.id} already finished ({job.state}); nothing to cancel.")
    now = utcnow()
    if job.state == JobState.running:
        job.cancel_requested = True
    else:
        job.state, job.finished_at, job.error, job.wait_reason = JobState.cancelled, now, "cancelled", None
        fail_dependents(session, job, now=now)
        record_job_event(session, job, str(JobState.cancelled), now=now)
    record_audit(
        session, ctx, "job.cancel", target_type="job", target_id=job.id, workspace_id=job.workspace_id
    )
    session.flush()
    return job


def retry_job(session: Session, ctx: AuditContext, access: WorkspaceAccess, job_id: str) -> Job:
    """Run a failed, cancelled or upstream-failed job again; its DAG continues when it succeeds."""
    job = get_job(session, access, job_id)
    if job.state not in (JobState.failed, JobState.cancelled, JobState.upstream_failed):
        raise Conflict(
            f"Only failed, cancelled or upstream-failed jobs can be retried; this one is {job.state}."
        )
    now = utcnow()
    ups = upstream_ids(session, [job.id])[job.id]
    unfinished = (
        session.scalar(
            select(func.count()).select_from(Job).where(Job.id.in_(ups), Job.state != JobState.succeeded)
        )
        if ups
        else 0
    )
    job.state = JobState.pending if unfinished else JobState.queued
    job.wait_reason = f"{WaitReason.dependency}: waiting for upstream jobs" if unfinished else None
    job.max_attempts = max(job.max_attempts, job.attempt + 1)
    job.cancel_requested = False
    job.finished_at, job.error, job.result = None, None, None
    job.not_before, job.queued_at = now, now
    _reopen_dependents(session, job)
    record_audit(
        session, ctx, "job.retry", target_type="job", target_id=job.id, workspace_id=job.workspace_id
    )
    session.flush()
    return job


def _reopen_dependents(session: Session, job: Job) -> None:
    frontier = [job.id]
    while frontier:
        rows = list(
            session.scalars(
                select(Job)
                .join(JobDependency, JobDependency.job_id == Job.id)
                .where(JobDependency.depends_on_id.in_(frontier), Job.state == JobState.upstream_failed)
            )
        )
        for dep in rows:
            dep.state, dep.finished_at, dep.error = JobState.pending, None, None
            dep.wait_reason = f"{WaitReason.dependency}: waiting for upstream jobs"
        frontier = [d.id for d in rows]


def list_workers(session: Session) -> list[tuple[Worker, bool, list[Job]]]:
    cutoff = utcnow() - WORKER_TIMEOUT
    workers = list(
        session.scalars(
            select(Worker)
            .where(Worker.heartbeat_at >= utcnow() - timedelta(hours=1))
            .order_by(Worker.started_at.desc())
        )
    )
    running = list(session.scalars(select(Job).where(Job.state == JobState.running)))
    by_worker: dict[str, list[Job]] = defaultdict(list)
    for j in running:
        if j.lease_owner:
            by_worker[j.lease_owner].append(j)
    return [(w, w.state != "gone" and w.heartbeat_at >= cutoff, by_worker[w.id]) for w in workers]
