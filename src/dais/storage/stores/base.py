"""The artifact store interface every plugin (file, s3, ...) implements.

Keys given to a store are already checked by :func:`dais.storage.keys.safe_key`; a store still
guarantees that nothing it reads or writes lies outside its root.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel

from dais.core.errors import NotFound

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object."""

    key: str
    size: int
    etag: str | None
    modified: datetime | None


class Writer(abc.ABC):
    """An upload in progress: bytes go in as they arrive; nothing is visible until :meth:`commit`."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def commit(self) -> ObjectInfo: ...

    @abc.abstractmethod
    def abort(self) -> None: ...


class NoConfig(BaseModel):
    """Settings of a plugin that needs none."""


class ArtifactStore(abc.ABC):
    """A place for artifacts under one root URL."""

    scheme: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset()

    Config: ClassVar[type[BaseModel]] = NoConfig

    def __init__(self, url: str, config: BaseModel | None = None) -> None:
        self.url = url.rstrip("/")
        self.config = config

    @classmethod
    def accepts(cls, url: str) -> bool:
        return url.split("://", 1)[0] == cls.scheme

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """The object at ``key``; :class:`~dais.core.errors.NotFound` if there is none."""

    @abc.abstractmethod
    def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Bytes ``start`` up to (excluding) ``end``, in chunks: never the whole object at once."""

    @abc.abstractmethod
    def open_writer(self, key: str) -> Writer:
        """Start writing ``key`` (replacing it on commit)."""

    @abc.abstractmethod
    def list(self, prefix: str = "", *, recursive: bool = True) -> list[ObjectInfo]:
        """Objects under ``prefix`` (one level deep unless ``recursive``; folders end with ``/``)."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Delete ``key``; ``False`` if it was not there."""

    def delete_prefix(self, prefix: str) -> int:
        """Delete everything under ``prefix``; the count deleted."""
        count = 0
        for info in self.list(prefix, recursive=True):
            count += self.delete(info.key)
        return count

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        writer = self.open_writer(key)
        try:
            writer.write(data)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def get_bytes(self, key: str) -> bytes:
        return b"".join(self.read(key))
