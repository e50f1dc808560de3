"""Experiments: groups of tracked runs (the MLflow kind), listed, created, renamed, deleted, restored.

An experiment is named by its id or its name wherever the SDK takes one::

    exp = client.experiments.create("churn", description="first models", workspace="team")
    for run in exp.runs(filter="metrics.auc > 0.8", order_by="metrics.auc DESC", metrics=["auc"]):
        print(run.name, run.metrics["auc"])

    with client.experiments.get_or_create("churn").start_run(name="baseline") as run:
        run.log_metric("auc", 0.81)
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr

from dais.client.http import Transport, route
from dais.client.models import Model
from dais.client.runs import TrackingResource, tracking_error
from dais.core.errors import AlreadyExists, DaisError, InvalidInput, NotFound

if TYPE_CHECKING:
    from dais.client.active_run import ActiveRun
    from dais.client.runs import Runs, TrackedRun

LIST = route("GET", "/api/v1/workspaces/{workspace}/experiments")
CREATE = route("POST", "/api/v1/workspaces/{workspace}/experiments")
GET = route("GET", "/api/v1/workspaces/{workspace}/experiments/{experiment}")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}/experiments/{experiment}")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}/experiments/{experiment}")
RESTORE = route("POST", "/api/v1/workspaces/{workspace}/experiments/{experiment}/restore")
COLUMNS = route("GET", "/api/v1/workspaces/{workspace}/experiments/{experiment}/columns")


class ExperimentColumns(Model):
    """The param, metric and tag keys of an experiment's runs (what ``runs.search`` can show)."""

    experiment_id: str
    params: list[str]
    metrics: list[str]
    tags: list[str]
    tags_from_newest: int | None = None
    """Set for a large experiment: the tag keys come from this many newest runs."""


class Experiment(Model):
    """An experiment: its id (a numeric string, as MLflow's), name, description, tags and how many
    active runs it holds. Bound to a client, it lists its runs."""

    id: str
    name: str
    description: str = ""
    lifecycle_stage: str = "active"
    artifact_location: str = ""
    tags: dict[str, str] = {}
    created_by: str | None = None
    creation_time: int
    last_update_time: int
    run_count: int = 0
    last_run_time: int | None = None

    _api: Experiments | None = PrivateAttr(default=None)
    _workspace: str | None = PrivateAttr(default=None)

    def bind(self, api: Experiments, workspace: str) -> Experiment:
        """Attach the client's experiments API (done by every SDK call that returns an experiment)."""
        self._api, self._workspace = api, workspace
        return self

    def _bound(self) -> tuple[Experiments, str]:
        if self._api is None or self._workspace is None:
            raise RuntimeError("this Experiment is not bound to a client; get it through client.experiments")
        return self._api, self._workspace

    @property
    def deleted(self) -> bool:
        return self.lifecycle_stage == "deleted"

    def runs(self, **search: Any) -> Iterator[TrackedRun]:
        """The experiment's runs (keyword arguments as :meth:`dais.client.runs.Runs.search`)."""
        api, ws = self._bound()
        return api.runs_api.search(self.id, workspace=ws, **search)

    def columns(self) -> ExperimentColumns:
        api, ws = self._bound()
        return api.columns(self.id, workspace=ws)

    def start_run(self, **start: Any) -> ActiveRun:
        """Start a run in this experiment to log to (keyword arguments as
        :meth:`dais.client.runs.Runs.start`)."""
        api, ws = self._bound()
        return api.runs_api.start(self.id, workspace=ws, **start)

    def refresh(self) -> Experiment:
        api, ws = self._bound()
        return api.get(self.id, workspace=ws)


