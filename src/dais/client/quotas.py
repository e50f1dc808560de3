"""Workspace quotas and priority."""

from __future__ import annotations

from typing import Any

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import Quota

GET = route("GET", "/api/v1/workspaces/{workspace}/quota")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}/quota")

QUOTA_FIELDS = ("max_concurrent_jobs", "max_cpus", "max_memory_mb", "max_gpus")


class Quotas(Resource):
    """Read and set a workspace's resource quota."""

    def get(self, workspace: str) -> Quota:
        """The quota and priority of ``workspace``."""
        return Quota.model_validate(self._t.call(GET, path={"workspace": workspace}).json())

    def set(self, workspace: str, **changes: Any) -> Quota:
        """Set some of ``max_concurrent_jobs``, ``max_cpus``, ``max_memory_mb``, ``max_gpus``
        (``None``: unlimited) and ``priority`` (platform admins only); the rest stay."""
        return Quota.model_validate(self._t.call(UPDATE, path={"workspace": workspace}, json=changes).json())
