"""The ``pipeline.run`` job kind: runs one pipeline version on the DuckDB engine.

A trusted platform kind (``platform_access``): the job process loads the platform's settings, opens
the metadata database and the artifact store itself. As the run goes, each node event is written in
its own short transaction (progress shows live in the API and the canvas); at the end, the dataset
versions the sinks wrote, their lineage and the run's outcome are written in ONE transaction. Node
outputs are cached under the workspace's ``pipelines/<pipeline id>/cache/``, so a run from a node
reuses its unchanged upstream. A run that fails (a node failed, or the pipeline is invalid by now)
fails its job too, so the job system's alerts fire.

A schedule runs a pipeline by submitting this kind with ``${ds}`` in ``variables``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dais.core.errors import DaisError
from dais.jobs.kinds import JobContext, JobKind

# The worker's zygote imports every job kind before forking: this module stays light; the handler
# imports the database, the engine and the data domain when it runs.
if TYPE_CHECKING:
    from dais.core.settings import Settings
    from dais.db import Database
    from dais.pipelines.cache import RunCache


class RunSpec(BaseModel):
    """Which pipeline version to run, and how (what ``POST /pipelines/{p}/runs`` submits)."""

    model_config = ConfigDict(extra="forbid")

    pipeline: str = Field(min_length=1, max_length=64, description="The pipeline's id or name.")
    version: int | None = Field(default=None, ge=1, description="Its version (current if unset).")
    mode: Literal["full", "debug"] = "full"
    sample_rows: int = Field(default=1000, ge=1, le=1_000_000)
    sample_method: Literal["first", "random"] = "first"
    variables: dict[str, str] = Field(default_factory=dict)
    from_node: str | None = Field(default=None, max_length=64)


class PipelineFailed(DaisError):
    """The run ended with a failed node (or could not start); its nodes say why."""

    code = "pipeline_run_failed"
    status = 422
    title = "The pipeline run failed"


def cache_root(settings: Settings, workspace_id: str, pipeline_id: str) -> Path:
    """Where a pipeline's node outputs are cached: its folder of the workspace's artifact area when
    the store is local, else a local folder under ``DAIS_HOME`` (the cache is read as local files)."""
    from urllib.parse import unquote, urlparse

    from dais.storage import workspace_prefix

    url = urlparse(settings.artifacts_url)
    if url.scheme == "file":
        base = Path(unquote(url.path)) / workspace_prefix(workspace_id)
    else:
        base = settings.home / "cache" / workspace_prefix(workspace_id)
    return base / "pipelines" / pipeline_id / "cache"


class RunKind(JobKind):
    """Runs a pipeline: per node status, counts, logs and samples; sinks write dataset versions."""

    name = "pipeline.run"
    Spec = RunSpec
    api_access = False
    platform_access = True
    # Shares the data kinds' warm launcher; a debug run then starts in milliseconds, not seconds.
    preload = (
        "dais.pipelines.runner",
        "dais.pipelines.run_records",
        "dais.pipelines.workspace_data",
        "dais.pipelines.engines.duckdb",
        "duckdb",
        "ibis",
        "ibis.backends.duckdb",
        "dais.pipelines.operators.io",
        "dais.pipelines.operators.sampling",
        "dais.pipelines.operators.relational",
        "dais.pipelines.operators.combine",
        "dais.pipelines.operators.sql",
        "dais.pipelines.operators.cleaning",
        "dais.pipelines.operators.scaling",
        "dais.pipelines.operators.encoding",
        "dais.pipelines.operators.features",
        "dais.pipelines.operators.selection",
        "dais.pipelines.operators.profile",
    )
    warm_group = "platform"

    def run(self, ctx: JobContext, spec: Any) -> dict[str, Any] | None:
        from dais.core.settings import load_settings
        from dais.db import create_database

        settings = load_settings()
        db = create_database(
            settings.database_url, busy_timeout_s=settings.database.sqlite_busy_timeout_s, pool_size=2
        )
        try:
            return _run(ctx, spec, settings, db)
        finally:
            db.dispose()


def _owner(db: Database, job_id: str) -> str | None:
    from sqlalchemy import select

    from dais.jobs.models import Job

    with db.session(write=False) as s:
        owner: str | None = s.scalar(select(Job.owner_id).where(Job.id == job_id))
        return owner


def _run(ctx: JobContext, spec: RunSpec, settings: Settings, db: Database) -> dict[str, Any]:
    from dais.pipelines import run_records as records
    from dais.pipelines import runs_service as runs
    from dais.pipelines.cache import RunCache
    from dais.pipelines.models import PipelineRun
    from dais.pipelines.runner import NodeEvent, NodeStatus, run_pipeline
    from dais.pipelines.schemas import PipelineRunStatus
    from dais.pipelines.workspace_data import ArtifactSinkWriter, WorkspaceDatasets

    owner = _owner(db, ctx.job_id)
    with db.session() as s:
        run, graph = records.start_run(s, ctx.workspace_id, ctx.job_id, spec, owner)
        run_id, pipeline_id = run.id, run.pipeline_id
        variables = dict(run.variables or {})
    ctx.progress(0.0, f"running {len(graph.nodes)} nodes")

    resolver = WorkspaceDatasets(
        lambda: db.session(write=False), ctx.workspace_id, settings=settings, variables=variables
    )
    writer = ArtifactSinkWriter(
        settings,
        ctx.workspace_id,
        f"pipelines/{pipeline_id}/outputs/{run_id}-{ctx.attempt}",
        resolver,
        variables,
    )
    total = max(len(graph.nodes), 1)
    done: set[str] = set()

    def on_node_event(event: NodeEvent) -> None:
        with db.session() as s:
            records.record_node_event(s, run_id, event)
        if event.status not in (NodeStatus.pending, NodeStatus.running):
            done.add(event.node_id)
        ctx.progress(min(len(done) / total, 0.99), f"{event.node_id}: {event.status}")

    cache: RunCache | None = RunCache(cache_root(settings, ctx.workspace_id, pipeline_id))
    try:
        result = run_pipeline(
            graph,
            resolver=resolver,
            variables=variables,
            mode=spec.mode,
            sample_rows=spec.sample_rows,
            sample_method=spec.sample_method,
            from_node=spec.from_node,
            cache=cache,
            on_node_event=on_node_event,
            sink_writer=writer,
            workdir=ctx.scratch,
        )
    except DaisError as exc:
        with db.session() as s:
            stopped = s.get(PipelineRun, run_id)
            assert stopped is not None
            runs.finish_run(s, stopped, PipelineRunStatus.failed, exc.detail)
        raise PipelineFailed(f"The pipeline could not run: {exc.detail}") from exc
    finally:
        resolver.close()

    failed = [n for n, r in result.nodes.items() if r.status is NodeStatus.failed]
    with db.session() as s:
        ended = s.get(PipelineRun, run_id)
        assert ended is not None
        outputs = records.record_outputs(
            s,
            ended,
            list(writer.outputs.values()),
            sorted(resolver.read),
            job_id=ctx.job_id,
            owner_id=owner,
        )
        error = None
        if failed:
            first = result.nodes[failed[0]]
            error = f"node {failed[0]!r} failed: {first.error}"
        runs.finish_run(
            s, ended, PipelineRunStatus.failed if failed else PipelineRunStatus.succeeded, error, outputs
        )
    ctx.progress(1.0, "failed" if failed else "succeeded")
    if error is not None:
        raise PipelineFailed(f"The pipeline run {run_id} failed: {error}")
    return {
        "run_id": run_id,
        "pipeline_id": pipeline_id,
        "status": result.status,
        "duration_s": result.duration_s,
        "outputs": outputs,
    }
