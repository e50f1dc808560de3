"""Resumable chunked uploads into the workspace's artifacts, registrable as datasets.

A client opens an upload (``filename``, ``size``), then sends chunks with
``Content-Range: bytes start-end/total``. Each chunk is kept as its own part
(``uploads/<id>/.parts/<offset>``) and the upload's ``received`` offset moves on only once the part
is stored, so a chunk lost on the way is simply sent again from ``received`` (``GET`` tells it). A
repeated or overlapping chunk is fine (only its new bytes are kept); a chunk starting past
``received`` is a gap and answers 409 with the offset to resume from. Completing joins the parts,
streamed, into ``uploads/<id>/<filename>``: a dataset registers it with ``connection: null``.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from dais.core.errors import BadRequest, Conflict, InvalidInput, NotFound, PayloadTooLarge
from dais.data.models import DataUpload
from dais.data.schemas import UploadCreate, UploadRead, UploadState
from dais.db import utcnow
from dais.storage import WorkspaceArtifacts, safe_key
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit

#: The chunk size clients are told to send (under the API's default body limit).
CHUNK_SIZE = 8 * 1024 * 1024
#: The largest chunk accepted.
MAX_CHUNK = 64 * 1024 * 1024
#: How long an unfinished upload may be resumed.
TTL = timedelta(days=7)

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def upload_read(up: DataUpload) -> UploadRead:
    return UploadRead(
        id=up.id,
        workspace_id=up.workspace_id,
        filename=up.filename,
        size=up.size,
        received=up.received,
        chunk_size=CHUNK_SIZE,
        state=UploadState(up.state),
        key=up.key,
        created_at=up.created_at,
        expires_at=up.expires_at,
    )


def parts_prefix(up: DataUpload) -> str:
    return f"uploads/{up.id}/.parts/"


def part_key(up: DataUpload, offset: int) -> str:
    return f"{parts_prefix(up)}{offset:020d}"


def create_upload(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, spec: UploadCreate, *, max_bytes: int
) -> DataUpload:
    """Open an upload of ``spec.size`` bytes named ``spec.filename`` (a name, no folders)."""
    name = spec.filename
    if "/" in name or "\\" in name:
        raise InvalidInput(
            "The file name must be a name only, without folders.",
            errors=[{"loc": ["body", "filename"], "msg": "no folders"}],
        )
    try:
        safe_key(name)
    except InvalidInput as exc:
        raise InvalidInput(exc.detail, errors=[{"loc": ["body", "filename"], "msg": "unsafe name"}]) from exc
    if name.startswith("."):
        raise InvalidInput(
            "The file name must not start with a dot.",
            errors=[{"loc": ["body", "filename"], "msg": "hidden name"}],
        )
    if spec.size > max_bytes:
        raise PayloadTooLarge(f"The file is {spec.size} bytes; uploads are limited to {max_bytes} bytes.")
    now = utcnow()
    up = DataUpload(
        workspace_id=access.workspace.id,
        filename=name,
        size=spec.size,
        received=0,
        state=UploadState.open,
        key="",
        created_by=ctx.actor_id,
        created_at=now,
        updated_at=now,
        expires_at=now + TTL,
    )
    session.add(up)
    session.flush()
    up.key = f"uploads/{up.id}/{name}"
    session.flush()
    record_audit(
        session,
        ctx,
        "data.upload.create",
        target_type="data_upload",
        target_id=up.id,
        workspace_id=access.workspace.id,
        details={"filename": name, "size": spec.size},
    )
    return up


def get_upload(session: Session, access: WorkspaceAccess, upload_id: str) -> DataUpload:
    up = session.get(DataUpload, upload_id)
    if up is None or up.workspace_id != access.workspace.id:
        raise NotFound(f"Upload {upload_id!r} not found in this workspace.")
    return up


def _must_be_open(up: DataUpload) -> None:
    if up.state != UploadState.open:
        raise Conflict(f"Upload {up.id} is {up.state}; start a new upload.", received=up.received)
    if up.expires_at < utcnow():
        raise Conflict(f"Upload {up.id} expired at {up.expires_at.isoformat()}; start a new upload.")


def parse_content_range(header: str | None, up: DataUpload) -> tuple[int, int]:
    """``(start, end_exclusive)`` of a chunk; 400 for a missing or malformed header."""
    m = _CONTENT_RANGE.match((header or "").strip())
    if m is None:
        raise BadRequest(
            "Send each chunk with `Content-Range: bytes <first>-<last>/<total>` (inclusive byte offsets).",
            errors=[{"loc": ["header", "content-range"], "msg": "missing or malformed"}],
        )
    first, last, total = (int(g) for g in m.groups())
    if total != up.size:
        raise BadRequest(
            f"Content-Range says the file has {total} bytes; the upload was opened for {up.size}.",
            errors=[{"loc": ["header", "content-range"], "msg": "wrong total"}],
        )
    if last < first or last >= up.size:
        raise BadRequest(
            f"Content-Range {first}-{last} is outside the file (0-{up.size - 1}).",
            errors=[{"loc": ["header", "content-range"], "msg": "out of range"}],
        )
    if last - first + 1 > MAX_CHUNK:
        raise PayloadTooLarge(f"Chunks are at most {MAX_CHUNK} bytes; send {CHUNK_SIZE}-byte chunks.")
    return first, last + 1


def plan_chunk(up: DataUpload, start: int) -> None:
    """Refuse a chunk that would leave a gap (409 carrying the offset to resume from)."""
    _must_be_open(up)
    if start > up.received:
        raise Conflict(
            f"This chunk starts at byte {start}, but the upload has {up.received} bytes: "
            f"resume from byte {up.received}.",
            received=up.received,
            headers={"Upload-Offset": str(up.received)},
        )


def advance(session: Session, up_id: str, old: int, new: int) -> bool:
    """Move ``received`` from ``old`` to ``new`` unless another chunk moved it meanwhile."""
    result = session.execute(
        update(DataUpload)
        .where(DataUpload.id == up_id, DataUpload.received == old, DataUpload.state == UploadState.open)
        .values(received=new, updated_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def join_parts(arts: WorkspaceArtifacts, up: DataUpload) -> int:
    """Join the parts into the upload's key (streamed), then drop them; returns the size written."""
    parts = sorted((i for i in arts.list(parts_prefix(up)).items if not i.is_folder), key=lambda i: i.key)
    expected = 0
    for p in parts:
        offset = int(p.key.rsplit("/", 1)[-1])
        if offset != expected:
            raise Conflict(
                f"Upload {up.id} is missing bytes from {expected}: resume from there.", received=expected
            )
        expected += p.size
    if expected != up.size:
        raise Conflict(f"Upload {up.id} holds {expected} of {up.size} bytes.", received=expected)
    writer = arts.open_writer(up.key)
    try:
        for p in parts:
            for chunk in arts.read(p.key):
                writer.write(chunk)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    arts.store.delete_prefix(arts.full_key(parts_prefix(up).rstrip("/")) + "/")
    return expected


def complete(session: Session, ctx: AuditContext, access: WorkspaceAccess, up: DataUpload) -> DataUpload:
    up.state = UploadState.complete
    up.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        ctx,
        "data.upload.complete",
        target_type="data_upload",
        target_id=up.id,
        workspace_id=access.workspace.id,
        details={"key": up.key, "size": up.size},
    )
    return up


def check_complete(up: DataUpload) -> None:
    _must_be_open(up)
    if up.received != up.size:
        raise Conflict(
            f"Upload {up.id} has {up.received} of {up.size} bytes: send the rest first.", received=up.received
        )


def abort(session: Session, ctx: AuditContext, access: WorkspaceAccess, up: DataUpload) -> DataUpload:
    if up.state == UploadState.complete:
        raise Conflict(
            f"Upload {up.id} is complete: it is the artifact {up.key!r} now (delete that, or the dataset)."
        )
    up.state = UploadState.aborted
    up.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        ctx,
        "data.upload.abort",
        target_type="data_upload",
        target_id=up.id,
        workspace_id=access.workspace.id,
        details={"filename": up.filename},
    )
    return up
