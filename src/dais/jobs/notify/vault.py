"""Notification channel credentials: the core vault under this purpose's own key."""

from __future__ import annotations

from dais.core.vault import seal as _seal
from dais.core.vault import unseal as _unseal

PURPOSE = "notification-channel-secrets"


def seal(secret_key: bytes, values: dict[str, str]) -> str | None:
    return _seal(secret_key, values, purpose=PURPOSE)


def unseal(secret_key: bytes, token: str | None) -> dict[str, str]:
    return _unseal(secret_key, token, purpose=PURPOSE)
