"""Pipeline runs: submit (validated first; a run is a ``pipeline.run`` job), read, list, cancel, compare,
and a run's end (:func:`finish_run`; what the job records as it goes is in
:mod:`dais.pipelines.run_records`).

A run submitted through the API has its row before its job starts; a run fired by a schedule (which
submits a ``pipeline.run`` job directly) gets its row when the job starts (``run_records.start_run``). A run
whose job ended without the job saying so (cancelled while running, killed, timed out) shows the
job's outcome: :func:`effective_status`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.core.errors import Conflict, InvalidInput, NotFound
from dais.db import Page, paginate, utcnow
from dais.jobs.models import Job
from dais.jobs.schemas import JobSubmit
from dais.jobs.service import cancel_job, submit_job
from dais.jobs.states import FINISHED, JobState
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.models import Pipeline, PipelineNodeRun, PipelineRun
from dais.pipelines.plan import run_variables, variables_in
from dais.pipelines.schemas import (
    FINISHED_RUNS,
    NodeRunCompare,
    NodeRunRead,
    NodeRunSide,
    NodeRunSummary,
    ParamDiff,
    PipelineRunCompare,
    PipelineRunCreate,
    PipelineRunDetail,
    PipelineRunOutput,
    PipelineRunRead,
    PipelineRunStatus,
)
from dais.pipelines.service import get_pipeline, get_version, graph_of, validate_in_workspace
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit

JOB_KIND = "pipeline.run"


def job_spec(pipeline: Pipeline, version: int, spec: PipelineRunCreate) -> dict[str, Any]:
    """The ``pipeline.run`` job spec of a run."""
    return {
        "pipeline": pipeline.id,
        "version": version,
        "mode": spec.mode,
        "sample_rows": spec.sample_rows,
        "sample_method": spec.sample_method,
        "variables": dict(spec.variables),
        "from_node": spec.from_node,
    }


def check_runnable(
    graph: PipelineGraph, spec: PipelineRunCreate, workspace_id: str, session: Session
) -> None:
    """422 if the graph is invalid (``loc`` names node and field), ``from_node`` is not in it, or a
    ``${variable}`` its params use has no value."""
    if spec.from_node is not None and graph.node(spec.from_node) is None:
        raise InvalidInput(
            f"No node {spec.from_node!r} in this pipeline version.",
            errors=[{"loc": ["body", "from_node"], "msg": "unknown node"}],
        )
    validation = validate_in_workspace(graph, workspace_id, lambda: nullcontext(session))
    validation.raise_for_issues()
    known = set(run_variables(graph, spec.variables))
    for node in graph.nodes:
        missing = sorted(variables_in(node.params) - known)
        if missing:
            raise InvalidInput(
                f"Node {node.id!r} uses ${{{missing[0]}}}, which has no value: give it in `variables` "
                "or as a pipeline variable's default.",
                errors=[{"loc": ["body", "variables", missing[0]], "msg": "no value"}],
            )


def submit_run(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str, spec: PipelineRunCreate
) -> PipelineRun:
    """Validate the pipeline version, then queue its ``pipeline.run`` job; the run, queued."""
    p = get_pipeline(session, access, ref)
    v = get_version(session, p, spec.version)
    check_runnable(graph_of(v), spec, access.workspace.id, session)
    job = submit_job(
        session,
        ctx,
        access,
        JobSubmit(kind=JOB_KIND, name=f"pipeline {p.name} ({spec.mode})", spec=job_spec(p, v.number, spec)),
    )
    run = new_run(p, v.number, spec, job.id, ctx.actor_id)
    session.add(run)
    session.flush()
    record_audit(
        session,
        ctx,
        "pipeline.run",
        target_type="pipeline",
        target_id=p.id,
        workspace_id=access.workspace.id,
        details={"name": p.name, "run_id": run.id, "job_id": job.id, "mode": spec.mode},
    )
    return run


def new_run(
    p: Pipeline, version: int, spec: PipelineRunCreate, job_id: str | None, actor: str | None
) -> PipelineRun:
    return PipelineRun(
        workspace_id=p.workspace_id,
        pipeline_id=p.id,
        version=version,
        mode=spec.mode,
        sample_rows=spec.sample_rows if spec.mode == "debug" else None,
        variables=dict(spec.variables),
        from_node=spec.from_node,
        status=str(PipelineRunStatus.queued),
        job_id=job_id,
        outputs=[],
        created_by=actor,
        created_at=utcnow(),
    )


# -- reading -----------------------------------------------------------------------------------------


def get_run(session: Session, access: WorkspaceAccess, run_id: str) -> PipelineRun:
    run = session.get(PipelineRun, run_id)
    if run is None or run.workspace_id != access.workspace.id:
        raise NotFound(f"Pipeline run {run_id!r} not found in this workspace.")
    return run


def get_pipeline_run(session: Session, access: WorkspaceAccess, ref: str, run_id: str) -> PipelineRun:
    """A run of pipeline ``ref`` (name or id) in this workspace; 404 otherwise."""
    p = get_pipeline(session, access, ref)
    run = get_run(session, access, run_id)
    if run.pipeline_id != p.id:
        raise NotFound(f"Pipeline {p.name!r} has no run {run_id!r}.")
    return run


def list_runs(
    session: Session, p: Pipeline, *, status: str | None, limit: int, cursor: str | None
) -> Page[PipelineRun]:
    """Runs of ``p``, newest first."""
    stmt = select(PipelineRun).where(PipelineRun.pipeline_id == p.id)
    if status:
        stmt = stmt.where(PipelineRun.status == status)
    return paginate(
        session,
        stmt,
        columns={"created_at": PipelineRun.created_at},
        id_column=PipelineRun.id,
        sort="-created_at",
        limit=limit,
        cursor=cursor,
    )


def _jobs(session: Session, runs: Iterable[PipelineRun]) -> dict[str, tuple[str, str | None]]:
    ids = [r.job_id for r in runs if r.job_id]
    if not ids:
        return {}
    rows = session.execute(select(Job.id, Job.state, Job.error).where(Job.id.in_(ids)))
    return {str(i): (str(state), error) for i, state, error in rows}


def effective_status(
    run: PipelineRun, job: tuple[str, str | None] | None
) -> tuple[PipelineRunStatus, str | None]:
    """The run's status, or its job's outcome where the job ended without finishing the run."""
    status = PipelineRunStatus(run.status)
    if status in FINISHED_RUNS or job is None:
        return status, run.error
    state, error = job
    if JobState(state) not in FINISHED:
        return status, run.error
    if state == JobState.cancelled:
        return PipelineRunStatus.cancelled, run.error or "cancelled"
    return PipelineRunStatus.failed, run.error or error or f"the run's job ended {state}"


def run_reads(session: Session, runs: list[PipelineRun]) -> list[PipelineRunRead]:
    jobs = _jobs(session, runs)
    names = (
        dict(
            session.execute(
                select(Pipeline.id, Pipeline.name).where(Pipeline.id.in_({r.pipeline_id for r in runs}))
            ).all()
        )
        if runs
        else {}
    )
    return [_run_read(r, str(names.get(r.pipeline_id, "")), jobs.get(r.job_id or "")) for r in runs]


def _run_read(run: PipelineRun, pipeline: str, job: tuple[str, str | None] | None) -> PipelineRunRead:
    status, error = effective_status(run, job)
    duration = None
    if run.started_at is not None and run.finished_at is not None:
        duration = round((run.finished_at - run.started_at).total_seconds(), 3)
    return PipelineRunRead(
        id=run.id,
        workspace_id=run.workspace_id,
        pipeline_id=run.pipeline_id,
        pipeline=pipeline,
        version=run.version,
        mode=run.mode,
        sample_rows=run.sample_rows,
        variables=dict(run.variables or {}),
        from_node=run.from_node,
        status=status,
        job_id=run.job_id,
        error=error,
        outputs=[PipelineRunOutput.model_validate(o) for o in run.outputs or []],
        created_by=run.created_by,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_s=duration,
    )


def run_read(session: Session, run: PipelineRun) -> PipelineRunRead:
    return run_reads(session, [run])[0]


def node_runs(session: Session, run: PipelineRun) -> list[PipelineNodeRun]:
    return list(
        session.scalars(
            select(PipelineNodeRun).where(PipelineNodeRun.run_id == run.id).order_by(PipelineNodeRun.position)
        )
    )


def _node_status(node: PipelineNodeRun, ended: bool) -> tuple[str, str | None]:
    if ended and node.status == "pending":
        return "skipped", node.error
    if ended and node.status == "running":
        return "failed", node.error or "the run stopped while this node ran"
    return node.status, node.error


def node_summary(node: PipelineNodeRun, ended: bool = False) -> NodeRunSummary:
    status, error = _node_status(node, ended)
    return NodeRunSummary(
        node_id=node.node_id,
        operator=node.operator,
        status=status,
        started_at=node.started_at,
        finished_at=node.finished_at,
        duration_s=node.duration_s,
        rows_in=node.rows_in,
        rows_out=node.rows_out,
        rows_out_ports={k: int(v) for k, v in (node.rows_out_ports or {}).items()},
        error=error,
        error_code=node.error_code,
        cache_key=node.cache_key,
    )


def node_read(node: PipelineNodeRun, ended: bool = False) -> NodeRunRead:
    return NodeRunRead(
        **node_summary(node, ended).model_dump(),
        log=node.log or "",
        sample=dict(node.sample or {}),
        report=dict(node.report or {}),
    )


def run_detail(session: Session, run: PipelineRun) -> PipelineRunDetail:
    read = run_read(session, run)
    ended = read.status in FINISHED_RUNS
    return PipelineRunDetail(
        **read.model_dump(), nodes=[node_summary(n, ended) for n in node_runs(session, run)]
    )


def get_node_run(session: Session, run: PipelineRun, node_id: str) -> NodeRunRead:
    node = session.scalar(
        select(PipelineNodeRun).where(PipelineNodeRun.run_id == run.id, PipelineNodeRun.node_id == node_id)
    )
    if node is None:
        raise NotFound(f"Run {run.id} has no node {node_id!r}.")
    ended = run_read(session, run).status in FINISHED_RUNS
    return node_read(node, ended)


# -- cancel and compare ------------------------------------------------------------------------------


def cancel_run(session: Session, ctx: AuditContext, access: WorkspaceAccess, run_id: str) -> PipelineRun:
    """Cancel the run's job; a run that had not started is cancelled at once."""
    run = get_run(session, access, run_id)
    status, _ = effective_status(run, _jobs(session, [run]).get(run.job_id or ""))
    if status in FINISHED_RUNS:
        raise Conflict(f"Run {run.id} already finished ({status}); nothing to cancel.")
    if run.job_id is not None:
        job = cancel_job(session, ctx, access, run.job_id)
        if job.state == JobState.cancelled and run.status == PipelineRunStatus.queued:
            finish_run(session, run, PipelineRunStatus.cancelled, "cancelled")
    return run


