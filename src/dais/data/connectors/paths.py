"""Paths a user gives, relative to a connection's root: checked before they touch any filesystem.

Refused: absolute paths, ``.``/``..`` and empty segments, backslashes, control characters (NUL
included) and percent-encoded separators or dots (a later decoding could turn them into traversal).
Glob characters (``*``, ``?``, ``[``) are allowed.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from dais.core.errors import UnsafePath

MAX_PATH_LENGTH = 4096
GLOB_CHARS = frozenset("*?[")
_ENCODED = re.compile(r"%(2f|5c|2e|00)", re.IGNORECASE)


def relative_parts(path: str) -> list[str]:
    """The segments of ``path`` (``""`` or ``"/"``-terminated folders allowed); :class:`UnsafePath` if
    it could leave the root."""
    if path in ("", "/"):
        return []
    if len(path) > MAX_PATH_LENGTH:
        raise unsafe(path[:64] + "...", f"paths are at most {MAX_PATH_LENGTH} characters")
    path = unicodedata.normalize("NFC", path)
    if any(unicodedata.category(ch) == "Cc" for ch in path):
        raise unsafe(path, "control characters (NUL included) are not allowed")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise unsafe(path, "absolute paths are not allowed; give a path relative to the connection's root")
    if "\\" in path:
        raise unsafe(path, "backslashes are not allowed; separate folders with /")
    forms = [path]
    for _ in range(4):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    if any(_ENCODED.search(form) for form in forms):
        raise unsafe(path, "percent-encoded separators or dots are not allowed")
    parts = path[:-1].split("/") if path.endswith("/") else path.split("/")
    if any(p in (".", "..") for p in parts):
        raise unsafe(path, "'.' and '..' segments are not allowed")
    if any(p == "" for p in parts):
        raise unsafe(path, "empty path segments ('//') are not allowed")
    return parts


def static_prefix(parts: list[str]) -> list[str]:
    """The leading segments without glob characters (what must exist for the glob to match)."""
    out: list[str] = []
    for part in parts:
        if GLOB_CHARS & set(part):
            break
        out.append(part)
    return out


def unsafe(path: str, why: str) -> UnsafePath:
    return UnsafePath(f"The path {path!r} is refused: {why}.", errors=[{"loc": ["body", "path"], "msg": why}])
