"""Tracked runs: log to them with calls named like MLflow's, search an experiment's runs with MLflow's
filter grammar and chosen columns, read one run whole, chart its metric history, compare runs, and
reach its artifacts and evaluation data::

    with client.runs.start(experiment="churn") as run:   # the experiment is made if missing
        run.log_params({"learning_rate": 0.05})
        for step, loss in enumerate(losses):
            run.log_metric("train/loss", loss, step=step)  # buffered (see dais.client.active_run)

    for run in client.runs.search(
        experiment="churn",
        filter="metrics.auc > 0.8 AND params.model = 'lightgbm'",
        order_by="metrics.auc DESC",
        params=["learning_rate"],
        metrics=["auc", "logloss"],
    ):
        print(run.id, run.params.get("learning_rate"), run.metrics.get("auc"))

    run = client.runs.get(run_id)
    loss = run.metric_history("train/loss", max_points=200)
    run.download("model/MLmodel", "./MLmodel")
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import httpx
from pydantic import PrivateAttr, model_validator

from dais.client.active_run import END_STATUSES, PARENT_RUN_TAG, ActiveRun, RunLogging, RunWriter, now_ms
from dais.client.http import Route, Transport, route
from dais.client.models import Model
from dais.client.uploads import WorkspaceResource
from dais.core.errors import (
    AlreadyExists,
    BadRequest,
    DaisError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

if TYPE_CHECKING:
    from dais.client.experiments import Experiments

SEARCH = route("POST", "/api/v1/workspaces/{workspace}/runs/search")
COMPARE = route("POST", "/api/v1/workspaces/{workspace}/runs/compare")
HISTORIES = route("POST", "/api/v1/workspaces/{workspace}/runs/metrics/history")
GET = route("GET", "/api/v1/workspaces/{workspace}/runs/{run}")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}/runs/{run}")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}/runs/{run}")
RESTORE = route("POST", "/api/v1/workspaces/{workspace}/runs/{run}/restore")
HISTORY = route("GET", "/api/v1/workspaces/{workspace}/runs/{run}/metrics/{key}/history")
ARTIFACTS = route("GET", "/api/v1/workspaces/{workspace}/runs/{run}/artifacts")
CONTENT = route("GET", "/api/v1/workspaces/{workspace}/runs/{run}/artifacts/content")
EVALUATION = route("GET", "/api/v1/workspaces/{workspace}/runs/{run}/evaluation")

CHUNK = 1024 * 1024

# Tracking errors carry MLflow-flavoured codes (``resource_does_not_exist``, ``invalid_parameter_value``)
# whose classes live on the server: the SDK gives them the core class their HTTP status stands for.
_BY_STATUS: dict[int, type[DaisError]] = {
    400: BadRequest,
    403: PermissionDenied,
    404: NotFound,
    409: AlreadyExists,
    422: InvalidInput,
}


def tracking_error(exc: DaisError) -> DaisError:
    """``exc`` as the core error class of its HTTP status when its own code is unknown here."""
    cls = _BY_STATUS.get(int(exc.extra.get("http_status") or 0))
    if type(exc) is not DaisError or cls is None:
        return exc
    converted = cls(exc.detail, errors=exc.errors, **exc.extra)
    converted.__cause__ = exc
    return converted


class TrackingResource(WorkspaceResource):
    """A tracking domain of the SDK: workspace-scoped, its errors mapped to core classes."""

    def _call(self, r: Route, **kwargs: Any) -> httpx.Response:
        try:
            return self._t.call(r, **kwargs)
        except DaisError as exc:
            raise tracking_error(exc) from None


class MetricPoint(Model):
    step: int
    timestamp: int
    value: float | None
    """``None`` for NaN."""


class MetricSeries(Model):
    """One metric of one run, in step order (downsampled when it had more points than asked for)."""

    run_id: str
    key: str
    points: list[MetricPoint]
    downsampled: bool = False

    @property
    def steps(self) -> list[int]:
        return [p.step for p in self.points]

    @property
    def values(self) -> list[float | None]:
        return [p.value for p in self.points]


class RunArtifact(Model):
    """A file or folder under a run's artifacts (``path`` relative to them)."""

    path: str
    is_dir: bool
    size: int | None = None
    modified: int | None = None


