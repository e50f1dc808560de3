"""Secrets: argon2 password hashes, random tokens kept as SHA-256 digests, HMAC for CSRF values."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

TOKEN_PREFIX = "dais_"  # noqa: S105 - a prefix, not a secret


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Still spend the time of a verification so a missing user is not told apart by timing.
        _burn(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _burn(password: str) -> None:
    with contextlib.suppress(VerifyMismatchError, VerificationError, InvalidHashError):
        _hasher.verify(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    # Made on first use, not at import: hashing costs most of a second.
    return _hasher.hash(secrets.token_urlsafe(16))


def new_secret(prefix: str = TOKEN_PREFIX) -> str:
    """A new secret with 256 bits of randomness, recognisable by its prefix (for secret scanners)."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_for(key: bytes, session_secret: str) -> str:
    """The CSRF value bound to one session (double-submit: a readable cookie the UI echoes)."""
    return hmac.new(key, b"csrf:" + session_secret.encode(), hashlib.sha256).hexdigest()


def constant_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
