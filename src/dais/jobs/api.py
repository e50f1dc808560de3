"""Job routes: submit (one job, a batch, a DAG), list, get, logs (tail, follow), cancel, retry, workers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from dais.core.errors import NotFound
from dais.db import Database
from dais.jobs import service
from dais.jobs.kinds import job_kinds
from dais.jobs.logs import follow_log, log_prefix, read_log
from dais.jobs.models import Job
from dais.jobs.schemas import (
    AttemptRead,
    DagRead,
    DagSubmit,
    JobBatchRead,
    JobBatchSubmit,
    JobDetail,
    JobPage,
    JobRead,
    JobSubmit,
    KindRead,
    WorkerRead,
)
from dais.jobs.states import JobState
from dais.storage import ArtifactStore
from dais.tenancy import Audit, Caller, Db, EditorAccess, ViewerAccess, visible_workspace_ids

router = APIRouter(prefix="/api/v1", tags=["jobs"])

Limit = Annotated[int, Query(ge=1, le=500)]


def _read(job: Job, deps: list[str]) -> JobRead:
    return JobRead.model_validate(job).model_copy(update={"depends_on": deps})


def _page(db: Database, page_items: list[Job]) -> list[JobRead]:
    with db.session(write=False) as s:
        ups = service.upstream_ids(s, [j.id for j in page_items])
    return [_read(j, ups.get(j.id, [])) for j in page_items]


@router.post("/workspaces/{workspace}/jobs", status_code=status.HTTP_201_CREATED)
def submit_job(body: JobSubmit, access: EditorAccess, ctx: Audit, db: Db) -> JobRead:
    """Submit a job: it is queued at once (or waits for the jobs in ``depends_on``)."""
    with db.session() as s:
        job = service.submit_job(s, ctx, access, body)
        return _read(job, list(dict.fromkeys(body.depends_on)))


@router.post("/workspaces/{workspace}/jobs:batch", status_code=status.HTTP_201_CREATED)
def submit_jobs(body: JobBatchSubmit, access: EditorAccess, ctx: Audit, db: Db) -> JobBatchRead:
    """Submit up to 1,000 independent jobs at once: all are queued, or none (a 4xx names the bad one)."""
    with db.session() as s:
        jobs = service.submit_jobs(s, ctx, access, body)
        return JobBatchRead(
            items=[_read(j, list(dict.fromkeys(b.depends_on))) for j, b in zip(jobs, body.jobs, strict=True)]
        )


@router.post("/workspaces/{workspace}/dags", status_code=status.HTTP_201_CREATED)
def submit_dag(body: DagSubmit, access: EditorAccess, ctx: Audit, db: Db) -> DagRead:
    """Submit a DAG of jobs; a node runs when every node in its ``after`` list succeeded."""
    with db.session() as s:
        jobs = service.submit_dag(s, ctx, access, body)
        ups = service.upstream_ids(s, [j.id for j in jobs])
        edges = [(u, j.id) for j in jobs for u in ups.get(j.id, [])]
        return DagRead(
            dag_id=jobs[0].dag_id or jobs[0].id,
            name=body.name,
            jobs=[_read(j, ups.get(j.id, [])) for j in jobs],
            edges=edges,
        )


@router.get("/workspaces/{workspace}/dags/{dag_id}")
def get_dag(dag_id: str, access: ViewerAccess, db: Db) -> DagRead:
    """A DAG's jobs and edges, for the graph view."""
    with db.session(write=False) as s:
        jobs = list(
            s.scalars(
                select(Job)
                .where(Job.dag_id == dag_id, Job.workspace_id == access.workspace.id)
                .order_by(Job.created_at, Job.id)
            )
        )
        if not jobs:
            raise NotFound(f"DAG {dag_id!r} not found in this workspace.")
        ups = service.upstream_ids(s, [j.id for j in jobs])
    edges = [(u, j.id) for j in jobs for u in ups.get(j.id, [])]
    return DagRead(
        dag_id=dag_id,
        name=jobs[0].dag_name or jobs[0].name,
        jobs=[_read(j, ups.get(j.id, [])) for j in jobs],
        edges=edges,
    )


@router.get("/workspaces/{workspace}/jobs")
def list_jobs(
    access: ViewerAccess,
    db: Db,
    state: Annotated[list[JobState] | None, Query(description="Only these states.")] = None,
    kind: str | None = None,
    dag_id: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: str = "-created_at",
    limit: Limit = 50,
    cursor: str | None = None,
) -> JobPage:
    """Jobs of the workspace, newest first by default."""
    with db.session(write=False) as s:
        page = service.list_jobs(
            s, access, state=state, kind=kind, dag_id=dag_id, q=q, sort=sort, limit=limit, cursor=cursor
        )
    return JobPage(items=_page(db, page.items), next_cursor=page.next_cursor)


