"""Pipeline operations: the operator palette; pipelines (create, read, list, rename, delete, apply a
manifest, export); versions (a new one on every save that changes the graph); validation against the
workspace's datasets.

Runs live in :mod:`dais.pipelines.runs_service`. Service functions flush; routes own transactions.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Literal

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dais.core.errors import AlreadyExists, DaisError, NotFound
from dais.db import Page, paginate, utcnow
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.models import Pipeline, PipelineRun, PipelineVersion
from dais.pipelines.operators.base import Operator, Port, operators
from dais.pipelines.schemas import (
    OperatorRead,
    PipelineApply,
    PipelineCreate,
    PipelineDetail,
    PipelineIssue,
    PipelineRead,
    PipelineRunStatus,
    PipelineRunSummary,
    PipelineUpdate,
    PipelineValidation,
    PipelineVersionRead,
    PipelineVersionSummary,
    PortRead,
)
from dais.pipelines.validate import Validation, validate_graph
from dais.pipelines.workspace_data import WorkspaceDatasets
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit

#: The manifest kind of a pipeline (``dais apply -f``, ``dais pipelines export``).
MANIFEST_KIND = "Pipeline"


# -- operators ---------------------------------------------------------------------------------------


def _port(p: Port) -> PortRead:
    return PortRead(name=p.name, type=str(p.type), required=p.required, description=p.description)


def operator_read(op: type[Operator]) -> OperatorRead:
    return OperatorRead(
        id=op.id,
        version=op.version,
        family=op.family,
        title=op.title,
        description=op.description,
        inputs=[_port(p) for p in op.inputs],
        outputs=[_port(p) for p in op.outputs],
        params_schema=op.Params.model_json_schema(),
    )


def list_operators() -> list[OperatorRead]:
    """Every registered operator (a broken plugin is listed with its error, never raised)."""
    registry = operators()
    out: list[OperatorRead] = []
    for name in registry.names():
        try:
            out.append(operator_read(registry.get(name)))
        except DaisError as exc:
            out.append(
                OperatorRead(
                    id=name,
                    version=0,
                    family="broken",
                    title=name,
                    description="",
                    inputs=[],
                    outputs=[],
                    params_schema={},
                    error=exc.detail,
                )
            )
    return sorted(out, key=lambda o: (o.family, o.id))


# -- pipelines ---------------------------------------------------------------------------------------


def get_pipeline(session: Session, access: WorkspaceAccess, ref: str) -> Pipeline:
    """A pipeline of this workspace by name or id; 404 otherwise (also for other workspaces')."""
    return get_pipeline_in(session, access.workspace.id, ref)


def get_pipeline_in(session: Session, workspace_id: str, ref: str) -> Pipeline:
    p = session.scalar(
        select(Pipeline).where(
            Pipeline.workspace_id == workspace_id, or_(Pipeline.name == ref, Pipeline.id == ref)
        )
    )
    if p is None:
        raise NotFound(f"Pipeline {ref!r} not found in this workspace.")
    return p


def get_version(session: Session, pipeline: Pipeline, number: int | None) -> PipelineVersion:
    """Version ``number`` (``None``: the current one); 404 if there is none."""
    n = number or pipeline.current_version
    v = session.scalar(
        select(PipelineVersion).where(PipelineVersion.pipeline_id == pipeline.id, PipelineVersion.number == n)
    )
    if v is None:
        raise NotFound(
            f"Pipeline {pipeline.name!r} has no version {n}.",
            errors=[{"loc": ["body", "version"], "msg": "unknown version"}],
        )
    return v


def graph_of(version: PipelineVersion) -> PipelineGraph:
    return PipelineGraph.model_validate(version.graph)


def _name_free(session: Session, workspace_id: str, name: str, *, but: str | None = None) -> None:
    existing = session.scalar(
        select(Pipeline.id).where(Pipeline.workspace_id == workspace_id, Pipeline.name == name)
    )
    if existing is not None and existing != but:
        raise AlreadyExists(
            f"A pipeline named {name!r} already exists in this workspace.",
            errors=[{"loc": ["body", "name"], "msg": "taken"}],
        )


def _add_version(
    session: Session, pipeline: Pipeline, graph: PipelineGraph, message: str, actor: str | None, number: int
) -> PipelineVersion:
    v = PipelineVersion(
        pipeline_id=pipeline.id,
        number=number,
        graph=graph.model_dump(mode="json"),
        message=message,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(v)
    pipeline.current_version = number
    pipeline.updated_at = utcnow()
    session.flush()
    return v


def create_pipeline(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, spec: PipelineCreate
) -> Pipeline:
    """A new pipeline with its graph as version 1 (an invalid graph is saved: drafts are allowed)."""
    _name_free(session, access.workspace.id, spec.name)
    p = Pipeline(
        workspace_id=access.workspace.id,
        name=spec.name,
        description=spec.description,
        current_version=1,
        created_by=ctx.actor_id,
    )
    session.add(p)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"A pipeline named {spec.name!r} already exists in this workspace.") from exc
    _add_version(session, p, spec.graph, spec.message or "created", ctx.actor_id, 1)
    record_audit(
        session,
        ctx,
        "pipeline.create",
        target_type="pipeline",
        target_id=p.id,
        workspace_id=access.workspace.id,
        details={"name": p.name},
    )
    return p


def save_graph(
    session: Session, ctx: AuditContext, pipeline: Pipeline, graph: PipelineGraph, message: str
) -> tuple[PipelineVersion, bool]:
    """Save ``graph``: a new version if it differs from the current one; ``(version, created)``."""
    current = get_version(session, pipeline, None)
    if graph.model_dump(mode="json") == current.graph:
        return current, False
    last = session.scalar(
        select(func.max(PipelineVersion.number)).where(PipelineVersion.pipeline_id == pipeline.id)
    )
    v = _add_version(session, pipeline, graph, message, ctx.actor_id, (last or 0) + 1)
    record_audit(
        session,
        ctx,
        "pipeline.version.create",
        target_type="pipeline",
        target_id=pipeline.id,
        workspace_id=pipeline.workspace_id,
        details={"name": pipeline.name, "version": v.number},
    )
    return v, True


def update_pipeline(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str, spec: PipelineUpdate
) -> Pipeline:
    p = get_pipeline(session, access, ref)
    if spec.name is not None and spec.name != p.name:
        _name_free(session, access.workspace.id, spec.name, but=p.id)
        p.name = spec.name
    if spec.description is not None:
        p.description = spec.description
    p.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        ctx,
        "pipeline.update",
        target_type="pipeline",
        target_id=p.id,
        workspace_id=access.workspace.id,
        details={"name": p.name, "changed": sorted(spec.model_fields_set)},
    )
    return p


