"""Workspace-scoped artifact operations: every key is checked and joined to the workspace prefix."""

from __future__ import annotations

from collections.abc import Iterator

from dais.storage.keys import safe_key, safe_prefix, workspace_prefix
from dais.storage.schemas import ArtifactList, ArtifactRead
from dais.storage.stores.base import ArtifactStore, ObjectInfo, Writer


class WorkspaceArtifacts:
    """One workspace's view of the artifact store."""

    def __init__(self, store: ArtifactStore, workspace_id: str) -> None:
        self.store = store
        self.prefix = workspace_prefix(workspace_id)

    def full_key(self, key: str) -> str:
        return self.prefix + safe_key(key)

    def _read(self, info: ObjectInfo) -> ArtifactRead:
        return ArtifactRead(
            key=info.key[len(self.prefix) :],
            size=info.size,
            etag=info.etag,
            modified=info.modified,
            is_folder=info.key.endswith("/"),
        )

    def stat(self, key: str) -> ArtifactRead:
        return self._read(self.store.stat(self.full_key(key)))

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        return self.store.read(self.full_key(key), start, end)

    def open_writer(self, key: str) -> Writer:
        return self.store.open_writer(self.full_key(key))

    def list(self, prefix: str = "", *, recursive: bool = True) -> ArtifactList:
        prefix = safe_prefix(prefix)
        items = self.store.list(self.prefix + prefix, recursive=recursive)
        return ArtifactList(prefix=prefix, items=[self._read(i) for i in items])

    def delete(self, key: str) -> bool:
        return self.store.delete(self.full_key(key))
