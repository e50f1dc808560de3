"""Workers: the resource pool that runs jobs."""

from __future__ import annotations

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import WorkerInfo

LIST = route("GET", "/api/v1/workers")


class Workers(Resource):
    """The workers of the resource pool."""

    def list(self) -> list[WorkerInfo]:
        """Every worker seen in the last hour: capacity, what it runs now and what that uses.

        Job ids are shown only for jobs of workspaces the caller can see.
        """
        return [WorkerInfo.model_validate(w) for w in self._t.call(LIST).json()]