class LatestMetric(Model):
    key: str
    value: float | None
    step: int
    timestamp: int


class RunBrief(Model):
    id: str
    name: str
    status: str
    start_time: int | None = None
    lifecycle_stage: str = "active"


class RunJob(Model):
    id: str
    name: str
    kind: str
    state: str
    attempt: int = 0


class LoggedModelInfo(Model):
    id: str
    name: str
    status: str
    model_type: str | None = None
    artifact_location: str = ""
    creation_timestamp: int = 0


class RegisteredVersionRef(Model):
    model: str
    version: int
    status: str = "READY"


class RunInputInfo(Model):
    name: str | None = None
    digest: str | None = None
    source_type: str | None = None
    source: str | None = None
    context: str | None = None
    tags: dict[str, Any] = {}
    dataset_version_id: str | None = None
    model_id: str | None = None


class _RunBase(Model, RunLogging):
    """A run read back; the logging methods (``log_param``, ``log_metric``, ``log_artifact``...)
    write to it at once, unbuffered (for buffered metrics, ``client.runs.start(run_id=...)``)."""

    id: str
    name: str
    experiment_id: str
    status: str
    start_time: int | None = None
    end_time: int | None = None
    duration_ms: int | None = None
    lifecycle_stage: str = "active"
    user_id: str = ""
    artifact_uri: str = ""
    parent_run_id: str | None = None
    job_id: str | None = None

    _api: Runs | None = PrivateAttr(default=None)
    _workspace: str | None = PrivateAttr(default=None)

    def bind(self, api: Runs, workspace: str) -> Self:
        """Attach the client's runs API (done by every SDK call that returns a run)."""
        self._api, self._workspace = api, workspace
        return self

    def _bound(self) -> tuple[Runs, str]:
        if self._api is None or self._workspace is None:
            raise RuntimeError("this run is not bound to a client; get it through client.runs")
        return self._api, self._workspace

    def _logging_target(self) -> tuple[Runs, str, str, str]:
        api, ws = self._bound()
        return api, ws, self.id, self.artifact_uri

    def end(self, status: str = "FINISHED") -> None:
        """End the run as ``status`` (FINISHED, FAILED or KILLED); :meth:`refresh` shows it."""
        api, ws = self._bound()
        api.end(self.id, status, workspace=ws)

    @property
    def finished(self) -> bool:
        return self.status in ("FINISHED", "FAILED", "KILLED")

    def refresh(self) -> TrackedRunDetail:
        """The whole run as the server has it now."""
        api, ws = self._bound()
        return api.get(self.id, workspace=ws)

    def metric_history(self, key: str, *, max_points: int = 1000) -> MetricSeries:
        """The metric's points in step order, downsampled to at most ``max_points``."""
        api, ws = self._bound()
        return api.metric_history(self.id, key, max_points=max_points, workspace=ws)

    def artifacts(self, path: str = "") -> builtins.list[RunArtifact]:
        """One folder level of the run's artifacts (``path``: a folder under them)."""
        api, ws = self._bound()
        return api.artifacts(self.id, path, workspace=ws)

    def read(self, path: str, *, start: int | None = None, end: int | None = None) -> bytes:
        """A (small) artifact's bytes, or a range of them."""
        api, ws = self._bound()
        return api.read(self.id, path, start=start, end=end, workspace=ws)

    def download(self, path: str, dest: str | os.PathLike[str]) -> Path:
        """Stream an artifact file to ``dest`` (a file, or a folder to put it in)."""
        api, ws = self._bound()
        return api.download(self.id, path, dest, workspace=ws)

    def evaluation(self) -> dict[str, Any]:
        """The run's ``evaluation.json`` (written by Dais's preset trainers)."""
        api, ws = self._bound()
        return api.evaluation(self.id, workspace=ws)


