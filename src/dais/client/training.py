"""Training: train a preset algorithm on a dataset (or run your own script against a new tracking
run) and follow it::

    run = client.training.train(
        dataset="customers",
        target="churn",
        algorithm="lightgbm_classifier",
        params={"learning_rate": 0.05, "n_estimators": 300},
        split={"kind": "kfold", "k": 5},
        register_as="churn",
        workspace="team",
    )
    run.wait(on_progress=lambda job: print(job.progress, job.progress_message))
    print(run.metrics)            # the final metrics ({"accuracy": ..., "roc_auc": ...})

    for algo in client.training.algorithms(task="regression"):
        print(algo.name, list(algo.params_schema["properties"]))

A request the server cannot train (an unknown column, a text feature, an empty split, a param out
of range) raises :class:`~dais.core.errors.InvalidInput` at once; its ``errors`` name the field.
:meth:`TrainingRun.wait` raises :class:`TrainingFailed` when the job fails or is cancelled.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr

from dais.client.http import Transport, route
from dais.client.models import Job, Model
from dais.client.uploads import WorkspaceResource
from dais.core.errors import DaisError

if TYPE_CHECKING:
    from dais.client.jobs import Jobs

ALGORITHMS = route("GET", "/api/v1/algorithms")
LAUNCH = route("POST", "/api/v1/workspaces/{workspace}/training/runs")

JobProgress = Callable[[Job], None]
"""Called with the job each time :meth:`TrainingRun.wait` polls it."""


class TrainingFailed(DaisError):
    """A training job ended failed or cancelled; ``job`` is it (``job.error`` says why)."""

    code = "training_failed"
    status = 422
    title = "The training run failed"

    job: Job | None = None


class Algorithm(Model):
    """A preset algorithm: its task, runtime, params form (a JSON schema) and search space."""

    name: str
    title: str = ""
    description: str = ""
    task: str = ""
    runtime: str = ""
    params_schema: dict[str, Any] = {}
    search_space: dict[str, Any] = {}
    handles_missing: bool = False
    iterative: bool = False
    error: str | None = None


class TrainingRun(Model):
    """A launched training run: the tracking run it logs into and the job that runs it."""

    run_id: str
    experiment_id: str
    job_id: str
    run_name: str = ""
    status: str = "SCHEDULED"
    workspace: str = ""

    _jobs: Jobs | None = PrivateAttr(default=None)
    _job: Job | None = PrivateAttr(default=None)

    @property
    def job(self) -> Job | None:
        """The job as last seen by :meth:`refresh` or :meth:`wait`."""
        return self._job

    @property
    def metrics(self) -> dict[str, float]:
        """The final metrics, once the job succeeded."""
        result = (self._job.result if self._job is not None else None) or {}
        return dict(result.get("metrics") or {})

    @property
    def result(self) -> dict[str, Any]:
        """What the job answered: ``run_id``, ``metrics``, ``model_uri``, ``model_version``..."""
        return dict((self._job.result if self._job is not None else None) or {})

    def _api(self) -> Jobs:
        if self._jobs is None:
            raise RuntimeError("This run is not bound to a client: get it from client.training.")
        return self._jobs

    def refresh(self) -> Job:
        """The job now."""
        self._job = self._api().get(self.workspace, self.job_id)
        return self._job

    def wait(
        self, timeout: float | None = None, poll: float = 0.5, on_progress: JobProgress | None = None
    ) -> TrainingRun:
        """Wait until the job ends; this run (its :attr:`metrics` filled). :class:`TrainingFailed`
        if the job failed or was cancelled, :class:`TimeoutError` after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.refresh()
            if on_progress is not None:
                on_progress(job)
            if job.finished:
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"Training run {self.run_id} is still {job.state} after {timeout:g} s.")
            time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))
        if job.state != "succeeded":
            error = TrainingFailed(
                f"Training run {self.run_id} ({self.run_name}) {job.state}: {job.error or 'no error given'}",
                run_id=self.run_id,
                job_id=self.job_id,
            )
            error.job = job
            raise error
        return self

    def cancel(self) -> Job:
        """Stop the job; the run is marked KILLED (what it logged stays)."""
        self._job = self._api().cancel(self.workspace, self.job_id)
        return self._job


