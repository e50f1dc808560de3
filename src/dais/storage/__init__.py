"""The artifact store: fsspec-based plugins (file, s3) with workspace-scoped, traversal-proof keys."""

from dais.storage.keys import safe_key, workspace_prefix
from dais.storage.registry import artifact_stores, open_store, store_for_url
from dais.storage.service import WorkspaceArtifacts
from dais.storage.stores.base import ArtifactStore, ObjectInfo, Writer

__all__ = [
    "ArtifactStore",
    "ObjectInfo",
    "WorkspaceArtifacts",
    "Writer",
    "artifact_stores",
    "open_store",
    "safe_key",
    "store_for_url",
    "workspace_prefix",
]
