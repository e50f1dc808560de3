"""Connections: where data lives (a local folder, an S3 bucket, a SQL database), with its credentials.

Credentials (``secrets``) are write-only: the server keeps them encrypted and answers only which
are set (``secrets_set``)::

    client.connections.create(
        "lake", "s3", config={"bucket": "raw", "endpoint_url": "http://minio:9000"},
        secrets={"access_key_id": "...", "secret_access_key": "..."}, workspace="team",
    )
    print(client.connections.test("lake", workspace="team").message)
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from dais.client.http import route
from dais.client.models import Model
from dais.client.uploads import WorkspaceResource

KINDS = route("GET", "/api/v1/connectors")
LIST = route("GET", "/api/v1/workspaces/{workspace}/connections")
CREATE = route("POST", "/api/v1/workspaces/{workspace}/connections")
TEST_UNSAVED = route("POST", "/api/v1/workspaces/{workspace}/connections/test")
GET = route("GET", "/api/v1/workspaces/{workspace}/connections/{connection}")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}/connections/{connection}")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}/connections/{connection}")
TEST = route("POST", "/api/v1/workspaces/{workspace}/connections/{connection}/test")
BROWSE = route("GET", "/api/v1/workspaces/{workspace}/connections/{connection}/browse")


class ConnectorKind(Model):
    """A kind of connection (``file``, ``s3``, ``sql``, ...) with the JSON schemas of its settings."""

    name: str
    description: str = ""
    capabilities: list[str] = Field(default_factory=list)
    available: bool = True
    config_schema: dict[str, Any] = Field(default_factory=dict)
    secrets_schema: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class Connection(Model):
    """A saved connection: its settings, which secrets are set (never their values), its health."""

    id: str
    workspace_id: str
    name: str
    kind: str
    description: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    secrets_set: list[str] = Field(default_factory=list)
    health: str = "unknown"
    """``unknown``, ``ok`` or ``failing`` (as of the last test)."""
    health_message: str | None = None
    health_checked_at: datetime | None = None
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime | None = None


class CheckResult(Model):
    """The outcome of testing a connection: ``message`` is the source's own answer."""

    ok: bool
    message: str
    latency_ms: float
    details: dict[str, Any] | None = None


class SourceEntry(Model):
    """Something at a connection's path: a folder, a file, a schema or a table."""

    name: str
    path: str
    kind: str
    size: int | None = None
    modified: str | None = None


class Connections(WorkspaceResource):
    """Create, test, browse and delete a workspace's connections to data sources."""

    def kinds(self) -> builtins.list[ConnectorKind]:
        """The connector kinds the server has, with the schemas of their ``config`` and ``secrets``."""
        return [ConnectorKind.model_validate(k) for k in _items(self._t.call(KINDS).json())]

    def list(self, *, workspace: str | None = None, limit: int | None = None) -> Iterator[Connection]:
        """The workspace's connections, by name."""
        for item in self._t.pages(LIST, path={"workspace": self._ws(workspace)}, limit=limit):
            yield Connection.model_validate(item)

    def get(self, name: str, *, workspace: str | None = None) -> Connection:
        """One connection by name."""
        path = {"workspace": self._ws(workspace), "connection": name}
        return Connection.model_validate(self._t.call(GET, path=path).json())

    def create(
        self,
        name: str,
        kind: str,
        *,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        description: str = "",
        workspace: str | None = None,
    ) -> Connection:
        """A new connection of ``kind``; ``config`` and ``secrets`` follow the kind's schemas (:meth:`kinds`).

        Nothing is saved if ``config`` is invalid (a ``file`` root outside the allowed roots, say).
        """
        body = {
            "name": name,
            "kind": kind,
            "description": description,
            "config": dict(config or {}),
            "secrets": dict(secrets or {}),
        }
        return Connection.model_validate(
            self._t.call(CREATE, path={"workspace": self._ws(workspace)}, json=body).json()
        )

    def update(
        self,
        name: str,
        *,
        new_name: str | None = None,
        description: str | None = None,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str | None] | None = None,
        workspace: str | None = None,
    ) -> Connection:
        """Change a connection: only the fields given change; ``config`` keys are merged in, and a
        secret set to ``None`` is removed."""
        body: dict[str, Any] = {}
        if new_name is not None:
            body["name"] = new_name
        if description is not None:
            body["description"] = description
        if config is not None:
            body["config"] = dict(config)
        if secrets is not None:
            body["secrets"] = dict(secrets)
        path = {"workspace": self._ws(workspace), "connection": name}
        return Connection.model_validate(self._t.call(UPDATE, path=path, json=body).json())

    def delete(self, name: str, *, workspace: str | None = None) -> None:
        """Delete a connection (refused while datasets use it)."""
        self._t.call(DELETE, path={"workspace": self._ws(workspace), "connection": name})

    def test(self, name: str, *, workspace: str | None = None) -> CheckResult:
        """Try a saved connection now (bounded by the server's source timeout); updates its health."""
        path = {"workspace": self._ws(workspace), "connection": name}
        return CheckResult.model_validate(self._t.call(TEST, path=path).json())

    def test_unsaved(
        self,
        kind: str,
        *,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        workspace: str | None = None,
    ) -> CheckResult:
        """Try settings before saving them (nothing is stored)."""
        body = {"kind": kind, "config": dict(config or {}), "secrets": dict(secrets or {})}
        return CheckResult.model_validate(
            self._t.call(TEST_UNSAVED, path={"workspace": self._ws(workspace)}, json=body).json()
        )

    def browse(
        self, name: str, path: str = "", *, workspace: str | None = None
    ) -> builtins.list[SourceEntry]:
        """What lies at ``path`` of the connection: folders and files, or schemas and tables."""
        route_path = {"workspace": self._ws(workspace), "connection": name}
        body = self._t.call(BROWSE, path=route_path, params={"path": path}).json()
        return [SourceEntry.model_validate(e) for e in _items(body)]


def _items(body: Any) -> builtins.list[Any]:
    """A reply's list, whether the server answers a bare list or ``{"items": [...]}``."""
    if isinstance(body, dict):
        return list(body.get("items") or body.get("entries") or [])
    return list(body)
