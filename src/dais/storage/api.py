"""Artifact routes: list, streaming download with ranges, streaming upload, delete."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dais.core.errors import Conflict, NotFound, RangeNotSatisfiable
from dais.storage.schemas import ArtifactList, ArtifactRead
from dais.storage.service import WorkspaceArtifacts
from dais.storage.stores.base import ArtifactStore
from dais.tenancy import Audit, Db, EditorAccess, ViewerAccess, WorkspaceAccess, record_audit

router = APIRouter(prefix="/api/v1/workspaces/{workspace}/artifacts", tags=["artifacts"])

# Uploads may be far larger than JSON bodies (see BodyLimitMiddleware).
UPLOAD_ROUTE = r"^/api/v1/workspaces/[^/]+/artifacts/.+"

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _artifacts(request: Request, access: WorkspaceAccess) -> WorkspaceArtifacts:
    store: ArtifactStore = request.app.state.store
    return WorkspaceArtifacts(store, access.workspace.id)


@router.get("")
async def list_artifacts(
    request: Request,
    access: ViewerAccess,
    prefix: Annotated[str, Query(max_length=1024)] = "",
    recursive: bool = True,
) -> ArtifactList:
    """Artifacts under a prefix (``recursive=false``: one level, folders end with ``/``)."""
    arts = _artifacts(request, access)
    return await run_in_threadpool(arts.list, prefix, recursive=recursive)


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` a ``Range`` header selects; ``None`` for the whole object.

    Forms this server does not serve (several ranges, other units) and invalid ones (``bytes=5-2``)
    are ignored, as RFC 9110 allows; a valid range outside the object is 416.
    """
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
        raise _unsatisfiable(f"The range {header!r} lies outside the object ({size} bytes).", size)
    end = min(int(m.group(2)) + 1, size) if m.group(2) else size
    return start, end


def _unsatisfiable(detail: str, size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(detail, size=size, headers={"Content-Range": f"bytes */{size}"})


_DOWNLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/octet-stream": {}}},
    206: {"description": "Partial content"},
    404: {"description": "No such artifact"},
    416: {"description": "Range not satisfiable"},
}


@router.get("/{key:path}", response_class=StreamingResponse, responses=_DOWNLOAD_RESPONSES)
async def download_artifact(key: str, request: Request, access: ViewerAccess) -> Response:
    """Download an artifact, streamed; honours a single ``Range: bytes=a-b`` header."""
    return await _serve(key, request, access)


@router.head("/{key:path}", response_class=Response, responses=_DOWNLOAD_RESPONSES)
async def head_artifact(key: str, request: Request, access: ViewerAccess) -> Response:
    """An artifact's size, ETag and modification time, without its bytes."""
    return await _serve(key, request, access)


async def _serve(key: str, request: Request, access: WorkspaceAccess) -> Response:
    arts = _artifacts(request, access)
    info = await run_in_threadpool(arts.stat, key)
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": _disposition(key)}
    if info.etag:
        headers["ETag"] = f'"{info.etag}"'
    if info.modified:
        headers["Last-Modified"] = info.modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
    rng = _parse_range(request.headers.get("range"), info.size)
    start, end = rng or (0, info.size)
    headers["Content-Length"] = str(end - start)
    code = status.HTTP_200_OK
    if rng:
        code = status.HTTP_206_PARTIAL_CONTENT
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
    if request.method == "HEAD" or info.size == 0:
        return Response(status_code=code, headers=headers, media_type="application/octet-stream")
    chunks = await run_in_threadpool(arts.read, key, start, end)
    return StreamingResponse(chunks, status_code=code, headers=headers, media_type="application/octet-stream")


def _disposition(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    from urllib.parse import quote

    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@router.put(
    "/{key:path}",
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            "required": True,
        }
    },
)
async def upload_artifact(
    key: str, request: Request, access: EditorAccess, ctx: Audit, db: Db, overwrite: bool = True
) -> ArtifactRead:
    """Upload an artifact as the raw request body, streamed to the store (never held in memory)."""
    arts = _artifacts(request, access)
    full = arts.full_key(key)  # refuses unsafe keys before a byte is read
    if not overwrite and await run_in_threadpool(arts.store.exists, full):
        raise Conflict(f"An artifact already exists at {key!r}; pass overwrite=true to replace it.")
    writer = await run_in_threadpool(arts.open_writer, key)
    try:
        async for chunk in request.stream():
            if chunk:
                await run_in_threadpool(writer.write, chunk)
        await run_in_threadpool(writer.commit)
    except BaseException:
        await run_in_threadpool(writer.abort)
        raise
    info = await run_in_threadpool(arts.stat, key)

    def audit() -> None:
        with db.session() as session:
            record_audit(
                session,
                ctx,
                "artifact.upload",
                target_type="artifact",
                target_id=key[:64],
                workspace_id=access.workspace.id,
                details={"key": key, "size": info.size},
            )

    await run_in_threadpool(audit)
    return info


@router.delete("/{key:path}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_artifact(key: str, request: Request, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete an artifact."""
    arts = _artifacts(request, access)
    if not await run_in_threadpool(arts.delete, key):
        raise NotFound(f"No artifact at {key!r}.")

    def audit() -> None:
        with db.session() as session:
            record_audit(
                session,
                ctx,
                "artifact.delete",
                target_type="artifact",
                target_id=key[:64],
                workspace_id=access.workspace.id,
                details={"key": key},
            )

    await run_in_threadpool(audit)
