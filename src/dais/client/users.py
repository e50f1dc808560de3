"""User accounts (platform administrators manage them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import User

LIST = route("GET", "/api/v1/users")
CREATE = route("POST", "/api/v1/users")
GET = route("GET", "/api/v1/users/{user}")
UPDATE = route("PATCH", "/api/v1/users/{user}")


class Users(Resource):
    """List, create, read and change users."""

    def list(
        self, *, q: str | None = None, sort: str = "username", limit: int | None = None
    ) -> Iterator[User]:
        """Every user (platform admins only), across all pages."""
        for item in self._t.pages(LIST, params={"q": q, "sort": sort}, limit=limit):
            yield User.model_validate(item)

    def create(
        self,
        username: str,
        *,
        password: str | None = None,
        email: str | None = None,
        display_name: str | None = None,
        is_admin: bool = False,
    ) -> User:
        """Create a user; without a password they sign in through a login link."""
        body = {
            "username": username,
            "password": password,
            "email": email,
            "display_name": display_name,
            "is_admin": is_admin,
        }
        return User.model_validate(self._t.call(CREATE, json=body).json())

    def get(self, user: str) -> User:
        """One user by username or id."""
        return User.model_validate(self._t.call(GET, path={"user": user}).json())

    def update(self, user: str, **changes: Any) -> User:
        """Change ``email``, ``display_name``, ``password``, ``is_admin`` or ``is_active``."""
        body = {k: v for k, v in changes.items() if v is not None}
        return User.model_validate(self._t.call(UPDATE, path={"user": user}, json=body).json())
