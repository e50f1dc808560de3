"""Plugins the server has."""

from __future__ import annotations

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import Plugin

LIST = route("GET", "/api/v1/plugins")


class Plugins(Resource):
    """The server's plugins (platform admins only)."""

    def list(self) -> list[Plugin]:
        """Every plugin of every kind the server process knows, loaded or broken."""
        return [Plugin.model_validate(p) for p in self._t.call(LIST).json()]
