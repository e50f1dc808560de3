"""Your API tokens."""

from __future__ import annotations

from collections.abc import Iterator

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import Token, TokenCreated

LIST = route("GET", "/api/v1/tokens")
CREATE = route("POST", "/api/v1/tokens")
REVOKE = route("DELETE", "/api/v1/tokens/{token_id}")

_DEFAULT_DAYS = 90.0


class Tokens(Resource):
    """List, create and revoke your API tokens."""

    def list(self, *, include_revoked: bool = False, limit: int | None = None) -> Iterator[Token]:
        """Your tokens, newest first (never their secrets)."""
        params = {"include_revoked": include_revoked}
        for item in self._t.pages(LIST, params=params, limit=limit):
            yield Token.model_validate(item)

    def create(
        self,
        name: str,
        *,
        workspace: str | None = None,
        expires_in_days: float | None = _DEFAULT_DAYS,
    ) -> TokenCreated:
        """A new token (``expires_in_days=None``: never expires); its secret is in ``.token`` only now."""
        body = {"name": name, "workspace": workspace, "expires_in_days": expires_in_days}
        return TokenCreated.model_validate(self._t.call(CREATE, json=body).json())

    def revoke(self, token_id: str) -> Token:
        """Revoke one of your tokens; it stops working at once."""
        return Token.model_validate(self._t.call(REVOKE, path={"token_id": token_id}).json())
