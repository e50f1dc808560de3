"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts``) and the tracking API's ``artifacts/list``.

An MLflow client resolves a run's ``mlflow-artifacts:/<experiment>/<run>/artifacts`` URI to
``/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>`` and uploads, lists,
downloads and deletes there. The bytes live in the caller's workspace of the artifact store at
``mlflow/<experiment>/<run>/artifacts/<path>``, streamed both ways; a path must start with an
experiment of the caller's workspace, so another workspace's experiment ids simply do not exist.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import Any

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from dais.core.errors import NotFound, PermissionDenied
from dais.storage import ArtifactStore, WorkspaceArtifacts, safe_key
from dais.tenancy import Role, WorkspaceAccess
from dais.tracking import service
from dais.tracking.errors import ResourceDoesNotExist
from dais.tracking.mlflow.common import (
    MlflowAccess,
    MlflowError,
    app_db,
    in_thread,
    json_response,
    mlflow_router,
    param_str,
    read_params,
)
from dais.tracking.models import Experiment

#: Routes whose request bodies may be as large as artifact uploads (see the body-limit middleware).
UPLOAD_ROUTE = r"^/(api|ajax-api)/2\.0/mlflow-artifacts/artifacts/.+"

MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
ROOT = "mlflow"

router = mlflow_router()  # mounted at .../mlflow-artifacts
tracking_router = mlflow_router()  # mounted at .../mlflow


def _artifacts(request: Request, access: WorkspaceAccess) -> WorkspaceArtifacts:
    store: ArtifactStore = request.app.state.store
    return WorkspaceArtifacts(store, access.workspace.id)


def _editor(access: WorkspaceAccess) -> None:
    if not access.allows(Role.editor):
        raise PermissionDenied(
            f"Your role in workspace {access.workspace.slug!r} is {access.role}; writing artifacts needs "
            "editor or higher."
        )


def _key(path: str) -> str:
    """The workspace artifact key for an mlflow-artifacts path (unsafe paths are refused)."""
    path = path.strip("/")
    return safe_key(f"{ROOT}/{path}") if path else ROOT


def _check_experiment(request: Request, access: WorkspaceAccess, path: str) -> None:
    """The path's first segment must be an experiment of the caller's workspace."""
    head = path.strip("/").split("/", 1)[0]
    missing = ResourceDoesNotExist(f"No artifact at '{path}' (no such experiment in this workspace).")
    if not head.isdigit():
        raise missing
    with app_db(request).session(write=False) as s:
        found = s.scalar(
            select(Experiment.id).where(
                Experiment.id == int(head), Experiment.workspace_id == access.workspace.id
            )
        )
    if found is None:
        raise missing


def _media_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path)
    if not guessed or guessed in ("text/html", "image/svg+xml", "application/javascript", "text/javascript"):
        # Never let a browser run what someone uploaded.
        return "text/plain" if guessed else "application/octet-stream"
    return guessed


def _file_infos(arts: WorkspaceArtifacts, key: str, relative_to: str) -> list[dict[str, Any]]:
    """Direct children of folder ``key``: MLflow ``FileInfo`` dicts with paths under ``relative_to``.

    Derived from the files below ``key``, so a folder whose files were all deleted is gone too (as
    on object stores, which keep no folders).
    """
    prefix = key.rstrip("/") + "/"
    files: dict[str, int] = {}
    folders: set[str] = set()
    for item in arts.list(prefix, recursive=True).items:
        rest = item.key[len(prefix) :]
        if not rest or item.is_folder:
            continue
        head, sep, _ = rest.partition("/")
        if sep:
            folders.add(head)
        else:
            files[head] = item.size

    def path(name: str) -> str:
        return f"{relative_to}/{name}" if relative_to else name

    out: list[dict[str, Any]] = [{"path": path(n), "is_dir": True} for n in folders]
    out += [{"path": path(n), "is_dir": False, "file_size": size} for n, size in files.items()]
    return sorted(out, key=lambda f: f["path"])


# -- mlflow-artifacts ---------------------------------------------------------------------------------------


