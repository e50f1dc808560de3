"""The ``s3://bucket/prefix`` artifact store: AWS S3 or any S3-compatible server (MinIO, Ceph, ...)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr

from dais.core.errors import InvalidInput
from dais.storage.stores.fsspec_store import FsspecArtifactStore


class S3Config(BaseModel):
    """Where and how to reach the S3 server; credentials fall back to the usual AWS sources."""

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    region: str | None = None


class S3ArtifactStore(FsspecArtifactStore):
    """Artifacts in an S3 bucket (under an optional prefix); uploads stream as multipart uploads."""

    scheme = "s3"
    capabilities = frozenset({"range", "streaming-write", "multipart"})
    Config = S3Config

    def __init__(self, url: str, config: BaseModel | None = None) -> None:
        import s3fs

        super().__init__(url, config)
        cfg = config if isinstance(config, S3Config) else S3Config()
        bucket_and_prefix = url.split("://", 1)[1].strip("/")
        if not bucket_and_prefix:
            raise InvalidInput(f"The S3 artifact URL {url!r} names no bucket; use s3://bucket[/prefix].")
        self.root = bucket_and_prefix
        kwargs: dict[str, Any] = {
            "client_kwargs": {},
            "use_listings_cache": False,
            "skip_instance_cache": True,
        }
        if cfg.endpoint_url:
            kwargs["endpoint_url"] = cfg.endpoint_url
        if cfg.access_key_id:
            kwargs["key"] = cfg.access_key_id
        if cfg.secret_access_key:
            kwargs["secret"] = cfg.secret_access_key.get_secret_value()
        if cfg.region:
            kwargs["client_kwargs"]["region_name"] = cfg.region
        self.fs = s3fs.S3FileSystem(**kwargs)

    def delete(self, key: str) -> bool:
        self.fs.invalidate_cache()
        return super().delete(key)
