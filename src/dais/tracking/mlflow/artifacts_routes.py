"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts``) and the tracking API's ``artifacts/list``.

An MLflow client resolves a run's ``mlflow-artifacts:/<experiment>/<run>/artifacts`` URI to
``/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>`` and uploads, lists,
downloads and deletes there. The bytes live in the caller's workspace of the artifact store at
``mlflow/<experiment>/<run>/artifacts/<path>``, streamed both ways; a path must start with an
experiment of the caller's workspace, so another workspace's experiment ids simply do not exist.
Large files may go up in parts (``mpu/create``, PUTs to signed part URLs, ``mpu/complete``: see
:mod:`.multipart`).
"""

from __future__ import annotations

import hashlib
import mimetypes
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from dais.core.errors import NotFound, PermissionDenied
from dais.core.settings import Settings
from dais.storage import ArtifactStore, WorkspaceArtifacts, safe_key
from dais.tenancy import Role, WorkspaceAccess
from dais.tracking import service
from dais.tracking.errors import ResourceDoesNotExist
from dais.tracking.mlflow import multipart as mpu
from dais.tracking.mlflow.common import (
    MlflowAccess,
    MlflowError,
    app_db,
    in_thread,
    json_response,
    mlflow_router,
    param_int,
    param_list,
    param_str,
    read_params,
    require_str,
)
from dais.tracking.models import Experiment

#: Routes whose request bodies may be as large as artifact uploads (see the body-limit middleware).
UPLOAD_ROUTE = r"^/(api|ajax-api)/2\.0/mlflow-artifacts/(artifacts|mpu/part)/.+"
ROOT = "mlflow"

router = mlflow_router()  # mounted at .../mlflow-artifacts
tracking_router = mlflow_router()  # mounted at .../mlflow


def _artifacts(request: Request, access: WorkspaceAccess) -> WorkspaceArtifacts:
    store: ArtifactStore = request.app.state.store
    return WorkspaceArtifacts(store, access.workspace.id)


def _secret(request: Request) -> bytes:
    settings: Settings = request.app.state.settings
    return settings.secret_key()


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
        staging = mpu.STAGING.rsplit("/", 1)[1]
        return [f for f in _file_infos(arts, ROOT, "") if f["path"] != staging]

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


def _target_key(path: str, p: dict[str, Any]) -> str:
    """The artifact a multipart upload writes: the ``path`` parameter is the client's local file,
    whose base name goes into the folder ``path`` of the URL (as MLflow's server does)."""
    local = param_str(p, "path")
    if not local:
        raise MlflowError("Missing value for required parameter 'path'.")
    name = local.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return _key(f"{path.strip('/')}/{name}")


@router.post("/mpu/create/{path:path}")
async def create_multipart_upload(path: str, request: Request, access: MlflowAccess) -> Response:
    """Start a multipart upload: an upload id and one signed part URL (back at this server) per part."""
    p = await read_params(request)
    key = _target_key(path, p)
    num_parts = param_int(p, "num_parts", default=1)
    assert num_parts is not None
    if not 1 <= num_parts <= mpu.MAX_PARTS:
        raise MlflowError(f"num_parts must be between 1 and {mpu.MAX_PARTS}, not {num_parts}.")
    _editor(access)
    arts = _artifacts(request, access)
    upload_id = mpu.new_upload_id()
    expires = int(time.time()) + mpu.PART_URL_TTL_S

    def work() -> None:
        _check_experiment(request, access, path)
        mpu.write_manifest(arts, upload_id, mpu.Manifest(key, num_parts, expires))

    await in_thread(work)
    secret = _secret(request)
    mount = request.url.path.split("/mpu/create/", 1)[0]
    workspace_id = access.workspace.id
    credentials = []
    for n in range(1, num_parts + 1):
        sig = mpu.sign_part(secret, upload_id, n, workspace_id, expires)
        query = urlencode({"ws": workspace_id, "expires": expires, "sig": sig})
        url = request.url.replace(path=f"{mount}/mpu/part/{upload_id}/{n}", query=query)
        credentials.append({"url": str(url), "part_number": n, "headers": {}})
    return json_response({"upload_id": upload_id, "credentials": credentials})


@router.put("/mpu/part/{upload_id}/{part}")
async def upload_part(upload_id: str, part: str, request: Request) -> Response:
    """One part, PUT to its signed URL (the signature is the credential), streamed to staging."""
    q = request.query_params
    if not part.isdigit():
        raise MlflowError(f"Invalid part number {part!r}.")
    number = int(part)
    expires = q.get("expires", "")
    if not expires.isdigit():
        raise MlflowError("The part URL's signature is not valid.", "PERMISSION_DENIED", 403)
    workspace_id = q.get("ws", "")
    mpu.check_upload_id(upload_id)
    mpu.verify_part(_secret(request), upload_id, number, workspace_id, int(expires), q.get("sig", ""))
    store: ArtifactStore = request.app.state.store
    arts = WorkspaceArtifacts(store, workspace_id)
    manifest = await in_thread(mpu.read_manifest, arts, upload_id)
    if not 1 <= number <= manifest.num_parts:
        raise MlflowError(f"Part {number} is outside 1..{manifest.num_parts} for this upload.")
    md5 = hashlib.md5(usedforsecurity=False)
    writer = await in_thread(arts.open_writer, mpu.part_key(upload_id, number))
    try:
        async for chunk in request.stream():
            if chunk:
                md5.update(chunk)
                await in_thread(writer.write, chunk)
        await in_thread(writer.commit)
    except BaseException:
        await in_thread(writer.abort)
        raise
    return Response(status_code=200, headers={"ETag": f'"{md5.hexdigest()}"'})


@router.post("/mpu/complete/{path:path}")
async def complete_multipart_upload(path: str, request: Request, access: MlflowAccess) -> Response:
    """Concatenate the uploaded parts, in part order, into the artifact (streamed), then drop them."""
    p = await read_params(request)
    key = _target_key(path, p)
    upload_id = mpu.check_upload_id(require_str(p, "upload_id"))
    numbers = []
    for item in param_list(p, "parts"):
        number = param_int(item, "part_number", required=True) if isinstance(item, dict) else None
        if number is None:
            raise MlflowError("Each of 'parts' must be an object with a 'part_number'.")
        numbers.append(number)
    if not numbers:
        raise MlflowError("Missing value for required parameter 'parts'.")
    _editor(access)
    arts = _artifacts(request, access)

    def work() -> None:
        _check_experiment(request, access, path)
        manifest = mpu.read_manifest(arts, upload_id)
        if manifest.key != key:
            raise MlflowError(f"Upload {upload_id!r} is not an upload to '{path}'.")
        bad = [n for n in numbers if not 1 <= n <= manifest.num_parts]
        if bad or len(set(numbers)) != len(numbers):
            raise MlflowError(f"Invalid part numbers {numbers} for an upload of {manifest.num_parts} parts.")
        mpu.assemble(arts, upload_id, manifest, sorted(numbers))

    await in_thread(work)
    return json_response({})


@router.post("/mpu/abort/{path:path}")
async def abort_multipart_upload(path: str, request: Request, access: MlflowAccess) -> Response:
    """Drop an upload's staged parts."""
    p = await read_params(request)
    key = _target_key(path, p)
    upload_id = mpu.check_upload_id(require_str(p, "upload_id"))
    _editor(access)
    arts = _artifacts(request, access)

    def work() -> None:
        _check_experiment(request, access, path)
        manifest = mpu.read_manifest(arts, upload_id)
        if manifest.key != key:
            raise MlflowError(f"Upload {upload_id!r} is not an upload to '{path}'.")
        mpu.discard(arts, upload_id)

    await in_thread(work)
    return json_response({})


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
