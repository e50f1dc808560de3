"""Pipeline routes: the operator palette; pipelines (CRUD, apply, export) and their versions;
validation (errors per node and field, and each node's output schemas for the canvas's column
pickers); runs (submit, list, read, per-node log/sample/report, cancel, compare); schedules.

Viewers read; editors change and run. A run is validated before its job is queued: an invalid pipeline
answers 422 (``errors[].loc = ["nodes", node_id, "params", field]``) and never starts a job.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import PlainTextResponse

from dais.jobs.schedules import create_schedule, upcoming
from dais.jobs.schemas import JobSubmit, ScheduleCreate, ScheduleRead, ScheduleTemplate
from dais.pipelines import runs_service as runs
from dais.pipelines import service
from dais.pipelines.schemas import (
    NodeRunRead,
    OperatorRead,
    PipelineApply,
    PipelineApplyResult,
    PipelineCreate,
    PipelineDetail,
    PipelinePage,
    PipelineRunCompare,
    PipelineRunCreate,
    PipelineRunDetail,
    PipelineRunPage,
    PipelineRunRead,
    PipelineRunStatus,
    PipelineSave,
    PipelineScheduleCreate,
    PipelineUpdate,
    PipelineValidateRequest,
    PipelineValidation,
    PipelineVersionPage,
    PipelineVersionRead,
)
from dais.storage import ArtifactStore, WorkspaceArtifacts
from dais.tenancy import Audit, Caller, Db, EditorAccess, ViewerAccess

router = APIRouter(prefix="/api/v1", tags=["pipelines"])

WS = "/workspaces/{workspace}"
P = f"{WS}/pipelines/{{pipeline}}"

Limit = Annotated[int, Query(ge=1, le=500)]


# -- operators ---------------------------------------------------------------------------------------


@router.get("/operators")
def list_operators(principal: Caller) -> list[OperatorRead]:
    """Every operator with its ports and the JSON schema of its params (drives the palette and forms)."""
    return service.list_operators()


# -- pipelines ---------------------------------------------------------------------------------------


@router.get(f"{WS}/pipelines")
def list_pipelines(
    access: ViewerAccess,
    db: Db,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: str = "name",
    limit: Limit = 50,
    cursor: str | None = None,
) -> PipelinePage:
    """Pipelines of the workspace, each with its last run."""
    with db.session(write=False) as s:
        page = service.list_pipelines(s, access, q=q, sort=sort, limit=limit, cursor=cursor)
        last = service.last_runs(s, [p.id for p in page.items])
        return PipelinePage(
            items=[service.pipeline_read(p, last.get(p.id)) for p in page.items], next_cursor=page.next_cursor
        )


@router.post(f"{WS}/pipelines", status_code=status.HTTP_201_CREATED)
def create_pipeline(body: PipelineCreate, access: EditorAccess, ctx: Audit, db: Db) -> PipelineDetail:
    """Create a pipeline; its graph is version 1 (drafts may be invalid: validate or run to check)."""
    with db.session() as s:
        return service.pipeline_detail(s, service.create_pipeline(s, ctx, access, body))


@router.post(f"{WS}/pipelines/validate")
def validate_pipeline_graph(
    body: PipelineValidateRequest, access: ViewerAccess, db: Db
) -> PipelineValidation:
    """Check an unsaved graph: errors per node and field, and each node's output schemas."""
    with db.session(write=False) as s:
        return service.validation_read(
            service.validate_in_workspace(body.graph, access.workspace.id, lambda: nullcontext(s))
        )


@router.get(P)
def get_pipeline(pipeline: str, access: ViewerAccess, db: Db) -> PipelineDetail:
    """One pipeline by name or id, with its current graph."""
    with db.session(write=False) as s:
        return service.pipeline_detail(s, service.get_pipeline(s, access, pipeline))


