"""A folder tree on this machine's disks (or NFS mounts) that nothing may read out of, symlinks
included: shared by the ``file`` connector and the local artifact store's workspace area."""

from __future__ import annotations

import os
import posixpath
import stat
from datetime import UTC, datetime

from dais.core.errors import UnsafePath
from dais.data.connectors.base import (
    SourceAccessDenied,
    SourceEntry,
    SourceError,
    SourceNotFound,
    SourceUnreachable,
)
from dais.data.connectors.paths import relative_parts, static_prefix, unsafe


def is_within(path: str, roots: list[str]) -> bool:
    """Whether ``path`` (already a real path) is one of ``roots`` or lies beneath one."""
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


class LocalTree:
    """Paths under ``root`` (a real path), readable only where their real path lies in ``allowed``."""

    def __init__(self, root: str, allowed: list[str]) -> None:
        self.root = os.path.realpath(root)
        self.allowed = [os.path.realpath(a) for a in allowed]

    def resolve(self, path: str) -> str:
        parts = relative_parts(path)
        if not is_within(self.root, self.allowed):
            raise UnsafePath(f"The folder {self.root} is no longer inside the allowed folders.")
        checked = os.path.join(self.root, *static_prefix(parts))
        if not is_within(os.path.realpath(checked), self.allowed):
            raise unsafe(path, "it leads out of the allowed folders (through a symbolic link)")
        return os.path.join(self.root, *parts)

    def guard(self, fs_path: str) -> str:
        if not is_within(os.path.realpath(fs_path), self.allowed):
            raise UnsafePath(
                f"The path {self.relative(fs_path)!r} is refused: it leads out of the allowed folders "
                "(through a symbolic link)."
            )
        return fs_path

    def relative(self, fs_path: str) -> str:
        rel = os.path.relpath(os.path.normpath(fs_path), self.root)
        if rel == ".":
            return ""
        if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
            raise UnsafePath(f"The path {fs_path!r} is not under the connection's root.")
        return rel.replace(os.sep, "/")

    def check(self) -> str:
        """What a successful test says; a :class:`SourceError` if the root cannot be read."""
        try:
            if not os.path.isdir(self.root):
                raise SourceNotFound(f"The folder {self.root} does not exist (or is not a folder).")
            with os.scandir(self.root) as it:
                count = sum(1 for _ in it)
        except OSError as exc:
            raise os_error(exc, self.root) from exc
        return f"The folder {self.root} is readable ({count} entries)."

    def browse(self, path: str, limit: int) -> list[SourceEntry]:
        target = self.resolve(path)
        rel = self.relative(target)
        try:
            st = os.stat(target)
            if not stat.S_ISDIR(st.st_mode):
                return [self._entry(posixpath.basename(rel), rel, st)]
            entries: list[SourceEntry] = []
            with os.scandir(target) as it:
                for item in it:
                    full = os.path.join(target, item.name)
                    if item.is_symlink() and not is_within(os.path.realpath(full), self.allowed):
                        continue  # a way out of the allowed folders is not shown
                    try:
                        entries.append(self._entry(item.name, posixpath.join(rel, item.name), os.stat(full)))
                    except OSError:
                        continue  # a dangling symlink or a file removed meanwhile
        except FileNotFoundError as exc:
            raise SourceNotFound(f"Nothing at {path!r} under {self.root}.") from exc
        except OSError as exc:
            raise os_error(exc, target) from exc
        entries.sort(key=lambda e: (e.kind != "dir", e.name))
        return entries[:limit]

    @staticmethod
    def _entry(name: str, path: str, st: os.stat_result) -> SourceEntry:
        is_dir = stat.S_ISDIR(st.st_mode)
        return SourceEntry(
            name=name,
            path=path,
            kind="dir" if is_dir else "file",
            size=None if is_dir else st.st_size,
            modified=datetime.fromtimestamp(st.st_mtime, UTC).isoformat(),
        )


def os_error(exc: OSError, where: str) -> SourceError:
    """An ``OSError`` on a local path as the matching :class:`SourceError`, in the OS's words."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileNotFoundError):
        return SourceNotFound(f"{where}: {reason}.")
    if isinstance(exc, PermissionError):
        return SourceAccessDenied(f"{where}: {reason}.")
    return SourceUnreachable(f"{where}: {reason}.")
