"""Artifact keys: relative, normalised, and unable to leave the prefix they are joined to."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from dais.core.errors import UnsafePath

MAX_KEY_LENGTH = 1024
_ENCODED = re.compile(r"%(2f|5c|2e|00)", re.IGNORECASE)


def safe_key(key: str, *, allow_empty: bool = False) -> str:
    """``key`` if it is a safe relative key; :class:`UnsafePath` (422) naming the problem if not.

    Refused: absolute paths, ``.``/``..`` segments, empty segments, backslashes, control characters,
    percent-encoded separators or dots (a second decoding could turn them into traversal).
    """
    if not key:
        if allow_empty:
            return ""
        raise _unsafe(key, "the key is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise _unsafe(key[:64] + "...", f"keys are at most {MAX_KEY_LENGTH} characters")
    key = unicodedata.normalize("NFC", key)
    if key.startswith("/") or re.match(r"^[A-Za-z]:", key):
        raise _unsafe(key, "absolute paths are not allowed; give a path relative to the workspace")
    if "\\" in key:
        raise _unsafe(key, "backslashes are not allowed; separate folders with /")
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        raise _unsafe(key, "control characters are not allowed")
    if any(_ENCODED.search(form) for form in _decodings(key)):
        raise _unsafe(key, "percent-encoded separators or dots are not allowed")
    parts = key.split("/")
    if any(p in (".", "..") for p in parts):
        raise _unsafe(key, "'.' and '..' segments are not allowed")
    if any(p == "" for p in parts):
        raise _unsafe(key, "empty path segments ('//' or a trailing '/') are not allowed")
    return key


def _decodings(key: str, depth: int = 4) -> list[str]:
    """``key`` and what it becomes under repeated percent-decoding (double encoding hides ``%2e``)."""
    forms = [key]
    for _ in range(depth):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


def safe_prefix(prefix: str) -> str:
    """A listing prefix: like a key, but may be empty and may end with ``/``."""
    stripped = prefix[:-1] if prefix.endswith("/") else prefix
    return safe_key(stripped, allow_empty=True) + ("/" if prefix.endswith("/") and stripped else "")


def _unsafe(key: str, why: str) -> UnsafePath:
    return UnsafePath(
        f"Artifact key {key!r} is refused: {why}.", errors=[{"loc": ["path", "key"], "msg": why}]
    )


def workspace_prefix(workspace_id: str) -> str:
    return f"workspaces/{workspace_id}/"