@router.patch(P)
def update_pipeline(
    pipeline: str, body: PipelineUpdate, access: EditorAccess, ctx: Audit, db: Db
) -> PipelineDetail:
    """Rename or describe a pipeline (save a graph with ``POST .../versions``)."""
    with db.session() as s:
        return service.pipeline_detail(s, service.update_pipeline(s, ctx, access, pipeline, body))


@router.put(P)
def apply_pipeline(
    pipeline: str, body: PipelineApply, response: Response, access: EditorAccess, ctx: Audit, db: Db
) -> PipelineApplyResult:
    """Create or update the pipeline named in the path to match the body (``dais apply``): a new
    version only if the graph changed; 201 when created."""
    with db.session() as s:
        p, action = service.apply_pipeline(s, ctx, access, pipeline, body)
        if action == "created":
            response.status_code = status.HTTP_201_CREATED
        return PipelineApplyResult(action=action, pipeline=service.pipeline_detail(s, p))


@router.delete(P, status_code=status.HTTP_204_NO_CONTENT)
def delete_pipeline(pipeline: str, request: Request, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete a pipeline, its versions, runs and cache (datasets its runs wrote stay)."""
    with db.session() as s:
        p = service.delete_pipeline(s, ctx, access, pipeline)
    store: ArtifactStore = request.app.state.store
    arts = WorkspaceArtifacts(store, access.workspace.id)
    store.delete_prefix(arts.full_key(f"pipelines/{p.id}/cache") + "/")


@router.get(f"{P}/export", response_class=PlainTextResponse)
def export_pipeline(pipeline: str, access: ViewerAccess, db: Db, version: int | None = None) -> str:
    """The pipeline as a YAML manifest (``kind: Pipeline``), for ``dais apply -f``."""
    with db.session(write=False) as s:
        return service.export_yaml(s, access, pipeline, version=version)


# -- versions ----------------------------------------------------------------------------------------


@router.get(f"{P}/versions")
def list_pipeline_versions(
    pipeline: str, access: ViewerAccess, db: Db, limit: Limit = 50, cursor: str | None = None
) -> PipelineVersionPage:
    """The pipeline's versions, newest first."""
    with db.session(write=False) as s:
        p = service.get_pipeline(s, access, pipeline)
        page = service.list_versions(s, p, limit=limit, cursor=cursor)
        return PipelineVersionPage(
            items=[service.version_summary(v) for v in page.items], next_cursor=page.next_cursor
        )


@router.post(f"{P}/versions", status_code=status.HTTP_201_CREATED)
def save_pipeline_version(
    pipeline: str, body: PipelineSave, response: Response, access: EditorAccess, ctx: Audit, db: Db
) -> PipelineVersionRead:
    """Save a graph: a new version (201), or the current one if nothing changed (200)."""
    with db.session() as s:
        p = service.get_pipeline(s, access, pipeline)
        v, created = service.save_graph(s, ctx, p, body.graph, body.message)
        if not created:
            response.status_code = status.HTTP_200_OK
        return service.version_read(v)


@router.get(f"{P}/versions/{{number}}")
def get_pipeline_version(pipeline: str, number: int, access: ViewerAccess, db: Db) -> PipelineVersionRead:
    """One version with its graph."""
    with db.session(write=False) as s:
        p = service.get_pipeline(s, access, pipeline)
        return service.version_read(service.get_version(s, p, number))


@router.post(f"{P}/validate")
def validate_pipeline(
    pipeline: str, access: ViewerAccess, db: Db, version: int | None = None
) -> PipelineValidation:
    """Check a saved version (current if unset) against the workspace's datasets."""
    with db.session(write=False) as s:
        p = service.get_pipeline(s, access, pipeline)
        graph = service.graph_of(service.get_version(s, p, version))
        return service.validation_read(
            service.validate_in_workspace(graph, access.workspace.id, lambda: nullcontext(s))
        )


# -- runs --------------------------------------------------------------------------------------------


@router.post(f"{P}/runs", status_code=status.HTTP_202_ACCEPTED)
def run_pipeline(
    pipeline: str, body: PipelineRunCreate, access: EditorAccess, ctx: Audit, db: Db
) -> PipelineRunRead:
    """Validate, then run the pipeline as a ``pipeline.run`` job (full, or debug on a sample); answers
    at once with the queued run. ``from_node`` runs that node and its downstream again, reusing the
    cached outputs of unchanged upstream nodes."""
    with db.session() as s:
        return runs.run_read(s, runs.submit_run(s, ctx, access, pipeline, body))


@router.get(f"{P}/runs")
def list_pipeline_runs(
    pipeline: str,
    access: ViewerAccess,
    db: Db,
    status: PipelineRunStatus | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> PipelineRunPage:
    """Runs of the pipeline, newest first."""
    with db.session(write=False) as s:
        p = service.get_pipeline(s, access, pipeline)
        page = runs.list_runs(s, p, status=status, limit=limit, cursor=cursor)
        return PipelineRunPage(items=runs.run_reads(s, page.items), next_cursor=page.next_cursor)


@router.get(f"{P}/runs/compare")
def compare_pipeline_runs(
    pipeline: str,
    access: ViewerAccess,
    db: Db,
    a: Annotated[str, Query(description="A run id.")],
    b: Annotated[str, Query(description="Another run id.")],
) -> PipelineRunCompare:
    """Two runs side by side: per node status, duration and rows, and the params that changed."""
    with db.session(write=False) as s:
        return runs.compare_runs(s, access, pipeline, a, b)


@router.post(f"{P}/schedules", status_code=status.HTTP_201_CREATED)
def schedule_pipeline(
    pipeline: str, body: PipelineScheduleCreate, access: EditorAccess, ctx: Audit, db: Db
) -> ScheduleRead:
    """A schedule that runs this pipeline (``run.variables`` may use ``${ds}``, ``${ds-1d}``...)."""
    with db.session() as s:
        p = service.get_pipeline(s, access, pipeline)
        graph = service.graph_of(service.get_version(s, p, body.run.version))
        # ${ds} and friends are rendered when the schedule fires: here only their presence counts.
        given = dict.fromkeys(body.run.variables, "")
        runs.check_runnable(graph, body.run.model_copy(update={"variables": given}), access.workspace.id, s)
        spec = runs.job_spec(p, body.run.version or 0, body.run)
        spec["version"] = body.run.version  # unset: whatever is current when it fires
        template = ScheduleTemplate(job=JobSubmit(kind=runs.JOB_KIND, name=f"pipeline {p.name}", spec=spec))
        fields = body.model_dump(exclude={"run", "name", "start_at"})
        created = create_schedule(
            s,
            ctx,
            access,
            ScheduleCreate(name=body.name, template=template, start_at=body.start_at, **fields),
        )
        return ScheduleRead.model_validate(created).model_copy(update={"next_runs": upcoming(created)})


@router.get(f"{P}/runs/{{run}}")
def get_pipeline_run(pipeline: str, run: str, access: ViewerAccess, db: Db) -> PipelineRunDetail:
    """One run with the status, duration and row counts of each node."""
    with db.session(write=False) as s:
        return runs.run_detail(s, runs.get_pipeline_run(s, access, pipeline, run))


@router.get(f"{P}/runs/{{run}}/nodes/{{node}}")
def get_pipeline_node_run(pipeline: str, run: str, node: str, access: ViewerAccess, db: Db) -> NodeRunRead:
    """One node of a run: its log, output sample (first rows per port) and report."""
    with db.session(write=False) as s:
        return runs.get_node_run(s, runs.get_pipeline_run(s, access, pipeline, run), node)


@router.post(f"{P}/runs/{{run}}/cancel")
def cancel_pipeline_run(pipeline: str, run: str, access: EditorAccess, ctx: Audit, db: Db) -> PipelineRunRead:
    """Cancel a run: its job is cancelled (a running one is stopped)."""
    with db.session() as s:
        found = runs.get_pipeline_run(s, access, pipeline, run)
        return runs.run_read(s, runs.cancel_run(s, ctx, access, found.id))
