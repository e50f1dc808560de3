"""Workspaces: the tenant boundary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import Workspace

LIST = route("GET", "/api/v1/workspaces")
CREATE = route("POST", "/api/v1/workspaces")
GET = route("GET", "/api/v1/workspaces/{workspace}")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}")


class Workspaces(Resource):
    """List, create, read, change and delete workspaces."""

    def list(
        self, *, q: str | None = None, all: bool = False, sort: str = "slug", limit: int | None = None
    ) -> Iterator[Workspace]:
        """Your workspaces (``all=True``: every workspace, for platform admins), across all pages."""
        params = {"q": q, "all": all, "sort": sort}
        for item in self._t.pages(LIST, params=params, limit=limit):
            yield Workspace.model_validate(item)

    def create(self, slug: str, *, name: str | None = None, description: str = "") -> Workspace:
        """Create a workspace; you become its owner."""
        body = {"slug": slug, "name": name, "description": description}
        return Workspace.model_validate(self._t.call(CREATE, json=body).json())

    def get(self, workspace: str) -> Workspace:
        """One workspace by slug or id."""
        return Workspace.model_validate(self._t.call(GET, path={"workspace": workspace}).json())

    def update(self, workspace: str, *, name: str | None = None, description: str | None = None) -> Workspace:
        """Rename or describe a workspace (only the fields given change)."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        return Workspace.model_validate(self._t.call(UPDATE, path={"workspace": workspace}, json=body).json())

    def delete(self, workspace: str) -> None:
        """Delete a workspace and everything in it (owners only)."""
        self._t.call(DELETE, path={"workspace": workspace})
