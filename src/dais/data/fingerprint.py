"""Content fingerprints: what identifies a files source's content without reading it.

Two fingerprints are equal when the same files have the same sizes and modification times; a new
dataset version is worth recording only when the fingerprint changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC
from typing import Any

import pyarrow.fs as pafs


def _mtime(info: pafs.FileInfo) -> str | None:
    mtime = info.mtime
    if mtime is None:
        return None
    if mtime.tzinfo is None:
        mtime = mtime.replace(tzinfo=UTC)
    return str(mtime.astimezone(UTC).isoformat())


def files_fingerprint(fs: pafs.FileSystem, infos: Iterable[pafs.FileInfo]) -> dict[str, Any]:
    """``{kind, files, bytes, max_mtime, sha256}``; sha256 over the sorted ``(path, size, mtime)`` lines.

    ``fs`` names the filesystem kind (``local``, ``s3``); S3 listings give no ETag through pyarrow, so
    the modification time stands for it (S3 rewrites it on every put).
    """
    rows = sorted((i.path, int(i.size or 0), _mtime(i)) for i in infos)
    digest = hashlib.sha256()
    for path, size, mtime in rows:
        digest.update(f"{path}\t{size}\t{mtime or ''}\n".encode())
    mtimes = [m for _, _, m in rows if m is not None]
    return {
        "kind": "files",
        "filesystem": fs.type_name,
        "files": len(rows),
        "bytes": sum(size for _, size, _ in rows),
        "max_mtime": max(mtimes) if mtimes else None,
        "sha256": digest.hexdigest(),
    }
