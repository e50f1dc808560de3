"""The ``file://`` artifact store: a local (or NFS-mounted) folder.

Uploads land in a temporary file beside the target and are renamed into place on commit, so a
reader never sees half an object; every path is resolved (symlinks included) and must stay inside
the root.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

from fsspec.implementations.local import LocalFileSystem
from pydantic import BaseModel

from dais.core.errors import Conflict, UnsafePath
from dais.storage.stores.base import ObjectInfo, Writer
from dais.storage.stores.fsspec_store import FsspecArtifactStore

_TMP_PREFIX = ".upload-"
_TMP_NAME = re.compile(rf"(?:^|/){re.escape(_TMP_PREFIX)}[0-9a-f]{{32}}$")


class LocalArtifactStore(FsspecArtifactStore):
    """Artifacts in a local folder."""

    scheme = "file"

    def __init__(self, url: str, config: BaseModel | None = None) -> None:
        super().__init__(url, config)
        parsed = urlparse(url)
        root = Path(unquote(parsed.path)).expanduser()
        root.mkdir(parents=True, exist_ok=True)
        self.real_root = Path(os.path.realpath(root))
        self.root = str(self.real_root)
        self.fs = LocalFileSystem()

    def _path(self, key: str) -> str:
        path = super()._path(key)
        real = os.path.realpath(path)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise UnsafePath(f"Artifact key {key!r} resolves outside the artifact store (a symlink?).")
        return path

    def _is_internal(self, key: str) -> bool:
        return _TMP_NAME.search(key) is not None  # an upload not yet committed

    def open_writer(self, key: str) -> Writer:
        return _AtomicLocalWriter(self, key)


class _AtomicLocalWriter(Writer):
    def __init__(self, store: LocalArtifactStore, key: str) -> None:
        self.store = store
        self.key = key
        self.final = Path(store._path(key))
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise Conflict(f"Cannot write {key!r}: a part of its path is an artifact, not a folder.") from exc
        if self.final.is_dir():
            raise Conflict(f"Cannot write {key!r}: it is a folder of other artifacts.")
        store._path(key)  # re-check now that parent folders exist
        self.tmp = self.final.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        self._file = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit/abort

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> ObjectInfo:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.tmp, self.final)
        return self.store.stat(self.key)

    def abort(self) -> None:
        self._file.close()
        self.tmp.unlink(missing_ok=True)
