"""``file``: local folders and NFS mounts, limited to the folders an administrator allows
(``DAIS_DATA_ALLOWED_ROOTS``); nothing outside them is readable, symlinks included."""

from __future__ import annotations

import os
from typing import ClassVar

import pyarrow.fs as pafs
from pydantic import BaseModel, ConfigDict, Field

from dais.core.errors import InvalidInput
from dais.core.settings import DataSettings
from dais.data.connectors.base import CheckResult, FilesConnector, NoSecrets, SourceEntry
from dais.data.connectors.calls import run_with_timeout, timed_check
from dais.data.connectors.local import LocalTree, is_within


class FileConfig(BaseModel):
    """The folder this connection reads."""

    model_config = ConfigDict(extra="forbid")

    root: str = Field(
        min_length=1,
        max_length=4096,
        description="Absolute path of a folder on the server (or an NFS mount) inside the allowed roots.",
    )


class FileConnector(FilesConnector):
    """Files in a folder on the server's disks or NFS mounts."""

    name = "file"
    description = "A folder on the server's disks or NFS mounts (inside the folders an admin allows)."
    Config = FileConfig
    Secrets = NoSecrets
    capabilities: ClassVar[frozenset[str]] = frozenset({"files", "local"})

    def __init__(self, config: BaseModel, secrets: BaseModel, *, settings: DataSettings) -> None:
        super().__init__(config, secrets, settings=settings)
        assert isinstance(config, FileConfig)
        self.cfg = config
        self.tree = LocalTree(config.root, [str(r) for r in settings.allowed_roots])

    def validate_config(self) -> None:
        """The root must be an absolute path whose real path lies inside ``settings.allowed_roots``."""
        root = self.cfg.root
        if "\x00" in root or not os.path.isabs(root):
            raise _bad_root(f"The root {root!r} must be an absolute path.", "not an absolute path")
        if not self.tree.allowed:
            raise _bad_root(
                "No folder may be read on this server: an administrator lists the allowed folders in "
                "DAIS_DATA_ALLOWED_ROOTS.",
                "no allowed roots",
            )
        if not is_within(self.tree.root, self.tree.allowed):
            allowed = ", ".join(self.tree.allowed)
            raise _bad_root(
                f"The folder {root} is outside the allowed folders ({allowed}).", "outside the allowed roots"
            )

    def check(self, timeout_s: float) -> CheckResult:
        return timed_check(self.tree.check, timeout_s, f"Reading the folder {self.tree.root}")

    def browse(self, path: str = "", *, limit: int = 1000, timeout_s: float) -> list[SourceEntry]:
        self.resolve(path)  # refuse before starting a thread
        return run_with_timeout(
            lambda: self.tree.browse(path, limit), timeout_s, f"Listing {path or '/'} in {self.tree.root}"
        )

    def filesystem(self, timeout_s: float) -> pafs.FileSystem:
        return pafs.LocalFileSystem()

    def resolve(self, path: str) -> str:
        return self.tree.resolve(path)

    def relative(self, fs_path: str) -> str:
        return self.tree.relative(fs_path)

    def guard(self, fs_path: str) -> str:
        return self.tree.guard(fs_path)


def _bad_root(detail: str, msg: str) -> InvalidInput:
    return InvalidInput(detail, errors=[{"loc": ["body", "config", "root"], "msg": msg}])