class Experiments(TrackingResource):
    """List, create, rename, describe, delete and restore experiments."""

    def __init__(self, transport: Transport, default_workspace: Callable[[], str | None], runs: Runs) -> None:
        super().__init__(transport, default_workspace)
        self.runs_api = runs

    def _path(self, workspace: str | None, experiment: str | int | None = None) -> dict[str, str]:
        path = {"workspace": self._ws(workspace)}
        if experiment is not None:
            path["experiment"] = str(experiment)
        return path

    def _one(self, body: dict[str, Any], workspace: str) -> Experiment:
        return Experiment.model_validate(body).bind(self, workspace)

    def list(
        self,
        *,
        q: str | None = None,
        view: str = "active",
        sort: str = "-creation_time",
        limit: int | None = None,
        workspace: str | None = None,
    ) -> Iterator[Experiment]:
        """The workspace's experiments (newest first by default), across all pages.

        ``q``: part of the name; ``view``: ``active``, ``deleted`` or ``all``; ``sort``: ``name``,
        ``creation_time`` or ``last_update_time``, ``-`` for descending.
        """
        ws = self._ws(workspace)
        params = {"q": q, "view": view, "sort": sort}
        try:
            for item in self._t.pages(LIST, path={"workspace": ws}, params=params, limit=limit):
                yield self._one(item, ws)
        except DaisError as exc:
            raise tracking_error(exc) from None

    def get(self, experiment: str | int, *, workspace: str | None = None) -> Experiment:
        """One experiment by id or name (deleted ones too)."""
        ws = self._ws(workspace)
        ref = str(experiment)
        if "/" in ref:  # MLflow names like "/Shared/churn" cannot travel as one path segment
            for exp in self.list(q=ref, view="all", workspace=ws):
                if exp.name == ref:
                    return exp
            raise NotFound(f"No experiment {ref!r} in workspace {ws!r}.")
        return self._one(self._call(GET, path=self._path(ws, ref)).json(), ws)

    def create(
        self,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        workspace: str | None = None,
    ) -> Experiment:
        """A new experiment (its name must be unused in the workspace, deleted ones included)."""
        ws = self._ws(workspace)
        body = {"name": name, "description": description, "tags": dict(tags or {})}
        return self._one(self._call(CREATE, path=self._path(ws), json=body).json(), ws)

    def get_or_create(self, name: str, *, workspace: str | None = None) -> Experiment:
        """The experiment named ``name``, created when missing (as ``mlflow.set_experiment`` does).
        A deleted one is refused: restore it, or choose another name."""
        ws = self._ws(workspace)
        try:
            exp = self.get(name, workspace=ws)
        except NotFound:
            try:
                return self.create(name, workspace=ws)
            except AlreadyExists:  # created meanwhile by someone else
                exp = self.get(name, workspace=ws)
        if exp.deleted:
            raise InvalidInput(
                f"Experiment {name!r} is deleted: restore it (client.experiments.restore) or log to "
                "another name."
            )
        return exp

    def update(
        self,
        experiment: str | int,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str | None] | None = None,
        workspace: str | None = None,
    ) -> Experiment:
        """Rename an experiment, change its description, or set tags (a ``None`` value removes one)."""
        ws = self._ws(workspace)
        body: dict[str, Any] = {"tags": dict(tags or {})}
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        return self._one(self._call(UPDATE, path=self._path(ws, experiment), json=body).json(), ws)

    def delete(self, experiment: str | int, *, workspace: str | None = None) -> None:
        """Delete an experiment with its runs (restorable with :meth:`restore`)."""
        self._call(DELETE, path=self._path(workspace, experiment))

    def restore(self, experiment: str | int, *, workspace: str | None = None) -> Experiment:
        """Restore a deleted experiment and the runs its deletion deleted."""
        ws = self._ws(workspace)
        return self._one(self._call(RESTORE, path=self._path(ws, experiment)).json(), ws)

    def columns(self, experiment: str | int, *, workspace: str | None = None) -> ExperimentColumns:
        """The param, metric and tag keys of the experiment's runs."""
        body = self._call(COLUMNS, path=self._path(workspace, experiment)).json()
        return ExperimentColumns.model_validate(body)

    def ids(
        self, experiments: str | int | Sequence[str | int], *, workspace: str | None = None
    ) -> builtins.list[str]:
        """Experiment ids for ids or names (a name is looked up; a number is taken as an id)."""
        refs = [experiments] if isinstance(experiments, str | int) else list(experiments)
        out = []
        for ref in refs:
            text = str(ref)
            out.append(text if text.isdigit() else self.get(text, workspace=workspace).id)
        return out