@router.get("/artifacts")
async def list_artifacts(request: Request, access: MlflowAccess) -> Response:
    """``GET /mlflow-artifacts/artifacts?path=<p>``: the direct children of ``p`` (basenames)."""
    p = await read_params(request)
    path = (param_str(p, "path") or "").strip("/")
    arts = _artifacts(request, access)

    def work() -> list[dict[str, Any]]:
        if path:
            _check_experiment(request, access, path)
        return _file_infos(arts, _key(path), "")

    files = await in_thread(work)
    return json_response({"files": files} if files else {})


@router.get("/artifacts/{path:path}")
async def download_artifact(path: str, request: Request, access: MlflowAccess) -> Response:
    """Download one artifact, streamed from the store."""
    arts = _artifacts(request, access)
    key = _key(path)

    def open_stream() -> tuple[int, Iterator[bytes]]:
        _check_experiment(request, access, path)
        try:
            info = arts.stat(key)
        except NotFound as exc:
            raise ResourceDoesNotExist(f"No artifact at '{path}'.") from exc
        return info.size, arts.read(key)

    size, chunks = await in_thread(open_stream)
    headers = {"Content-Length": str(size), "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(chunks, media_type=_media_type(path), headers=headers)


@router.put("/artifacts/{path:path}")
async def upload_artifact(path: str, request: Request, access: MlflowAccess) -> Response:
    """Upload one artifact: the raw body, streamed to the store (never held in memory)."""
    _editor(access)
    arts = _artifacts(request, access)
    key = _key(path)
    await in_thread(_check_experiment, request, access, path)
    writer = await in_thread(arts.open_writer, key)
    try:
        async for chunk in request.stream():
            if chunk:
                await in_thread(writer.write, chunk)
        await in_thread(writer.commit)
    except BaseException:
        await in_thread(writer.abort)
        raise
    return json_response({})


@router.delete("/artifacts/{path:path}")
async def delete_artifact(path: str, request: Request, access: MlflowAccess) -> Response:
    """Delete an artifact, or a folder with everything in it."""
    _editor(access)
    arts = _artifacts(request, access)
    key = _key(path)

    def work() -> None:
        _check_experiment(request, access, path)
        if not arts.delete(key):
            arts.store.delete_prefix(arts.full_key(key) + "/")

    await in_thread(work)
    return json_response({})


@router.get("/presigned/{path:path}")
async def presigned_download(path: str, access: MlflowAccess) -> Response:
    """No presigned URLs: the client then downloads through the proxy."""
    raise MlflowError("Presigned download URLs are not supported by this server.", "NOT_IMPLEMENTED", 501)


@router.post("/mpu/create/{path:path}")
@router.post("/mpu/complete/{path:path}")
@router.post("/mpu/abort/{path:path}")
async def multipart_upload(path: str, request: Request, access: MlflowAccess) -> Response:
    """Multipart uploads: answered as MLflow's server answers for a store without them, which
    makes the client upload the file in one streamed PUT instead."""
    p = await read_params(request)
    if not param_str(p, "path"):
        raise MlflowError("Missing value for required parameter 'path'.")
    raise MlflowError(MULTIPART_UNSUPPORTED, "NOT_IMPLEMENTED", 501)


# -- tracking API: artifacts/list ---------------------------------------------------------------------------


@tracking_router.api_route("/artifacts/list", methods=["GET", "POST"])
async def list_run_artifacts(request: Request, access: MlflowAccess) -> Response:
    """MLflow's ``ListArtifacts``: a run's artifacts under ``path`` (paths relative to the run root)."""
    p = await read_params(request)
    run_id = param_str(p, "run_id") or param_str(p, "run_uuid")
    if not run_id:
        raise MlflowError("Missing value for required parameter 'run_id'.")
    path = (param_str(p, "path") or "").strip("/")
    arts = _artifacts(request, access)

    def work() -> dict[str, Any]:
        with app_db(request).session(write=False) as s:
            run = service.get_run(s, access, run_id)
        files = _file_infos(arts, safe_key(service.run_artifact_key(run, path)), path)
        out: dict[str, Any] = {"root_uri": run.artifact_uri}
        if files:
            out["files"] = files
        return out

    return json_response(await in_thread(work))
