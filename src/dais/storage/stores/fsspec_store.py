"""An artifact store over any fsspec filesystem; the local and S3 plugins build on it."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from dais.core.errors import NotFound, RangeNotSatisfiable
from dais.storage.stores.base import CHUNK_SIZE, ArtifactStore, ObjectInfo, Writer


class FsspecArtifactStore(ArtifactStore):
    """Objects are files under ``root`` of an fsspec filesystem."""

    capabilities = frozenset({"range", "streaming-write"})

    fs: Any
    root: str

    def _path(self, key: str) -> str:
        return posixpath.join(self.root, key) if key else self.root

    def _key(self, path: str) -> str:
        path = path.rstrip("/")
        root = self.root.rstrip("/")
        return path[len(root) + 1 :] if path.startswith(root + "/") else path

    def _info(self, key: str, raw: dict[str, Any]) -> ObjectInfo:
        etag = raw.get("ETag") or raw.get("etag")
        modified = raw.get("LastModified") or raw.get("mtime") or raw.get("created")
        if isinstance(modified, int | float):
            modified = datetime.fromtimestamp(modified, UTC)
        return ObjectInfo(
            key=key,
            size=int(raw.get("size") or 0),
            etag=str(etag).strip('"') if etag else None,
            modified=modified if isinstance(modified, datetime) else None,
        )

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            raw = self.fs.info(path)
        except (FileNotFoundError, NotADirectoryError) as exc:  # a path running through a file
            raise NotFound(f"No artifact at {key!r}.") from exc
        if raw.get("type") == "directory":
            raise NotFound(f"{key!r} is a folder, not an artifact; list it instead.")
        return self._info(key, raw)

    def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        size = self.stat(key).size
        end = size if end is None else min(end, size)
        if start < 0 or (start >= end and size > 0) or start > size:
            raise RangeNotSatisfiable(f"Bytes {start}-{end} lie outside {key!r} ({size} bytes).")
        return self._chunks(self._path(key), start, end, chunk_size)

    def _chunks(self, path: str, start: int, end: int, chunk_size: int) -> Iterator[bytes]:
        with self.fs.open(path, "rb", block_size=max(chunk_size, 5 * 1024 * 1024)) as f:
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                data = f.read(min(chunk_size, remaining))
                if not data:
                    break
                remaining -= len(data)
                yield data

    def list(self, prefix: str = "", *, recursive: bool = True) -> list[ObjectInfo]:
        base = prefix if prefix.endswith("/") or not prefix else posixpath.dirname(prefix)
        path = self._path(base.rstrip("/"))
        out: list[ObjectInfo] = []
        try:
            if recursive:
                entries = self.fs.find(path, detail=True, withdirs=False).values()
            else:
                entries = self.fs.ls(path, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        for raw in entries:
            key = self._key(raw["name"])
            if not key.startswith(prefix) or self._is_internal(key):
                continue
            if raw.get("type") == "directory":
                out.append(ObjectInfo(key=key + "/", size=0, etag=None, modified=None))
            else:
                out.append(self._info(key, raw))
        return sorted(out, key=lambda o: o.key)

    def _is_internal(self, key: str) -> bool:
        """Whether ``key`` is a file of the store's own (never listed); none by default."""
        return False

    def delete(self, key: str) -> bool:
        path = self._path(key)
        if not self.fs.isfile(path):  # missing, or a folder: neither is an artifact
            return False
        self.fs.rm(path)
        return True

    def open_writer(self, key: str) -> Writer:
        return _DirectWriter(self, key)


class _DirectWriter(Writer):
    """Writes through an fsspec file; the object appears when the file is closed."""

    def __init__(self, store: FsspecArtifactStore, key: str) -> None:
        self.store = store
        self.key = key
        self._file = store.fs.open(store._path(key), "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> ObjectInfo:
        self._file.close()
        return self.store.stat(self.key)

    def abort(self) -> None:
        discard = getattr(self._file, "discard", None)
        if discard is not None:
            discard()  # abandons a multipart upload, leaving nothing behind
            # Mark it closed, or its finaliser would try to flush the discarded buffer.
            self._file.closed = True
        else:
            self._file.close()
            self.store.delete(self.key)
