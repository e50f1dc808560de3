"""Members of a workspace and their roles."""

from __future__ import annotations

from collections.abc import Iterator

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import Member

LIST = route("GET", "/api/v1/workspaces/{workspace}/members")
ADD = route("POST", "/api/v1/workspaces/{workspace}/members")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}/members/{member}")
REMOVE = route("DELETE", "/api/v1/workspaces/{workspace}/members/{member}")


class Members(Resource):
    """List, add, change and remove workspace members."""

    def list(
        self, workspace: str, *, role: str | None = None, q: str | None = None, limit: int | None = None
    ) -> Iterator[Member]:
        """The members of ``workspace``, across all pages."""
        params = {"role": role, "q": q}
        for item in self._t.pages(LIST, path={"workspace": workspace}, params=params, limit=limit):
            yield Member.model_validate(item)

    def add(self, workspace: str, username: str, role: str = "viewer") -> Member:
        """Add a user to ``workspace`` with ``role``."""
        body = {"username": username, "role": role}
        return Member.model_validate(self._t.call(ADD, path={"workspace": workspace}, json=body).json())

    def set_role(self, workspace: str, member: str, role: str) -> Member:
        """Change a member's role (``member``: username, user id or membership id)."""
        path = {"workspace": workspace, "member": member}
        return Member.model_validate(self._t.call(UPDATE, path=path, json={"role": role}).json())

    def remove(self, workspace: str, member: str) -> None:
        """Remove a member from ``workspace``."""
        self._t.call(REMOVE, path={"workspace": workspace, "member": member})