class TrackedRun(_RunBase):
    """A run as a search returns it: its own fields and the params, metrics and tags asked for."""

    params: dict[str, str] = {}
    metrics: dict[str, float | None] = {}
    """Latest value of each chosen metric (``None`` for NaN)."""
    tags: dict[str, str] = {}


class TrackedRunDetail(_RunBase):
    """A run whole: params, tags, latest metrics (``metrics`` by key; ``latest_metrics`` with their
    step and time), inputs, its job, parent and children, logged and registered models."""

    experiment_name: str = ""
    description: str = ""
    params: dict[str, str] = {}
    tags: dict[str, str] = {}
    metrics: dict[str, float | None] = {}
    latest_metrics: list[LatestMetric] = []
    inputs: list[RunInputInfo] = []
    job: RunJob | None = None
    parent: RunBrief | None = None
    children: list[RunBrief] = []
    child_count: int = 0
    logged_models: list[LoggedModelInfo] = []
    registered_versions: list[RegisteredVersionRef] = []
    artifact_root: str = ""

    @model_validator(mode="before")
    @classmethod
    def _metrics_by_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("metrics"), list):
            data = dict(data)
            data["latest_metrics"] = data["metrics"]
            data["metrics"] = {m["key"]: m.get("value") for m in data["metrics"]}
        return data


class ParamDiff(Model):
    key: str
    values: dict[str, str | None]
    differs: bool


class MetricCompare(Model):
    key: str
    values: dict[str, float | None]
    differs: bool
    min: float | None = None
    max: float | None = None


class TrackedRunComparison(Model):
    """Runs side by side: every param (``differs`` when the runs disagree) and latest metrics."""

    runs: list[TrackedRun]
    params: list[ParamDiff]
    metrics: list[MetricCompare]

    def differing_params(self) -> list[ParamDiff]:
        return [p for p in self.params if p.differs]


def _range_header(start: int | None, end: int | None) -> dict[str, str]:
    if start is None and end is None:
        return {}
    if start is None:
        raise ValueError("give start with end (a suffix range is start=-N)")
    if start < 0:
        return {"Range": f"bytes={start}"}
    return {"Range": f"bytes={start}-{'' if end is None else end - 1}"}