class Training(WorkspaceResource):
    """Launch training runs (presets or scripts) and list the preset algorithms."""

    def __init__(self, transport: Transport, default_workspace: Callable[[], str | None], jobs: Jobs) -> None:
        super().__init__(transport, default_workspace)
        self._jobs = jobs

    def algorithms(self, task: str | None = None) -> builtins.list[Algorithm]:
        """The preset algorithms (only ``task``'s when given)."""
        body = self._t.call(ALGORITHMS, params={"task": task}).json()
        return [Algorithm.model_validate(a) for a in body]

    def train(
        self,
        *,
        dataset: str,
        algorithm: str,
        target: str | None = None,
        params: Mapping[str, Any] | None = None,
        features: Sequence[str] | None = None,
        version: int | None = None,
        split: Mapping[str, Any] | None = None,
        transforms: Mapping[str, Any] | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        register_as: str | None = None,
        seed: int | None = None,
        tags: Mapping[str, str] | None = None,
        resources: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        workspace: str | None = None,
    ) -> TrainingRun:
        """Train ``algorithm`` on ``dataset`` (its ``version``, current by default) to predict
        ``target`` (none for clustering). ``split``: ``{"kind": "holdout", "valid_fraction": 0.2}``
        (the default), ``{"kind": "kfold", "k": 5}``, ``{"kind": "time", "column": "day", "cutoff":
        "2024-06-01"}`` or ``{"kind": "none"}``; ``transforms``: ``{"pipeline_run": id}`` applies that
        pipeline run's fitted transforms first. Checked by the server, then queued."""
        body: dict[str, Any] = {
            "dataset": dataset,
            "algorithm": algorithm,
            "target": target,
            "params": dict(params or {}),
            "features": list(features) if features is not None else None,
            "version": version,
            "split": dict(split) if split is not None else None,
            "transforms": dict(transforms) if transforms is not None else None,
            "experiment": experiment,
            "run_name": run_name,
            "register_as": register_as,
            "tags": dict(tags or {}),
            "timeout_s": timeout_s,
        }
        if seed is not None:
            body["seed"] = seed
        if resources is not None:
            body["resources"] = dict(resources)
        return self._launch(workspace, {k: v for k, v in body.items() if v is not None})

    def run_script(
        self,
        *,
        python: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] = (),
        files: str | None = None,
        path: str | None = None,
        env: Mapping[str, str] | None = None,
        experiment: str | None = None,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        resources: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        workspace: str | None = None,
    ) -> TrainingRun:
        """Run your own training code (a ``python`` file of ``files``/``path``, or a ``command``) with
        the MLflow client pointed at a new run: ``MLFLOW_TRACKING_URI``, ``MLFLOW_TRACKING_TOKEN``,
        ``MLFLOW_RUN_ID`` and ``MLFLOW_EXPERIMENT_ID`` are set in its environment."""
        script: dict[str, Any] = {
            "python": python,
            "command": list(command) if command is not None else None,
            "args": list(args),
            "files": files,
            "path": path,
            "env": dict(env or {}),
        }
        body: dict[str, Any] = {
            "script": {k: v for k, v in script.items() if v is not None},
            "experiment": experiment,
            "run_name": run_name,
            "tags": dict(tags or {}),
            "timeout_s": timeout_s,
        }
        if resources is not None:
            body["resources"] = dict(resources)
        return self._launch(workspace, {k: v for k, v in body.items() if v is not None})

    def _launch(self, workspace: str | None, body: dict[str, Any]) -> TrainingRun:
        ws = self._ws(workspace)
        reply = self._t.call(LAUNCH, path={"workspace": ws}, json=body).json()
        run = TrainingRun.model_validate({**reply, "workspace": ws})
        run._jobs = self._jobs
        return run
