"""Uploads: files sent in chunks into a workspace's artifact store, resumable after a break.

An upload is opened with its file name and size, receives byte ranges (``Content-Range``) in any
number of requests, and once complete becomes an artifact at ``uploads/<id>/<filename>``: a path
that can be registered as a dataset with no connection::

    up = client.uploads.upload("sales.csv", workspace="team", progress=print)
    client.datasets.register("sales", path=up.key, workspace="team")
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from dais.client._base import Resource
from dais.client.http import DaisConnectionError, Transport, route
from dais.client.models import Model
from dais.core.errors import Conflict, InvalidInput

CREATE = route("POST", "/api/v1/workspaces/{workspace}/uploads")
GET = route("GET", "/api/v1/workspaces/{workspace}/uploads/{upload_id}")
PUT = route("PUT", "/api/v1/workspaces/{workspace}/uploads/{upload_id}")
COMPLETE = route("POST", "/api/v1/workspaces/{workspace}/uploads/{upload_id}/complete")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}/uploads/{upload_id}")

DEFAULT_CHUNK = 8 * 1024 * 1024

Progress = Callable[[int, int | None], None]
"""Called with (bytes so far, total bytes or ``None`` when unknown) as a transfer proceeds."""


class WorkspaceResource(Resource):
    """A domain whose calls name a workspace, by default the client's own (``Client(workspace=...)``).

    The default is the client's ``workspace`` argument, else ``DAIS_WORKSPACE`` (set inside jobs).
    """

    def __init__(self, transport: Transport, default_workspace: Callable[[], str | None]) -> None:
        super().__init__(transport)
        self._default_workspace = default_workspace

    def _ws(self, workspace: str | None) -> str:
        chosen = workspace or self._default_workspace()
        if not chosen:
            raise InvalidInput(
                "Which workspace? Pass workspace=..., create the client with Client(workspace=...), "
                "or set DAIS_WORKSPACE."
            )
        return chosen


class Upload(Model):
    """A chunked upload: how much of ``size`` the server has (``received``), and where it ends up."""

    id: str
    filename: str
    size: int
    received: int = 0
    state: str = "open"
    key: str | None = None
    """The artifact key once complete (``uploads/<id>/<filename>``)."""
    chunk_size: int | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None


class Uploads(WorkspaceResource):
    """Send files in chunks (resumable) into the workspace's artifact store."""

    def create(self, filename: str, size: int, *, workspace: str | None = None) -> Upload:
        """Open an upload of ``size`` bytes named ``filename``; send its bytes with :meth:`send`."""
        body = {"filename": filename, "size": size}
        return Upload.model_validate(
            self._t.call(CREATE, path={"workspace": self._ws(workspace)}, json=body).json()
        )

    def get(self, upload_id: str, *, workspace: str | None = None) -> Upload:
        """An upload's state: ``received`` is the offset to resume from."""
        path = {"workspace": self._ws(workspace), "upload_id": upload_id}
        return Upload.model_validate(self._t.call(GET, path=path).json())

    def send(
        self, upload_id: str, data: bytes, *, offset: int, total: int, workspace: str | None = None
    ) -> Upload:
        """Send ``data`` as the bytes at ``offset`` of a ``total``-byte upload (one ``Content-Range``).

        Sending a range again is harmless; a range that starts past what the server has raises
        :class:`~dais.core.errors.Conflict` (resume from :meth:`get`'s ``received``).
        """
        if not data:
            raise InvalidInput("A chunk needs at least one byte.")
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{total}",
        }
        path = {"workspace": self._ws(workspace), "upload_id": upload_id}
        return Upload.model_validate(self._t.call(PUT, path=path, content=data, headers=headers).json())

    def complete(self, upload_id: str, *, workspace: str | None = None) -> Upload:
        """Finish an upload whose bytes all arrived; its ``key`` is the artifact it became."""
        path = {"workspace": self._ws(workspace), "upload_id": upload_id}
        return Upload.model_validate(self._t.call(COMPLETE, path=path).json())

    def abort(self, upload_id: str, *, workspace: str | None = None) -> None:
        """Give an upload up and delete what it received."""
        self._t.call(DELETE, path={"workspace": self._ws(workspace), "upload_id": upload_id})

    def upload(
        self,
        source: str | os.PathLike[str],
        *,
        workspace: str | None = None,
        filename: str | None = None,
        resume: str | None = None,
        chunk_size: int | None = None,
        retries: int = 5,
        progress: Progress | None = None,
    ) -> Upload:
        """Upload a file in chunks and complete it; returns the finished upload (its ``key``).

        A dropped connection or a server restart mid-way is retried (``retries`` times in a row, with
        a growing pause) from the offset the server has. ``resume``: the id of an earlier upload of
        the same file that broke off (its id is in the error's ``upload_id``), to continue it.
        ``progress`` is told the bytes sent so far and the total.
        """
        ws = self._ws(workspace)
        file = Path(source)
        size = file.stat().st_size
        if resume is not None:
            up = self.get(resume, workspace=ws)
            if up.size != size:
                raise InvalidInput(f"Upload {resume} is of {up.size} bytes, but {file} has {size}.")
        else:
            up = self.create(filename or file.name, size, workspace=ws)
        chunk = chunk_size or up.chunk_size or DEFAULT_CHUNK
        offset = up.received
        if progress:
            progress(offset, size)
        failures = 0
        with file.open("rb") as fh:
            while offset < size:
                try:
                    offset = self._send_from(fh, up.id, ws, offset, size, chunk)
                    failures = 0
                except (DaisConnectionError, Conflict) as exc:
                    failures += 1
                    if failures > retries:
                        exc.extra["upload_id"] = up.id
                        raise
                    time.sleep(min(0.2 * 2**failures, 5.0))
                    offset = self._offset_after_break(up.id, ws, exc)
                if progress:
                    progress(offset, size)
        done = self.complete(up.id, workspace=ws)
        if progress and size == 0:
            progress(0, 0)
        return done

    def _send_from(self, fh: BinaryIO, upload_id: str, ws: str, offset: int, size: int, chunk: int) -> int:
        fh.seek(offset)
        data = fh.read(min(chunk, size - offset))
        if not data:
            raise InvalidInput(f"{fh.name} got shorter while it was uploaded.")
        up = self.send(upload_id, data, offset=offset, total=size, workspace=ws)
        return max(up.received, offset + len(data))

    def _offset_after_break(self, upload_id: str, ws: str, exc: Exception) -> int:
        """Where to go on after a failed chunk: what the server says it has."""
        try:
            return self.get(upload_id, workspace=ws).received
        except DaisConnectionError:
            raise exc from None
