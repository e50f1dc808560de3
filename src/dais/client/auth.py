"""The caller and sign-in: who am I, one-time login links."""

from __future__ import annotations

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import LoginLink, Me

ME = route("GET", "/api/v1/me")
LOGIN_LINKS = route("POST", "/api/v1/auth/login-links")


class Auth(Resource):
    """Identity of the caller and login links."""

    def me(self) -> Me:
        """Who the client is, how it authenticated, and its workspaces with roles."""
        return Me.model_validate(self._t.call(ME).json())

    def login_link(self, username: str | None = None) -> LoginLink:
        """A one-time login link for yourself, or (platform admins) for ``username``."""
        return LoginLink.model_validate(self._t.call(LOGIN_LINKS, params={"username": username}).json())
