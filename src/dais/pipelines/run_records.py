"""What a ``pipeline.run`` job records as it goes: the run started (created here for a run a schedule
fired) with a pending row per node; each node event in the node's row (bounded log and sample); and
at the end, each sink's files as a new dataset version with lineage (:func:`record_outputs`).

Each function works in the caller's transaction: the job opens a short one per node event, and one
for the outputs and the run's outcome together.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dais.core.errors import NotFound
from dais.db import utcnow
from dais.pipelines.graph import PipelineGraph
from dais.pipelines.models import PipelineNodeRun, PipelineRun, PipelineVersion
from dais.pipelines.runs_service import new_run
from dais.pipelines.schemas import PipelineRunCreate, PipelineRunStatus
from dais.pipelines.service import get_pipeline_in, get_version, graph_of

if TYPE_CHECKING:
    from dais.pipelines.runner import NodeEvent
    from dais.pipelines.workspace_data import SinkOutput

#: The most of a node's log kept (its end, where errors are).
LOG_MAX_CHARS = 64 * 1024
#: The most bytes of JSON kept as a node's output sample.
SAMPLE_MAX_BYTES = 1024 * 1024


def start_run(
    session: Session, workspace_id: str, job_id: str, spec: Any, owner_id: str | None
) -> tuple[PipelineRun, PipelineGraph]:
    """The job's run (created here for a run a schedule fired), marked running, with a pending row
    per node; and the graph it runs."""
    run = session.scalar(select(PipelineRun).where(PipelineRun.job_id == job_id))
    if run is not None and run.workspace_id != workspace_id:
        raise NotFound(f"Pipeline run of job {job_id} not found in this workspace.")
    if run is None:
        p = get_pipeline_in(session, workspace_id, spec.pipeline)
        v = get_version(session, p, spec.version)
        run_spec = PipelineRunCreate(
            mode=spec.mode,
            sample_rows=spec.sample_rows,
            sample_method=spec.sample_method,
            variables=spec.variables,
            from_node=spec.from_node,
        )
        run = new_run(p, v.number, run_spec, job_id, owner_id)
        session.add(run)
        session.flush()
    else:
        p = get_pipeline_in(session, workspace_id, run.pipeline_id)
    version = session.scalar(
        select(PipelineVersion).where(
            PipelineVersion.pipeline_id == p.id, PipelineVersion.number == run.version
        )
    )
    if version is None:
        raise NotFound(f"Pipeline {p.name!r} has no version {run.version}.")
    graph = graph_of(version)
    session.execute(delete(PipelineNodeRun).where(PipelineNodeRun.run_id == run.id))  # a retried attempt
    for i, node in enumerate(graph.nodes):
        session.add(
            PipelineNodeRun(
                run_id=run.id, node_id=node.id, position=i, operator=node.operator, status="pending"
            )
        )
    run.status, run.started_at, run.finished_at, run.error = (
        str(PipelineRunStatus.running),
        utcnow(),
        None,
        None,
    )
    run.outputs = []
    session.flush()
    return run, graph


def _bounded_log(lines: list[str]) -> str:
    text = "\n".join(lines)
    return text if len(text) <= LOG_MAX_CHARS else "…" + text[-LOG_MAX_CHARS:]


def _bounded_sample(samples: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    budget = SAMPLE_MAX_BYTES
    for port, rows in samples.items():
        kept: list[dict[str, Any]] = []
        for row in rows:
            size = len(json.dumps(row, default=str))
            if size > budget:
                break
            budget -= size
            kept.append(row)
        out[port] = kept
    return out


def record_node_event(session: Session, run_id: str, event: NodeEvent) -> None:
    """Keep one node's state (an event of the runner) in its row."""
    node = session.scalar(
        select(PipelineNodeRun).where(
            PipelineNodeRun.run_id == run_id, PipelineNodeRun.node_id == event.node_id
        )
    )
    if node is None:
        return
    node.status = str(event.status)
    node.cache_key = event.cache_key
    if event.started_at is not None:
        node.started_at = event.started_at
    if str(event.status) in ("succeeded", "failed", "skipped", "cached"):
        node.finished_at = utcnow()
        node.duration_s = event.duration_s
        node.rows_in = event.rows_in
        node.rows_out_ports = dict(event.rows_out)
        node.rows_out = sum(event.rows_out.values()) if event.rows_out else None
        node.log = _bounded_log(event.log)
        node.sample = _bounded_sample(event.samples)
        node.report = dict(event.outputs)
        node.error, node.error_code = event.error, event.error_code
    session.flush()


def record_outputs(
    session: Session,
    run: PipelineRun,
    written: list[SinkOutput],
    read_versions: list[str],
    *,
    job_id: str,
    owner_id: str | None,
) -> list[dict[str, Any]]:
    """Each sink's files as a new materialised version of its dataset (the dataset is registered if
    new), with lineage from the versions the run read; the run's ``outputs``."""
    import dais.data as datasets
    from dais.data import DataFormat, Dataset, DatasetVersion, SourceSpec, VersionKind

    inputs = list(session.scalars(select(DatasetVersion).where(DatasetVersion.id.in_(read_versions))))
    outputs = []
    for out in written:
        data = out.inspection.model_dump(mode="json", by_alias=True)
        fingerprint = {
            **out.inspection.fingerprint,
            "rows": out.rows,
            "pipeline_run": run.id,
            "node": out.node_id,
        }
        note = out.note or f"written by pipeline run {run.id} (node {out.node_id}, {out.mode})"
        ds = session.scalar(
            select(Dataset).where(Dataset.workspace_id == run.workspace_id, Dataset.name == out.dataset)
        )
        if ds is None:
            ds = datasets.record_registration(
                session,
                workspace_id=run.workspace_id,
                job_id=job_id,
                owner_id=owner_id,
                name=out.dataset,
                description=f"Written by a pipeline (run {run.id}).",
                tags=["pipeline"],
                connection_id=None,
                source=SourceSpec(path=out.prefix, format=DataFormat.parquet),
                inspection=out.inspection,
            )
            version = datasets.get_version(session, ds, 1)
            # A pipeline's output is a parquet copy in the artifact store: materialised, not a pointer.
            version.kind, version.artifact_prefix, version.note = (
                str(VersionKind.materialized),
                out.prefix,
                note,
            )
            version.fingerprint = fingerprint
        else:
            version = datasets.add_version(
                session,
                ds,
                kind=VersionKind.materialized,
                fingerprint=fingerprint,
                partitions=None,
                variables=dict(run.variables or {}),
                row_count=out.rows,
                bytes=out.bytes,
                files=out.files,
                schema=data["schema"],
                note=note,
                job_id=job_id,
                created_by=owner_id,
                artifact_prefix=out.prefix,
            )
        session.flush()
        datasets.add_lineage(session, version, [v for v in inputs if v.id != version.id], job_id)
        outputs.append(
            {
                "node_id": out.node_id,
                "dataset": ds.name,
                "dataset_id": ds.id,
                "version": version.number,
                "rows": out.rows,
            }
        )
    return outputs
