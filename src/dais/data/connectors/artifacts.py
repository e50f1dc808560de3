"""The workspace's own area of the artifact store (uploads, materialised versions) as a connector.

Not a registered kind: a dataset with no connection reads through it. The root is the workspace's
prefix (:func:`dais.storage.workspace_prefix`) in the store named by ``DAIS_ARTIFACTS_URL``: a local
folder (read with pyarrow's ``LocalFileSystem``, symlinks kept inside) or an S3 bucket (pyarrow's
``S3FileSystem`` with the artifact store's credentials).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlparse

import pyarrow.fs as pafs
from pydantic import BaseModel, ConfigDict, SecretStr

from dais.core.settings import DataSettings, Settings
from dais.data.connectors.base import CheckResult, FilesConnector, SourceEntry
from dais.data.connectors.calls import run_with_timeout, timed_check
from dais.data.connectors.local import LocalTree
from dais.data.connectors.s3 import S3Config, S3Connector, S3Secrets
from dais.storage import workspace_prefix


class ArtifactsConfig(BaseModel):
    """Which workspace, and the artifact store it lives in."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: str
    url: str  # DAIS_ARTIFACTS_URL: file:///... or s3://bucket[/prefix]
    endpoint_url: str | None = None
    region: str | None = None


class ArtifactsSecrets(BaseModel):
    """The artifact store's S3 credentials (none for a local folder)."""

    model_config = ConfigDict(extra="forbid")

    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None


class ArtifactsConnector(FilesConnector):
    """Files in the workspace's area of the artifact store; build it with :meth:`for_workspace`."""

    name = "artifacts"
    description = "The workspace's uploads and materialised versions in the artifact store."
    Config = ArtifactsConfig
    Secrets = ArtifactsSecrets
    capabilities: ClassVar[frozenset[str]] = frozenset({"files", "internal"})

    def __init__(self, config: BaseModel, secrets: BaseModel, *, settings: DataSettings) -> None:
        super().__init__(config, secrets, settings=settings)
        assert isinstance(config, ArtifactsConfig)
        assert isinstance(secrets, ArtifactsSecrets)
        prefix = workspace_prefix(config.workspace_id).strip("/")
        parsed = urlparse(config.url)
        self._tree: LocalTree | None = None
        self._s3: S3Connector | None = None
        if parsed.scheme == "s3":
            base = f"{parsed.netloc}{parsed.path}".strip("/")
            bucket, _, store_prefix = base.partition("/")
            s3_config = S3Config(
                bucket=bucket,
                prefix="/".join(p for p in (store_prefix, prefix) if p),
                endpoint_url=config.endpoint_url,
                region=config.region,
                path_style=True,
            )
            s3_secrets = S3Secrets(
                access_key_id=secrets.access_key_id, secret_access_key=secrets.secret_access_key
            )
            self._s3 = S3Connector(s3_config, s3_secrets, settings=settings)
        else:
            root = Path(unquote(parsed.path)).expanduser() / prefix
            real = os.path.realpath(root)
            self._tree = LocalTree(real, [real])

    @classmethod
    def for_workspace(cls, settings: Settings, workspace_id: str) -> ArtifactsConnector:
        """The connector to ``workspace_id``'s area of the platform's artifact store."""
        a = settings.artifacts
        s3 = settings.artifacts_url.startswith("s3://")
        config = ArtifactsConfig(
            workspace_id=workspace_id,
            url=settings.artifacts_url,
            endpoint_url=a.s3_endpoint_url if s3 else None,
            region=a.s3_region if s3 else None,
        )
        secrets = ArtifactsSecrets(
            access_key_id=SecretStr(a.s3_access_key_id) if s3 and a.s3_access_key_id else None,
            secret_access_key=a.s3_secret_access_key if s3 else None,
        )
        return cls(config, secrets, settings=settings.data)

    @property
    def root(self) -> str:
        """The filesystem path of the workspace's area (``bucket/prefix/...`` on S3)."""
        return self._s3.root if self._s3 is not None else self._local.root

    @property
    def _local(self) -> LocalTree:
        assert self._tree is not None
        return self._tree

    def check(self, timeout_s: float) -> CheckResult:
        if self._s3 is not None:
            return self._s3.check(timeout_s)

        def probe() -> str:
            if not os.path.isdir(self._local.root):
                return "The workspace's artifact area is empty (nothing uploaded yet)."
            return self._local.check()

        return timed_check(probe, timeout_s, "Reading the workspace's artifacts")

    def browse(self, path: str = "", *, limit: int = 1000, timeout_s: float) -> list[SourceEntry]:
        if self._s3 is not None:
            return self._s3.browse(path, limit=limit, timeout_s=timeout_s)
        self.resolve(path)
        return run_with_timeout(
            lambda: self._local.browse(path, limit), timeout_s, f"Listing {path or '/'} in the artifacts"
        )

    def filesystem(self, timeout_s: float) -> pafs.FileSystem:
        if self._s3 is not None:
            return self._s3.filesystem(timeout_s)
        return pafs.LocalFileSystem()

    def resolve(self, path: str) -> str:
        return self._s3.resolve(path) if self._s3 is not None else self._local.resolve(path)

    def relative(self, fs_path: str) -> str:
        return self._s3.relative(fs_path) if self._s3 is not None else self._local.relative(fs_path)

    def guard(self, fs_path: str) -> str:
        return fs_path if self._s3 is not None else self._local.guard(fs_path)
