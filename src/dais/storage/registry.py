"""The artifact store registry and the store a server opens from its settings."""

from __future__ import annotations

from typing import Any

from dais.core.errors import InvalidInput
from dais.core.plugins import Registry, registry
from dais.core.settings import Settings
from dais.storage.stores.base import ArtifactStore

BUILTIN_STORES = {
    "file": "dais.storage.stores.local:LocalArtifactStore",
    "s3": "dais.storage.stores.s3:S3ArtifactStore",
}


def artifact_stores() -> Registry[type[ArtifactStore]]:
    return registry("dais.artifact_stores", builtins=BUILTIN_STORES)


def store_for_url(url: str, config: dict[str, Any] | None = None) -> ArtifactStore:
    """Open the store plugin whose scheme ``url`` uses."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    reg = artifact_stores()
    if scheme not in reg:
        raise InvalidInput(
            f"No artifact store for URL {url!r}: use one of {', '.join(f'{s}://' for s in reg.names())}."
        )
    cls = reg.get(scheme)
    return cls(url, cls.Config.model_validate(config or {}))


def open_store(settings: Settings) -> ArtifactStore:
    """The artifact store named by ``DAIS_ARTIFACTS_URL`` (default: ``DAIS_HOME/artifacts``)."""
    a = settings.artifacts
    config: dict[str, Any] = {}
    if settings.artifacts_url.startswith("s3://"):
        config = {
            "endpoint_url": a.s3_endpoint_url,
            "access_key_id": a.s3_access_key_id,
            "secret_access_key": a.s3_secret_access_key,
            "region": a.s3_region,
        }
    return store_for_url(settings.artifacts_url, config)
