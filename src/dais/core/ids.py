"""Identifiers: short, URL-safe, sortable by creation time (a millisecond clock then randomness)."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_id() -> str:
    """A 26-character id whose lexical order follows creation time (ULID layout)."""
    ms = time.time_ns() // 1_000_000
    return _b32(ms, 10) + _b32(secrets.randbits(80), 16)
