"""Native tracking routes (``/api/v1``) for the UI, the SDK and the CLI: experiments (list, create,
read, rename/describe, soft delete and restore, column keys), run search pages with chosen
param/metric/tag columns, run detail and edits, metric history for charts (one run or many), the
run's artifacts (list, streamed download with ranges), its evaluation data, and run comparison.

Viewers read (search, compare and history reads are ``POST`` only to carry a body); editors change.
Filters use MLflow's grammar; a bad one answers 422 naming the problem.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dais.core.errors import DaisError, InvalidInput, NotFound, PayloadTooLarge, RangeNotSatisfiable
from dais.storage import ArtifactStore, WorkspaceArtifacts, safe_key
from dais.tenancy import Audit, AuditContext, Db, EditorAccess, ViewerAccess, WorkspaceAccess, record_audit
from dais.tracking import history, queries
from dais.tracking import service as svc
from dais.tracking.errors import ResourceDoesNotExist
from dais.tracking.models import TERMINAL_STATUSES
from dais.tracking.schemas import (
    DEFAULT_MAX_POINTS,
    MAX_POINTS,
    NOTE_TAG,
    ExperimentColumns,
    ExperimentCreate,
    ExperimentPage,
    ExperimentRead,
    ExperimentUpdate,
    MetricHistoryBulk,
    MetricHistoryRequest,
    MetricPointRead,
    MetricSeries,
    RunArtifact,
    RunArtifactList,
    RunDetail,
    RunPage,
    RunsCompareRequest,
    RunsComparison,
    RunSearch,
    RunUpdate,
    View,
)

router = APIRouter(prefix="/api/v1", tags=["tracking"])

WS = "/workspaces/{workspace}"
E = f"{WS}/experiments/{{experiment}}"
R = f"{WS}/runs/{{run}}"

ExperimentRef = Annotated[str, Path(description="Experiment id or name.", min_length=1, max_length=500)]
RunId = Annotated[str, Path(description="Run id.", min_length=1, max_length=64)]
ArtifactPath = Annotated[str, Query(max_length=1024, description="Relative to the run's artifacts.")]

#: evaluation.json is read whole into memory to parse it: refuse anything larger.
MAX_EVALUATION_BYTES = 64 * 1024 * 1024
EVALUATION_FILE = "evaluation.json"


# -- experiments -----------------------------------------------------------------------------------


@router.get(f"{WS}/experiments")
def list_experiments(
    access: ViewerAccess,
    db: Db,
    q: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
    view: View = View.active,
    sort: Annotated[str, Query(description="name, creation_time or last_update_time; - for descending.")] = (
        "-creation_time"
    ),
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> ExperimentPage:
    """The workspace's experiments (newest first by default), each with its active run count."""
    with db.session(write=False) as s:
        page = queries.list_experiments(s, access, q=q, view=view, sort=sort, limit=limit, cursor=cursor)
        return ExperimentPage(items=queries.experiment_reads(s, page.items), next_cursor=page.next_cursor)


@router.post(f"{WS}/experiments", status_code=status.HTTP_201_CREATED)
def create_experiment(body: ExperimentCreate, access: EditorAccess, ctx: Audit, db: Db) -> ExperimentRead:
    """Create an experiment (its name unused in the workspace, deleted experiments included)."""
    tags = dict(body.tags)
    if body.description:
        tags[NOTE_TAG] = body.description
    with db.session() as s:
        exp = svc.create_experiment(s, access, body.name, tags=tags, ctx=ctx)
        return queries.experiment_reads(s, [exp])[0]


@router.get(E)
def get_experiment(experiment: ExperimentRef, access: ViewerAccess, db: Db) -> ExperimentRead:
    """One experiment by id or name (deleted ones too)."""
    with db.session(write=False) as s:
        return queries.experiment_reads(s, [queries.resolve_experiment(s, access, experiment)])[0]


