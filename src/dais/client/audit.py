"""The audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import AuditEvent

LIST_ALL = route("GET", "/api/v1/audit")
LIST_WORKSPACE = route("GET", "/api/v1/workspaces/{workspace}/audit")


class Audit(Resource):
    """Read the audit trail."""

    def list(
        self,
        workspace: str | None = None,
        *,
        action: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[AuditEvent]:
        """Events newest first: of one workspace (its admins), or of all (platform admins)."""
        params = {
            "action": action,
            "actor": actor,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }
        if workspace:
            items = self._t.pages(LIST_WORKSPACE, path={"workspace": workspace}, params=params, limit=limit)
        else:
            items = self._t.pages(LIST_ALL, params=params, limit=limit)
        for item in items:
            yield AuditEvent.model_validate(item)
