"""Credentials encrypted at rest with Fernet, under a key derived from the instance secret.

Each use names its own ``purpose`` (notification channels, data connections, ...): the Fernet key is
derived per purpose with HKDF, so the instance secret itself is never a Fernet key and a token sealed
for one purpose cannot be opened as another.
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, SecretStr

from dais.core.errors import DaisError


class SecretsUnreadable(DaisError):
    code = "secrets_unreadable"
    status = 500
    title = "Stored credentials cannot be decrypted"


def _fernet(secret_key: bytes, purpose: str) -> Fernet:
    info = f"dais/{purpose}/v1".encode()
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(raw))


def secret_values(model: BaseModel) -> dict[str, str]:
    """A plugin's ``Secrets`` model as the plain values :func:`seal` takes (unset ones left out)."""
    out = {}
    for name, value in model:
        if value is None:
            continue
        out[name] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return out


def seal(secret_key: bytes, values: dict[str, str], *, purpose: str) -> str | None:
    """``values`` encrypted (``None`` when there is nothing to keep)."""
    if not values:
        return None
    return _fernet(secret_key, purpose).encrypt(json.dumps(values).encode()).decode()


def unseal(secret_key: bytes, token: str | None, *, purpose: str) -> dict[str, str]:
    """The values :func:`seal` encrypted; :class:`SecretsUnreadable` if the instance secret changed."""
    if not token:
        return {}
    try:
        data = json.loads(_fernet(secret_key, purpose).decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise SecretsUnreadable(
            "Stored credentials cannot be decrypted: the instance secret (DAIS_SECRET_KEY or "
            "DAIS_HOME/keys/secret.key) changed since they were saved. Set them again."
        ) from exc
    return {str(k): str(v) for k, v in data.items()}
