"""Artifacts: files in a workspace, streamed both ways (never read whole into memory)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import Artifact

LIST = route("GET", "/api/v1/workspaces/{workspace}/artifacts")
DOWNLOAD = route("GET", "/api/v1/workspaces/{workspace}/artifacts/{key}")
HEAD = route("HEAD", "/api/v1/workspaces/{workspace}/artifacts/{key}")
UPLOAD = route("PUT", "/api/v1/workspaces/{workspace}/artifacts/{key}")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}/artifacts/{key}")

CHUNK = 1024 * 1024

Progress = Callable[[int, int | None], None]
"""Called with (bytes so far, total bytes or ``None`` when unknown) as a transfer proceeds."""

Source = str | os.PathLike[str] | bytes | BinaryIO | Iterable[bytes]


def _chunks_of_file(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(CHUNK):
        yield chunk


def _counted(chunks: Iterable[bytes], total: int | None, progress: Progress | None) -> Iterator[bytes]:
    done = 0
    if progress:
        progress(0, total)
    for chunk in chunks:
        done += len(chunk)
        yield chunk
        if progress:
            progress(done, total)


def _range_header(start: int | None, end: int | None) -> dict[str, str]:
    if start is None and end is None:
        return {}
    if start is None:
        raise ValueError("give start with end (a suffix range is start=-N)")
    if start < 0:
        return {"Range": f"bytes={start}"}
    return {"Range": f"bytes={start}-{'' if end is None else end - 1}"}


class Artifacts(Resource):
    """List, upload, download and delete a workspace's artifacts."""

    def list(self, workspace: str, prefix: str = "", *, recursive: bool = True) -> list[Artifact]:
        """Artifacts under ``prefix`` (``recursive=False``: one level; folders end with ``/``)."""
        body = self._t.call(
            LIST, path={"workspace": workspace}, params={"prefix": prefix, "recursive": recursive}
        ).json()
        return [Artifact.model_validate(i) for i in body["items"]]

    def stat(self, workspace: str, key: str) -> Artifact:
        """Size, ETag and modification time of one artifact."""
        r = self._t.call(HEAD, path={"workspace": workspace, "key": key})
        etag = r.headers.get("etag")
        modified = r.headers.get("last-modified")
        return Artifact(
            key=key,
            size=int(r.headers.get("content-length", "0")),
            etag=etag.strip('"') if etag else None,
            modified=parsedate_to_datetime(modified) if modified else None,
        )

    def upload(
        self,
        workspace: str,
        key: str,
        source: Source,
        *,
        overwrite: bool = True,
        progress: Progress | None = None,
    ) -> Artifact:
        """Upload ``source`` (a path, bytes, a binary file or an iterable of byte chunks) to ``key``.

        Paths and files are streamed in chunks; ``progress`` is told how far the upload is.
        """
        headers = {"Content-Type": "application/octet-stream"}
        path = {"workspace": workspace, "key": key}
        params = {"overwrite": overwrite}
        if isinstance(source, str | os.PathLike):
            file = Path(source)
            size = file.stat().st_size
            headers["Content-Length"] = str(size)
            with file.open("rb") as fh:
                body = _counted(_chunks_of_file(fh), size, progress)
                r = self._t.call(UPLOAD, path=path, params=params, content=body, headers=headers)
        elif isinstance(source, bytes):
            chunks = (source[i : i + CHUNK] for i in range(0, len(source), CHUNK))
            headers["Content-Length"] = str(len(source))
            r = self._t.call(
                UPLOAD,
                path=path,
                params=params,
                content=_counted(chunks, len(source), progress),
                headers=headers,
            )
        else:
            chunks_in: Iterable[bytes] = (
                _chunks_of_file(source) if hasattr(source, "read") else source  # type: ignore[arg-type]
            )
            r = self._t.call(
                UPLOAD, path=path, params=params, content=_counted(chunks_in, None, progress), headers=headers
            )
        return Artifact.model_validate(r.json())

    def iter_bytes(
        self, workspace: str, key: str, *, start: int | None = None, end: int | None = None
    ) -> Iterator[bytes]:
        """The artifact's bytes (``start``..``end`` exclusive; ``start=-N``: the last N), streamed."""
        headers = _range_header(start, end)
        with self._t.stream(DOWNLOAD, path={"workspace": workspace, "key": key}, headers=headers) as r:
            yield from r.iter_bytes(CHUNK)

    def read(self, workspace: str, key: str, *, start: int | None = None, end: int | None = None) -> bytes:
        """The artifact's bytes in memory: for small artifacts and ranges."""
        return b"".join(self.iter_bytes(workspace, key, start=start, end=end))

    def download(
        self,
        workspace: str,
        key: str,
        dest: str | os.PathLike[str],
        *,
        start: int | None = None,
        end: int | None = None,
        progress: Progress | None = None,
    ) -> Path:
        """Stream the artifact to ``dest`` (a file, or a folder to put it in); returns the file written.

        The file appears complete or not at all: bytes go to a temporary name first.
        """
        target = Path(dest)
        if target.is_dir():
            target = target / key.rsplit("/", 1)[-1]
        tmp = target.with_name(f".{target.name}.part")
        headers = _range_header(start, end)
        try:
            with (
                self._t.stream(DOWNLOAD, path={"workspace": workspace, "key": key}, headers=headers) as r,
                tmp.open("wb") as fh,
            ):
                length = r.headers.get("content-length")
                total = int(length) if length else None
                for chunk in _counted(r.iter_bytes(CHUNK), total, progress):
                    fh.write(chunk)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def delete(self, workspace: str, key: str) -> None:
        """Delete an artifact."""
        self._t.call(DELETE, path={"workspace": workspace, "key": key})