def delete_pipeline(session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str) -> Pipeline:
    """Delete a pipeline, its versions and runs (datasets its runs wrote stay)."""
    from dais.pipelines.models import PipelineNodeRun

    p = get_pipeline(session, access, ref)
    record_audit(
        session,
        ctx,
        "pipeline.delete",
        target_type="pipeline",
        target_id=p.id,
        workspace_id=access.workspace.id,
        details={"name": p.name},
    )
    runs = select(PipelineRun.id).where(PipelineRun.pipeline_id == p.id)
    session.execute(delete(PipelineNodeRun).where(PipelineNodeRun.run_id.in_(runs)))
    session.execute(delete(PipelineRun).where(PipelineRun.pipeline_id == p.id))
    session.execute(delete(PipelineVersion).where(PipelineVersion.pipeline_id == p.id))
    session.delete(p)
    session.flush()
    return p


def list_pipelines(
    session: Session, access: WorkspaceAccess, *, q: str | None, sort: str, limit: int, cursor: str | None
) -> Page[Pipeline]:
    stmt = select(Pipeline).where(Pipeline.workspace_id == access.workspace.id)
    if q:
        needle = q.lower()
        stmt = stmt.where(
            or_(
                Pipeline.name.contains(needle, autoescape=True),
                func.lower(Pipeline.description).contains(needle, autoescape=True),
            )
        )
    return paginate(
        session,
        stmt,
        columns={"name": Pipeline.name, "created_at": Pipeline.created_at, "updated_at": Pipeline.updated_at},
        id_column=Pipeline.id,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def last_runs(session: Session, pipeline_ids: list[str]) -> dict[str, PipelineRunSummary]:
    """The newest run of each pipeline."""
    if not pipeline_ids:
        return {}
    newest = (
        select(PipelineRun.pipeline_id, func.max(PipelineRun.created_at).label("at"))
        .where(PipelineRun.pipeline_id.in_(pipeline_ids))
        .group_by(PipelineRun.pipeline_id)
        .subquery()
    )
    rows = session.scalars(
        select(PipelineRun).join(
            newest,
            (PipelineRun.pipeline_id == newest.c.pipeline_id) & (PipelineRun.created_at == newest.c.at),
        )
    )
    return {
        r.pipeline_id: PipelineRunSummary(
            id=r.id,
            status=PipelineRunStatus(r.status),
            mode=r.mode,
            version=r.version,
            created_at=r.created_at,
            finished_at=r.finished_at,
        )
        for r in rows
    }


def pipeline_read(p: Pipeline, last_run: PipelineRunSummary | None = None) -> PipelineRead:
    return PipelineRead(
        id=p.id,
        workspace_id=p.workspace_id,
        name=p.name,
        description=p.description or "",
        current_version=p.current_version,
        created_by=p.created_by,
        created_at=p.created_at,
        updated_at=p.updated_at,
        last_run=last_run,
    )


def pipeline_detail(session: Session, p: Pipeline) -> PipelineDetail:
    graph = graph_of(get_version(session, p, None))
    return PipelineDetail(**pipeline_read(p, last_runs(session, [p.id]).get(p.id)).model_dump(), graph=graph)


# -- versions ----------------------------------------------------------------------------------------


def list_versions(session: Session, p: Pipeline, *, limit: int, cursor: str | None) -> Page[PipelineVersion]:
    """Versions of ``p``, newest first."""
    return paginate(
        session,
        select(PipelineVersion).where(PipelineVersion.pipeline_id == p.id),
        columns={"number": PipelineVersion.number},
        id_column=PipelineVersion.id,
        sort="-number",
        limit=limit,
        cursor=cursor,
    )


def version_summary(v: PipelineVersion) -> PipelineVersionSummary:
    return PipelineVersionSummary(
        number=v.number,
        message=v.message or "",
        nodes=len((v.graph or {}).get("nodes", [])),
        created_by=v.created_by,
        created_at=v.created_at,
    )


def version_read(v: PipelineVersion) -> PipelineVersionRead:
    return PipelineVersionRead(**version_summary(v).model_dump(), graph=graph_of(v))


# -- validation --------------------------------------------------------------------------------------

Sessions = Callable[[], AbstractContextManager[Session]]


def validate_in_workspace(graph: PipelineGraph, workspace_id: str, sessions: Sessions) -> Validation:
    """Validate ``graph`` against the workspace's datasets (schemas from the metadata DB only)."""
    return validate_graph(graph, resolver=WorkspaceDatasets(sessions, workspace_id))


def validation_read(v: Validation) -> PipelineValidation:
    return PipelineValidation(
        valid=v.ok,
        errors=[
            PipelineIssue(
                node_id=i.node_id, part=i.part, field=i.field, message=i.message, code=i.code, loc=i.loc
            )
            for i in v.issues
        ],
        schemas=v.node_schemas,
    )


# -- manifests: export and apply ---------------------------------------------------------------------


def export_pipeline(
    session: Session, access: WorkspaceAccess, ref: str, *, version: int | None = None
) -> dict[str, Any]:
    """The pipeline as a manifest document (``apiVersion``, ``kind``, ``metadata``, ``spec``): what
    ``dais pipelines export`` writes as YAML and ``dais apply -f`` reads back."""
    p = get_pipeline(session, access, ref)
    v = get_version(session, p, version)
    return {
        "apiVersion": "dais/v1",
        "kind": MANIFEST_KIND,
        "metadata": {"workspace": access.workspace.slug, "name": p.name},
        "spec": {
            "description": p.description or "",
            "graph": graph_of(v).model_dump(mode="json", exclude_defaults=True),
        },
    }


def export_yaml(session: Session, access: WorkspaceAccess, ref: str, *, version: int | None = None) -> str:
    import yaml

    doc = export_pipeline(session, access, ref, version=version)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def apply_pipeline(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, name: str, spec: PipelineApply
) -> tuple[Pipeline, Literal["created", "configured", "unchanged"]]:
    """Make pipeline ``name`` match ``spec``: create it, or save a new version if the graph changed
    and update its description. Applying the same spec twice changes nothing."""
    existing = session.scalar(
        select(Pipeline).where(Pipeline.workspace_id == access.workspace.id, Pipeline.name == name)
    )
    if existing is None:
        created = PipelineCreate(
            name=name, description=spec.description, graph=spec.graph, message=spec.message or "applied"
        )
        return create_pipeline(session, ctx, access, created), "created"
    changed = False
    if spec.description != (existing.description or ""):
        update_pipeline(session, ctx, access, existing.id, PipelineUpdate(description=spec.description))
        changed = True
    _, saved = save_graph(session, ctx, existing, spec.graph, spec.message or "applied")
    return existing, "configured" if (changed or saved) else "unchanged"