@router.patch(E)
def update_experiment(
    experiment: ExperimentRef, body: ExperimentUpdate, access: EditorAccess, ctx: Audit, db: Db
) -> ExperimentRead:
    """Rename an experiment, change its description, set tags (``null`` removes one)."""
    with db.session() as s:
        exp = queries.resolve_experiment(s, access, experiment)
        if body.name is not None:
            svc.rename_experiment(s, access, exp.id, body.name, ctx=ctx)
        tags: dict[str, str | None] = dict(body.tags)
        if body.description is not None:
            tags[NOTE_TAG] = body.description
        for key, value in tags.items():
            if value is None:
                # Removing a tag that is not there leaves what was asked for.
                with contextlib.suppress(ResourceDoesNotExist):
                    svc.delete_experiment_tag(s, access, exp.id, key)
            else:
                svc.set_experiment_tag(s, access, exp.id, key, value)
        if tags:
            exp.last_update_time = svc.now_ms()
            _audit(s, ctx, access, "experiment.update", "experiment", str(exp.id), {"tags": sorted(tags)})
        s.flush()
        return queries.experiment_reads(s, [exp])[0]


@router.delete(E, status_code=status.HTTP_204_NO_CONTENT)
def delete_experiment(experiment: ExperimentRef, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete an experiment and its runs (restorable: ``POST .../restore``)."""
    with db.session() as s:
        exp = queries.resolve_experiment(s, access, experiment)
        if exp.lifecycle_stage == "deleted":
            raise InvalidInput(
                f"Experiment {exp.name!r} is already deleted (restore it with POST .../restore)."
            )
        svc.delete_experiment(s, access, exp.id, ctx=ctx)


@router.post(f"{E}/restore")
def restore_experiment(experiment: ExperimentRef, access: EditorAccess, ctx: Audit, db: Db) -> ExperimentRead:
    """Restore a deleted experiment and the runs its deletion deleted."""
    with db.session() as s:
        exp = queries.resolve_experiment(s, access, experiment)
        svc.restore_experiment(s, access, exp.id, ctx=ctx)
        return queries.experiment_reads(s, [exp])[0]


@router.get(f"{E}/columns")
def experiment_columns(experiment: ExperimentRef, access: ViewerAccess, db: Db) -> ExperimentColumns:
    """The param, metric and tag keys of the experiment's runs (for choosing table columns)."""
    with db.session(write=False) as s:
        return queries.experiment_columns(s, queries.resolve_experiment(s, access, experiment))


# -- runs ------------------------------------------------------------------------------------------


@router.post(f"{WS}/runs/search")
def search_runs(body: RunSearch, access: ViewerAccess, db: Db) -> RunPage:
    """A page of runs of the experiments matching ``filter`` (MLflow's grammar), in ``order_by``
    order, each with the chosen params, latest metrics and tags. Pass ``next_cursor`` back as
    ``cursor`` (with the same search) for the next page; ask for ``total`` on the first page only."""
    with db.session(write=False) as s:
        page = queries.search_run_page(
            s,
            access,
            body.experiment_ids,
            filter=body.filter,
            order_by=body.order_by,
            view=body.view,
            limit=body.limit,
            cursor=body.cursor,
            with_total=body.total,
        )
        items = queries.run_rows(s, page.runs, params=body.params, metrics=body.metrics, tags=body.tags)
        return RunPage(items=items, next_cursor=page.next_cursor, total=page.total)


@router.post(f"{WS}/runs/compare")
def compare_runs(body: RunsCompareRequest, access: ViewerAccess, db: Db) -> RunsComparison:
    """Runs side by side: every param with a ``differs`` flag, and latest metrics with their range."""
    with db.session(write=False) as s:
        return queries.compare_runs(s, access, body.run_ids)


@router.post(f"{WS}/runs/metrics/history")
def metric_histories(body: MetricHistoryRequest, access: ViewerAccess, db: Db) -> MetricHistoryBulk:
    """Series of several runs and keys (downsampled to ``max_points`` each), for overlaid charts."""
    with db.session(write=False) as s:
        runs = queries.runs_in_workspace(s, access, body.run_ids, loc="run_ids")
        keys = list(dict.fromkeys(body.keys))
        present = queries.metric_keys_of(s, [r.id for r in runs], keys)
        series = [
            _series(s, access, r.id, key, body.max_points)
            for r in runs
            for key in keys
            if (r.id, key) in present
        ]
        return MetricHistoryBulk(series=series)


@router.get(R)
def get_run(run: RunId, access: ViewerAccess, db: Db) -> RunDetail:
    """A run: params, tags, latest metrics, inputs, its job, parent and children, logged models."""
    with db.session(write=False) as s:
        return queries.run_detail(s, access, svc.get_run(s, access, run))


@router.patch(R)
def update_run(run: RunId, body: RunUpdate, access: EditorAccess, ctx: Audit, db: Db) -> RunDetail:
    """Rename a run, set its status (a finished status sets the end time) or its description."""
    with db.session() as s:
        found = svc.get_run(s, access, run)
        end_time = None
        if body.status is not None and body.status in TERMINAL_STATUSES and found.end_time is None:
            end_time = svc.now_ms()
        svc.update_run(
            s,
            access,
            found.id,
            status=body.status.value if body.status is not None else None,
            end_time=end_time,
            name=body.name,
            ctx=ctx,
        )
        if body.name is not None or body.description is not None:
            if body.description is not None:
                svc.set_tag(s, access, found.id, NOTE_TAG, body.description)
            changed = [f for f in ("name", "description") if getattr(body, f) is not None]
            _audit(s, ctx, access, "run.update", "run", found.id, {"fields": changed})
        s.flush()
        s.refresh(found)
        return queries.run_detail(s, access, found)


@router.delete(R, status_code=status.HTTP_204_NO_CONTENT)
def delete_run(run: RunId, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete a run (restorable: ``POST .../restore``); its metrics and artifacts stay."""
    with db.session() as s:
        svc.delete_run(s, access, run, ctx=ctx)


@router.post(f"{R}/restore")
def restore_run(run: RunId, access: EditorAccess, ctx: Audit, db: Db) -> RunDetail:
    """Restore a deleted run."""
    with db.session() as s:
        return queries.run_detail(s, access, svc.restore_run(s, access, run, ctx=ctx))


@router.get(f"{R}/metrics/{{key:path}}/history")
def metric_history(
    run: RunId,
    key: str,
    access: ViewerAccess,
    db: Db,
    max_points: Annotated[int, Query(ge=10, le=MAX_POINTS)] = DEFAULT_MAX_POINTS,
) -> MetricSeries:
    """A metric's points in step order, downsampled for a chart to at most ``max_points`` (the
    lowest and highest value of each stretch are kept, so spikes survive)."""
    with db.session(write=False) as s:
        found = svc.get_run(s, access, run)
        if not queries.metric_keys_of(s, [found.id], [key]):
            raise ResourceDoesNotExist(f"Run {found.id} has no metric {key!r}.")
        return _series(s, access, found.id, key, max_points)


def _series(s: Any, access: WorkspaceAccess, run_id: str, key: str, max_points: int) -> MetricSeries:
    n = queries.count_points(s, run_id, key)
    # history keeps up to max_points plus the first and the last point: ask for two fewer.
    points = history.metric_history(
        s, access, run_id, key, max_points=None if n <= max_points else max_points - 2
    )
    return MetricSeries(
        run_id=run_id,
        key=key,
        points=[
            MetricPointRead(step=p.step, timestamp=p.timestamp, value=queries.finite(p.value)) for p in points
        ],
        downsampled=n > max_points,
    )


# -- artifacts and evaluation ----------------------------------------------------------------------


def _artifacts(request: Request, access: WorkspaceAccess) -> WorkspaceArtifacts:
    store: ArtifactStore = request.app.state.store
    return WorkspaceArtifacts(store, access.workspace.id)


def _run_root(db: Any, access: WorkspaceAccess, run_id: str) -> str:
    with db.session(write=False) as s:
        return svc.run_artifact_key(svc.get_run(s, access, run_id))


def _relative(path: str, *, loc: str = "path") -> str:
    path = path.strip("/")
    if not path:
        return ""
    try:
        return safe_key(path)
    except DaisError as exc:
        raise InvalidInput(exc.detail, errors=[{"loc": ["query", loc], "msg": exc.detail}]) from exc


@router.get(f"{R}/artifacts")
async def list_run_artifacts(
    run: RunId, request: Request, access: ViewerAccess, db: Db, path: ArtifactPath = ""
) -> RunArtifactList:
    """One folder level of the run's artifacts (``path``: a folder under them; folders have ``is_dir``)."""
    root = await run_in_threadpool(_run_root, db, access, run)
    rel = _relative(path)
    arts = _artifacts(request, access)
    listing = await run_in_threadpool(arts.list, f"{root}/{rel}/" if rel else f"{root}/", recursive=False)
    items = []
    for info in listing.items:
        name = info.key[len(root) + 1 :].rstrip("/")
        items.append(
            RunArtifact(
                path=name,
                is_dir=info.is_folder,
                size=None if info.is_folder else info.size,
                modified=_ms(info.modified),
            )
        )
    return RunArtifactList(root=root, path=rel, items=items)


def _ms(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` a single ``Range: bytes=a-b`` selects (as the artifacts API reads it):
    forms not served (several ranges, other units) and invalid ones are ignored; a range outside
    the object is 416."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        length = int(m.group(2))
        if length == 0:
            raise _unsatisfiable("A suffix range of zero bytes selects nothing.", size)
        return max(size - length, 0), size
    start = int(m.group(1))
    if m.group(2) and int(m.group(2)) < start:
        return None
    if start >= size:
        raise _unsatisfiable(f"The range {header!r} lies outside the file ({size} bytes).", size)
    end = min(int(m.group(2)) + 1, size) if m.group(2) else size
    return start, end


def _unsatisfiable(detail: str, size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(detail, size=size, headers={"Content-Range": f"bytes */{size}"})


_CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}},
    206: {"description": "Partial content"},
    404: {"description": "No such run or artifact"},
    416: {"description": "Range not satisfiable"},
}


@router.get(f"{R}/artifacts/content", response_class=StreamingResponse, responses=_CONTENT_RESPONSES)
async def download_run_artifact(
    run: RunId,
    request: Request,
    access: ViewerAccess,
    db: Db,
    path: Annotated[
        str, Query(min_length=1, max_length=1024, description="A file under the run's artifacts.")
    ],
) -> Response:
    """A file of the run's artifacts, streamed; honours a single ``Range: bytes=a-b`` header."""
    root = await run_in_threadpool(_run_root, db, access, run)
    rel = _relative(path)
    if not rel:
        raise InvalidInput("Give the path of a file under the run's artifacts.")
    arts = _artifacts(request, access)
    key = f"{root}/{rel}"
    try:
        info = await run_in_threadpool(arts.stat, key)
    except NotFound as exc:
        raise ResourceDoesNotExist(f"Run {run} has no artifact {rel!r}.") from exc
    name = rel.rsplit("/", 1)[-1]
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
    }
    if info.etag:
        headers["ETag"] = f'"{info.etag}"'
    rng = _parse_range(request.headers.get("range"), info.size)
    start, end = rng or (0, info.size)
    headers["Content-Length"] = str(end - start)
    code = status.HTTP_200_OK
    if rng:
        code = status.HTTP_206_PARTIAL_CONTENT
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
    if info.size == 0:
        return Response(status_code=code, headers=headers, media_type="application/octet-stream")
    chunks = await run_in_threadpool(arts.read, key, start, end)
    return StreamingResponse(chunks, status_code=code, headers=headers, media_type="application/octet-stream")


@router.get(f"{R}/evaluation")
async def get_run_evaluation(run: RunId, request: Request, access: ViewerAccess, db: Db) -> dict[str, Any]:
    """The run's ``evaluation.json`` (confusion matrix, ROC/PR curves, feature importance,
    residuals...) as Dais's preset trainers write it at the root of the run's artifacts."""
    root = await run_in_threadpool(_run_root, db, access, run)
    arts = _artifacts(request, access)
    key = f"{root}/{EVALUATION_FILE}"

    def load() -> Any:
        try:
            info = arts.stat(key)
        except NotFound as exc:
            raise ResourceDoesNotExist(
                f"Run {run} has no {EVALUATION_FILE}: Dais's preset trainers write one when they "
                f"evaluate a model; a run logged from your own code has one only if it logs "
                f"`{EVALUATION_FILE}` at the root of its artifacts."
            ) from exc
        if info.size > MAX_EVALUATION_BYTES:
            raise PayloadTooLarge(
                f"{EVALUATION_FILE} of run {run} is {info.size} bytes, more than this route parses "
                f"({MAX_EVALUATION_BYTES}); download it from the run's artifacts instead."
            )
        raw = b"".join(arts.read(key, 0, info.size))
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise InvalidInput(f"{EVALUATION_FILE} of run {run} is not valid JSON: {exc}") from exc

    data = await run_in_threadpool(load)
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{EVALUATION_FILE} of run {run} holds a JSON {type(data).__name__}, not an object."
        )
    return data


def _audit(
    s: Any,
    ctx: AuditContext,
    access: WorkspaceAccess,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
) -> None:
    record_audit(
        s,
        ctx,
        action,
        target_type=target_type,
        target_id=target_id,
        workspace_id=access.workspace.id,
        details=details,
    )
