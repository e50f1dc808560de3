"""Which files a dataset's path names: a file, a folder (recursively) or a glob, inside a connection.

Paths are relative to the connection's root and resolved by :meth:`FilesConnector.resolve`, so a
path can never leave the root. Hidden files (a component starting with ``.`` or ``_``: ``_SUCCESS``,
``.crc``, ``_delta_log``) are skipped, as Spark and pyarrow do. Foreign filesystem errors become
:class:`~dais.data.connectors.base.SourceError` subclasses carrying the source's own message.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pyarrow as pa
import pyarrow.fs as pafs

from dais.core.errors import DaisError, UnsafePath
from dais.data.connectors.base import (
    Connector,
    FilesConnector,
    SourceAccessDenied,
    SourceError,
    SourceNotFound,
    SourceTimeout,
    SourceUnreachable,
    UnreadableData,
)

_GLOB_CHARS = re.compile(r"[*?\[]")
T = TypeVar("T")


@dataclass(frozen=True)
class Listing:
    """The files a path names. ``base`` is the folder partitions are read from (a filesystem path)."""

    base: str
    files: list[pafs.FileInfo]
    single_file: bool = False
    refused: int = 0  # files skipped because they lead out of what the connection may read

    def relative(self, info: pafs.FileInfo) -> str:
        """A file's path relative to ``base``."""
        return posixpath.relpath(info.path, self.base) if self.base else info.path

    @property
    def total_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)


def source_error(exc: BaseException, what: str) -> DaisError:
    """A foreign error raised while reading ``what``, as the matching :class:`SourceError`."""
    if isinstance(exc, DaisError):
        return exc
    message = str(exc).strip() or type(exc).__name__
    upper = message.upper()
    if isinstance(exc, FileNotFoundError) or any(
        s in upper for s in ("NOSUCHBUCKET", "NOSUCHKEY", "NOT_FOUND", "PATH DOES NOT EXIST")
    ):
        return SourceNotFound(f"{what}: {message}")
    if isinstance(exc, PermissionError) or any(
        s in upper
        for s in ("ACCESS_DENIED", "ACCESSDENIED", "INVALIDACCESSKEYID", "SIGNATUREDOESNOTMATCH", "FORBIDDEN")
    ):
        return SourceAccessDenied(f"{what}: {message}")
    if isinstance(exc, TimeoutError) or "TIMEOUT" in upper or "TIMED OUT" in upper:
        return SourceTimeout(f"{what}: {message}")
    if isinstance(exc, pa.ArrowInvalid | pa.ArrowTypeError | pa.ArrowNotImplementedError | UnicodeError):
        return UnreadableData(f"{what}: {message}")
    if isinstance(exc, ConnectionError) or any(
        s in upper for s in ("COULDN'T CONNECT", "CONNECTION REFUSED", "NETWORK_CONNECTION", "RESOLVE HOST")
    ):
        return SourceUnreachable(f"{what}: {message}")
    if isinstance(exc, OSError | pa.ArrowException):
        return SourceError(f"{what}: {message}")
    return SourceError(f"{what}: {type(exc).__name__}: {message}")


def translate(exc: BaseException, what: str, connector: Connector | None = None) -> DaisError:
    """A foreign error as a :class:`SourceError`: the connector's own mapping when it has one (S3
    names its error codes), else :func:`source_error`."""
    if isinstance(exc, DaisError):
        return exc
    mapper = getattr(connector, "source_error", None)
    if mapper is not None and isinstance(exc, OSError):
        mapped = mapper(exc)
        if isinstance(mapped, DaisError):
            return type(mapped)(f"{what}: {mapped.detail}")
    return source_error(exc, what)


def guarded(fn: Callable[[], T], what: str, connector: Connector | None = None) -> T:
    """``fn()`` with foreign errors translated by :func:`translate`."""
    try:
        return fn()
    except DaisError:
        raise
    except Exception as exc:
        raise translate(exc, what, connector) from exc


def is_hidden(relative_path: str) -> bool:
    """Whether a path (relative to the dataset's base) has a component that readers skip."""
    return any(part.startswith((".", "_")) for part in relative_path.split("/") if part)


def has_glob(path: str) -> bool:
    return bool(_GLOB_CHARS.search(path))


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a relative glob: ``**`` spans folders, ``*`` and ``?`` stay inside one name."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _guarded_files(connector: FilesConnector, files: list[pafs.FileInfo]) -> tuple[list[pafs.FileInfo], int]:
    kept: list[pafs.FileInfo] = []
    for f in files:
        try:
            connector.guard(f.path)
        except UnsafePath:
            continue
        kept.append(f)
    return sorted(kept, key=lambda f: f.path), len(files) - len(kept)


def list_files(connector: FilesConnector, fs: pafs.FileSystem, path: str) -> Listing:
    """The visible files ``path`` names (a file, a folder listed recursively, or a glob), sorted.

    Raises :class:`SourceNotFound` when the path does not exist or a glob matches nothing. Files that
    :meth:`FilesConnector.guard` refuses (symlinks out of the allowed folders) are left out and
    counted in ``refused``.
    """
    what = path or "the connection's root"
    resolved = connector.resolve(path)
    if has_glob(resolved):
        parts = resolved.split("/")
        static = []
        for part in parts:
            if has_glob(part):
                break
            static.append(part)
        base = "/".join(static)
        pattern = "/".join(parts[len(static) :])
        recursive = "**" in pattern or "/" in pattern
        selector = pafs.FileSelector(base, recursive=recursive, allow_not_found=True)
        infos = guarded(lambda: fs.get_file_info(selector), what, connector)
        regex = glob_regex(pattern)
        matched = [
            f
            for f in infos
            if f.type == pafs.FileType.File
            and regex.match(posixpath.relpath(f.path, base))
            and not is_hidden(posixpath.relpath(f.path, base))
        ]
        files, refused = _guarded_files(connector, matched)
        if not files:
            raise SourceNotFound(f"No files match {path}.")
        return Listing(base=base, files=files, refused=refused)
    info = guarded(lambda: fs.get_file_info(resolved), what, connector)
    if info.type == pafs.FileType.NotFound:
        raise SourceNotFound(f"{what} does not exist.")
    if info.type == pafs.FileType.File:
        connector.guard(info.path)
        return Listing(base=posixpath.dirname(resolved), files=[info], single_file=True)
    selector = pafs.FileSelector(resolved, recursive=True)
    infos = guarded(lambda: fs.get_file_info(selector), what, connector)
    visible = [
        f
        for f in infos
        if f.type == pafs.FileType.File and not is_hidden(posixpath.relpath(f.path, resolved))
    ]
    files, refused = _guarded_files(connector, visible)
    return Listing(base=resolved, files=files, refused=refused)