class Runs(TrackingResource):
    """Search, read, change, compare tracked runs; their metric history, artifacts and evaluation."""

    def __init__(self, transport: Transport, default_workspace: Callable[[], str | None]) -> None:
        super().__init__(transport, default_workspace)
        self.experiments: Experiments | None = None  # set by the client: resolves experiment names
        self.writer = RunWriter(transport)
        """The MLflow-facade calls behind the logging methods."""

    def _path(self, workspace: str | None, run: str | None = None, **more: str) -> dict[str, str]:
        path = {"workspace": self._ws(workspace), **more}
        if run is not None:
            path["run"] = run
        return path

    def _experiment_ids(self, experiment: str | int | Sequence[str | int], workspace: str) -> list[str]:
        if self.experiments is None:
            refs = [experiment] if isinstance(experiment, str | int) else list(experiment)
            return [str(r) for r in refs]
        return self.experiments.ids(experiment, workspace=workspace)

    def _body(
        self,
        experiment: str | int | Sequence[str | int],
        workspace: str,
        filter: str,
        order_by: str | Sequence[str],
        view: str,
        params: Sequence[str],
        metrics: Sequence[str],
        tags: Sequence[str],
    ) -> dict[str, Any]:
        return {
            "experiment_ids": self._experiment_ids(experiment, workspace),
            "filter": filter,
            "order_by": [order_by] if isinstance(order_by, str) else list(order_by),
            "view": view,
            "params": list(params),
            "metrics": list(metrics),
            "tags": list(tags),
        }

    def search(
        self,
        experiment: str | int | Sequence[str | int],
        *,
        filter: str = "",
        order_by: str | Sequence[str] = (),
        params: Sequence[str] = (),
        metrics: Sequence[str] = (),
        tags: Sequence[str] = (),
        view: str = "active",
        limit: int | None = None,
        workspace: str | None = None,
    ) -> Iterator[TrackedRun]:
        """Runs of one or more experiments (ids or names) matching ``filter`` (MLflow's grammar:
        ``metrics.acc > 0.9 AND params.lr = '0.1' AND attributes.status = 'FINISHED'``), ordered by
        ``order_by`` (``"metrics.acc DESC"``; default newest first), each with the chosen ``params``,
        ``metrics`` (latest values) and ``tags``. Fetches pages as it goes; ``limit`` caps the total.
        """
        ws = self._ws(workspace)
        body = self._body(experiment, ws, filter, order_by, view, params, metrics, tags)
        seen = 0
        cursor: str | None = None
        while True:
            size = self._t.page_size if limit is None else max(1, min(self._t.page_size, limit - seen))
            page = self._call(
                SEARCH, path={"workspace": ws}, json={**body, "limit": size, "cursor": cursor, "total": False}
            ).json()
            for item in page["items"]:
                yield TrackedRun.model_validate(item).bind(self, ws)
                seen += 1
                if limit is not None and seen >= limit:
                    return
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def count(
        self,
        experiment: str | int | Sequence[str | int],
        *,
        filter: str = "",
        view: str = "active",
        workspace: str | None = None,
    ) -> int:
        """How many runs :meth:`search` would find."""
        ws = self._ws(workspace)
        body = self._body(experiment, ws, filter, (), view, (), (), ())
        page = self._call(SEARCH, path={"workspace": ws}, json={**body, "limit": 1, "total": True}).json()
        return int(page["total"])

    def get(self, run_id: str, *, workspace: str | None = None) -> TrackedRunDetail:
        """One run whole: params, tags, latest metrics, inputs, job, parent, children, models."""
        ws = self._ws(workspace)
        body = self._call(GET, path=self._path(ws, run_id)).json()
        return TrackedRunDetail.model_validate(body).bind(self, ws)

    def update(
        self,
        run_id: str,
        *,
        name: str | None = None,
        status: str | None = None,
        description: str | None = None,
        workspace: str | None = None,
    ) -> TrackedRunDetail:
        """Rename a run, set its status (``FINISHED``, ``FAILED``, ``KILLED`` set its end time) or
        its description."""
        ws = self._ws(workspace)
        body = {
            k: v
            for k, v in {"name": name, "status": status, "description": description}.items()
            if v is not None
        }
        data = self._call(UPDATE, path=self._path(ws, run_id), json=body).json()
        return TrackedRunDetail.model_validate(data).bind(self, ws)

    def delete(self, run_id: str, *, workspace: str | None = None) -> None:
        """Delete a run (restorable with :meth:`restore`)."""
        self._call(DELETE, path=self._path(workspace, run_id))

    def restore(self, run_id: str, *, workspace: str | None = None) -> TrackedRunDetail:
        ws = self._ws(workspace)
        data = self._call(RESTORE, path=self._path(ws, run_id)).json()
        return TrackedRunDetail.model_validate(data).bind(self, ws)

    def metric_history(
        self, run_id: str, key: str, *, max_points: int = 1000, workspace: str | None = None
    ) -> MetricSeries:
        """A metric's points in step order, downsampled to at most ``max_points`` (spikes kept)."""
        body = self._call(
            HISTORY, path=self._path(workspace, run_id, key=key), params={"max_points": max_points}
        ).json()
        return MetricSeries.model_validate(body)

    def metric_histories(
        self,
        run_ids: Sequence[str],
        keys: Sequence[str],
        *,
        max_points: int = 1000,
        workspace: str | None = None,
    ) -> builtins.list[MetricSeries]:
        """Series of several runs and keys at once (one per run and key the run has)."""
        body = {"run_ids": list(run_ids), "keys": list(keys), "max_points": max_points}
        data = self._call(HISTORIES, path=self._path(workspace), json=body).json()
        return [MetricSeries.model_validate(s) for s in data["series"]]

    def compare(self, run_ids: Sequence[str], *, workspace: str | None = None) -> TrackedRunComparison:
        """Runs side by side: params (flagged where they differ) and latest metrics."""
        ws = self._ws(workspace)
        data = self._call(COMPARE, path=self._path(ws), json={"run_ids": list(run_ids)}).json()
        found = TrackedRunComparison.model_validate(data)
        for run in found.runs:
            run.bind(self, ws)
        return found

    def artifacts(
        self, run_id: str, path: str = "", *, workspace: str | None = None
    ) -> builtins.list[RunArtifact]:
        """One folder level of the run's artifacts."""
        data = self._call(ARTIFACTS, path=self._path(workspace, run_id), params={"path": path}).json()
        return [RunArtifact.model_validate(i) for i in data["items"]]

    def iter_bytes(
        self,
        run_id: str,
        path: str,
        *,
        start: int | None = None,
        end: int | None = None,
        workspace: str | None = None,
    ) -> Iterator[bytes]:
        """An artifact's bytes (``start``..``end`` exclusive; ``start=-N``: the last N), streamed."""
        try:
            with self._t.stream(
                CONTENT,
                path=self._path(workspace, run_id),
                params={"path": path},
                headers=_range_header(start, end),
            ) as r:
                yield from r.iter_bytes(CHUNK)
        except DaisError as exc:
            raise tracking_error(exc) from None

    def read(
        self,
        run_id: str,
        path: str,
        *,
        start: int | None = None,
        end: int | None = None,
        workspace: str | None = None,
    ) -> bytes:
        return b"".join(self.iter_bytes(run_id, path, start=start, end=end, workspace=workspace))

    def download(
        self, run_id: str, path: str, dest: str | os.PathLike[str], *, workspace: str | None = None
    ) -> Path:
        """Stream an artifact file to ``dest`` (a file, or a folder to put it in); the file appears
        complete or not at all."""
        target = Path(dest)
        if target.is_dir():
            target = target / path.rstrip("/").rsplit("/", 1)[-1]
        tmp = target.with_name(f".{target.name}.part")
        try:
            with tmp.open("wb") as fh:
                for chunk in self.iter_bytes(run_id, path, workspace=workspace):
                    fh.write(chunk)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def evaluation(self, run_id: str, *, workspace: str | None = None) -> dict[str, Any]:
        """The run's ``evaluation.json`` (confusion matrix, curves, importances...)."""
        data: dict[str, Any] = self._call(EVALUATION, path=self._path(workspace, run_id)).json()
        return data

    # -- logging (writes through the MLflow facade) ---------------------------------------------------

    def _experiments_api(self) -> Experiments:
        if self.experiments is None:
            from dais.client.experiments import Experiments

            self.experiments = Experiments(self._t, self._default_workspace, self)
        return self.experiments

    def start(
        self,
        experiment: str | int | None = None,
        *,
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent: str | ActiveRun | _RunBase | None = None,
        run_id: str | None = None,
        workspace: str | None = None,
    ) -> ActiveRun:
        """Start a run, as ``mlflow.start_run`` does, and return it to log to (use it in a ``with``
        block, or call its ``end()``).

        ``experiment``: a name (the experiment is created when missing, like ``mlflow.set_experiment``)
        or an id (a number); none: the workspace's ``Default`` experiment. ``name``: the run's name (a
        random friendly one when none). ``parent``: a run (or its id) to nest this one under.
        ``run_id``: resume that run instead (set RUNNING again; ``tags`` and ``name`` applied to it).
        """
        ws = self._ws(workspace)
        if run_id is not None:
            run = ActiveRun(self, ws, self.writer.update(ws, run_id, status="RUNNING", name=name))
            if tags:
                run.set_tags(tags)
            return run
        all_tags = {str(k): str(v) for k, v in (tags or {}).items()}
        if parent is not None:
            all_tags[PARENT_RUN_TAG] = parent if isinstance(parent, str) else parent.id
        if experiment is None:
            experiment_id = "0"  # the facade's name for the Default experiment
        elif isinstance(experiment, int) or experiment.isdigit():
            experiment_id = str(experiment)
        else:
            experiment_id = self._experiments_api().get_or_create(experiment, workspace=ws).id
        return ActiveRun(self, ws, self.writer.create(ws, experiment_id, name=name, tags=all_tags))

    def end(self, run_id: str, status: str = "FINISHED", *, workspace: str | None = None) -> None:
        """End a run as ``status`` (FINISHED, FAILED or KILLED), its end time now."""
        if status not in END_STATUSES:
            raise InvalidInput(f"A run ends as one of {', '.join(END_STATUSES)}, not {status!r}.")
        self.writer.update(self._ws(workspace), run_id, status=status, end_time=now_ms())

    def _target(self, run_id: str, workspace: str | None) -> _RunTarget:
        return _RunTarget(self, self._ws(workspace), run_id)

    def log_param(self, run_id: str, key: str, value: Any, *, workspace: str | None = None) -> None:
        """Log a param of an existing run (another value for a logged param raises InvalidInput)."""
        self._target(run_id, workspace).log_param(key, value)

    def log_params(self, run_id: str, params: Mapping[str, Any], *, workspace: str | None = None) -> None:
        self._target(run_id, workspace).log_params(params)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        step: int | None = None,
        timestamp: int | None = None,
        *,
        workspace: str | None = None,
    ) -> None:
        """Log one metric point to an existing run, at once (for many points, :meth:`log_metrics`
        or a buffered ``start(run_id=...)``)."""
        self._target(run_id, workspace).log_metric(key, value, step, timestamp)

    def log_metrics(
        self,
        run_id: str,
        metrics: Mapping[str, float],
        step: int | None = None,
        timestamp: int | None = None,
        *,
        workspace: str | None = None,
    ) -> None:
        self._target(run_id, workspace).log_metrics(metrics, step, timestamp)

    def set_tag(self, run_id: str, key: str, value: Any, *, workspace: str | None = None) -> None:
        self._target(run_id, workspace).set_tag(key, value)

    def set_tags(self, run_id: str, tags: Mapping[str, Any], *, workspace: str | None = None) -> None:
        self._target(run_id, workspace).set_tags(tags)

    def delete_tag(self, run_id: str, key: str, *, workspace: str | None = None) -> None:
        self._target(run_id, workspace).delete_tag(key)

    def log_artifact(
        self,
        run_id: str,
        local_path: str | os.PathLike[str],
        artifact_path: str | None = None,
        *,
        workspace: str | None = None,
    ) -> None:
        """Upload a file to ``artifact_path/<its name>`` under an existing run's artifacts."""
        self._target(run_id, workspace).log_artifact(local_path, artifact_path)

    def log_artifacts(
        self,
        run_id: str,
        local_dir: str | os.PathLike[str],
        artifact_path: str | None = None,
        *,
        workspace: str | None = None,
    ) -> None:
        """Upload a folder's files, keeping its layout, under an existing run's artifacts."""
        self._target(run_id, workspace).log_artifacts(local_dir, artifact_path)

    def log_dict(
        self, run_id: str, dictionary: Any, artifact_file: str, *, workspace: str | None = None
    ) -> None:
        self._target(run_id, workspace).log_dict(dictionary, artifact_file)

    def log_text(self, run_id: str, text: str, artifact_file: str, *, workspace: str | None = None) -> None:
        self._target(run_id, workspace).log_text(text, artifact_file)


class _RunTarget(RunLogging):
    """A run known by its id only: its artifact URI is read (once) when an artifact is logged."""

    def __init__(self, runs: Runs, workspace: str, run_id: str) -> None:
        self._runs, self._workspace, self._run_id = runs, workspace, run_id

    def _logging_target(self) -> tuple[Runs, str, str, str]:
        return self._runs, self._workspace, self._run_id, ""

    def _artifact_target(self) -> tuple[Runs, str, str, str]:
        uri = self._runs.get(self._run_id, workspace=self._workspace).artifact_uri
        return self._runs, self._workspace, self._run_id, uri
