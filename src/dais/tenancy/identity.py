"""Identity providers: who vouches for a username and password.

Dais keeps local users with argon2 password hashes (``local``). Other providers (OIDC, LDAP) plug in
through the ``dais.identity_providers`` entry-point group: a provider checks credentials and returns
the Dais user it maps to, creating or updating that user if it manages them.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dais.core.plugins import Registry, registry
from dais.tenancy.models import User
from dais.tenancy.security import verify_password


class IdentityProvider(Protocol):
    """Checks a username and password; returns the user, or ``None`` when they do not match."""

    name: str

    def authenticate(self, session: Session, username: str, password: str) -> User | None: ...


class LocalPasswordProvider:
    """Users whose argon2 password hash Dais keeps itself."""

    name = "local"

    def authenticate(self, session: Session, username: str, password: str) -> User | None:
        user = session.scalar(select(User).where(User.username == username, User.provider == "local"))
        ok = verify_password(user.password_hash if user else None, password)
        return user if ok and user is not None and user.is_active else None


def identity_providers() -> Registry[type[IdentityProvider]]:
    return registry(
        "dais.identity_providers", builtins={"local": "dais.tenancy.identity:LocalPasswordProvider"}
    )