def _params_diff(a: Any, b: Any, path: str = "") -> list[ParamDiff]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[ParamDiff] = []
        for key in sorted(set(a) | set(b), key=str):
            out += _params_diff(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
        return out
    return [] if a == b else [ParamDiff(field=path or "params", a=a, b=b)]


def compare_runs(
    session: Session, access: WorkspaceAccess, ref: str, a_id: str, b_id: str
) -> PipelineRunCompare:
    """Two runs of one pipeline side by side: per node status, duration, rows, and param changes."""
    p = get_pipeline(session, access, ref)
    runs = [get_run(session, access, a_id), get_run(session, access, b_id)]
    for which, r in zip(("a", "b"), runs, strict=True):
        if r.pipeline_id != p.id:
            raise NotFound(
                f"Run {r.id} is not a run of pipeline {p.name!r}.",
                errors=[{"loc": ["query", which], "msg": "not a run of this pipeline"}],
            )
    reads = run_reads(session, runs)
    graphs = [graph_of(get_version(session, p, r.version)) for r in runs]
    sides: list[dict[str, NodeRunSide]] = []
    for r, read in zip(runs, reads, strict=True):
        ended = read.status in FINISHED_RUNS
        side = {}
        for n in node_runs(session, r):
            s = node_summary(n, ended)
            side[n.node_id] = NodeRunSide(
                status=s.status, duration_s=s.duration_s, rows_in=s.rows_in, rows_out=s.rows_out
            )
        sides.append(side)
    order = [n.id for n in graphs[0].nodes] + [n.id for n in graphs[1].nodes if graphs[0].node(n.id) is None]
    nodes = []
    for node_id in order:
        na, nb = graphs[0].node(node_id), graphs[1].node(node_id)
        params = _params_diff(na.params, nb.params) if na and nb else []
        either = na or nb
        nodes.append(
            NodeRunCompare(
                node_id=node_id,
                operator=either.operator if either else None,
                a=sides[0].get(node_id) if na else None,
                b=sides[1].get(node_id) if nb else None,
                params=params,
            )
        )
    return PipelineRunCompare(a=reads[0], b=reads[1], nodes=nodes)


# -- the end of a run ------------------------------------------------------------------------------


def finish_run(
    session: Session,
    run: PipelineRun,
    status: PipelineRunStatus,
    error: str | None,
    outputs: list[Any] | None = None,
) -> None:
    now = utcnow()
    run.status, run.error, run.finished_at = str(status), error, now
    if outputs is not None:
        run.outputs = outputs
    for node in node_runs(session, run):
        node.status, node.error = _node_status(node, True)
        if node.finished_at is None and node.started_at is not None:
            node.finished_at = now
    session.flush()
