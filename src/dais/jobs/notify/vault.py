"""Channel credentials encrypted at rest with Fernet, under a key derived from the instance secret."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dais.core.errors import DaisError

_INFO = b"dais/notification-channel-secrets/v1"


class SecretsUnreadable(DaisError):
    code = "secrets_unreadable"
    status = 500
    title = "Stored credentials cannot be decrypted"


def _fernet(secret_key: bytes) -> Fernet:
    # A key of its own for this purpose, so the instance secret itself is never a Fernet key.
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(raw))


def seal(secret_key: bytes, values: dict[str, str]) -> str | None:
    """``values`` encrypted (``None`` when there is nothing to keep)."""
    if not values:
        return None
    return _fernet(secret_key).encrypt(json.dumps(values).encode()).decode()


def unseal(secret_key: bytes, token: str | None) -> dict[str, str]:
    """The values :func:`seal` encrypted; :class:`SecretsUnreadable` if the instance secret changed."""
    if not token:
        return {}
    try:
        data = json.loads(_fernet(secret_key).decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise SecretsUnreadable(
            "This channel's credentials cannot be decrypted: the instance secret (DAIS_SECRET_KEY or "
            "DAIS_HOME/keys/secret.key) changed since they were saved. Set them again."
        ) from exc
    return {str(k): str(v) for k, v in data.items()}