@router.get("/workspaces/{workspace}/jobs/{job_id}")
def get_job(job_id: str, access: ViewerAccess, db: Db) -> JobDetail:
    """One job with its attempts, progress, result or error, and why it waits."""
    with db.session(write=False) as s:
        job = service.get_job(s, access, job_id)
        deps = service.upstream_ids(s, [job.id]).get(job.id, [])
        attempts = [AttemptRead.model_validate(a) for a in service.attempts_of(s, job.id)]
    return JobDetail(**_read(job, deps).model_dump(), attempts=attempts)


@router.post("/workspaces/{workspace}/jobs/{job_id}/cancel")
def cancel_job(job_id: str, access: EditorAccess, ctx: Audit, db: Db) -> JobRead:
    """Cancel a job; a running one is stopped (its whole process tree killed)."""
    with db.session() as s:
        job = service.cancel_job(s, ctx, access, job_id)
        return _read(job, service.upstream_ids(s, [job.id]).get(job.id, []))


@router.post("/workspaces/{workspace}/jobs/{job_id}/retry")
def retry_job(job_id: str, access: EditorAccess, ctx: Audit, db: Db) -> JobRead:
    """Run a failed, cancelled or upstream-failed job again; its DAG continues from there."""
    with db.session() as s:
        job = service.retry_job(s, ctx, access, job_id)
        return _read(job, service.upstream_ids(s, [job.id]).get(job.id, []))


@router.get(
    "/workspaces/{workspace}/jobs/{job_id}/logs",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
async def job_logs(
    job_id: str,
    request: Request,
    access: ViewerAccess,
    db: Db,
    attempt: Annotated[int | None, Query(ge=1, description="Default: the latest.")] = None,
    tail: Annotated[
        int | None, Query(ge=1, le=100 * 1024 * 1024, description="Only about the last N bytes.")
    ] = None,
    follow: Annotated[bool, Query(description="Keep streaming until the job ends.")] = False,
) -> StreamingResponse:
    """The job's output (stdout and stderr), streamed; ``follow`` streams it live."""

    def locate() -> tuple[str, int]:
        with db.session(write=False) as s:
            job = service.get_job(s, access, job_id)
            n = attempt or job.attempt
            if n > job.attempt:
                raise NotFound(f"Job {job_id} has no attempt {n} (attempts so far: {job.attempt}).")
            return job.workspace_id, n

    ws_id, number = await run_in_threadpool(locate)
    store: ArtifactStore = request.app.state.store
    prefix = log_prefix(ws_id, job_id, number)

    def finished() -> bool:
        with db.session(write=False) as s:
            job = s.get(Job, job_id)
            return job is None or job.attempt != number or job.state != JobState.running

    chunks: Iterator[bytes]
    if number == 0:
        chunks = iter(())  # not started yet: no output so far
    elif follow:
        chunks = follow_log(store, prefix, finished=finished)
    else:
        chunks = read_log(store, prefix, tail_bytes=tail)
    return StreamingResponse(
        chunks,
        media_type="text/plain; charset=utf-8",
        headers={"X-Job-Attempt": str(number), "Cache-Control": "no-cache"},
    )


@router.get("/workers", tags=["jobs"])
def list_workers(principal: Caller, db: Db) -> list[WorkerRead]:
    """The resource pool: each worker's capacity, what it runs now and what that uses."""
    with db.session(write=False) as s:
        rows = service.list_workers(s)
        visible = visible_workspace_ids(s, principal)
    out = []
    for w, alive, jobs in rows:
        # Everyone sees the pool's load; only their own workspaces' job ids.
        mine = [j for j in jobs if visible is None or j.workspace_id in visible]
        out.append(
            WorkerRead.model_validate(w).model_copy(
                update={
                    "alive": alive,
                    "running": [j.id for j in mine],
                    "used_cpus": sum(j.cpus for j in jobs),
                    "used_memory_mb": sum(j.memory_mb for j in jobs),
                    "used_gpus": sum(j.gpus for j in jobs),
                }
            )
        )
    return out


@router.get("/job-kinds", tags=["jobs"])
def list_job_kinds(principal: Caller) -> list[KindRead]:
    """Every job kind with the JSON schema of its spec (drives the submit form)."""
    out = []
    for info in job_kinds().load_all():
        if info.error:
            out.append(KindRead(name=info.name, description="", spec_schema={}, error=info.error))
            continue
        cls = job_kinds().get(info.name)
        out.append(
            KindRead(
                name=info.name,
                description=(cls.__doc__ or "").strip().split("\n")[0],
                spec_schema=cls.Spec.model_json_schema(),
            )
        )
    return out
