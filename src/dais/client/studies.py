"""Tuning studies (AutoML): search a preset's params or a script's declared space with Optuna, or
let an "auto model" try a task's presets under a time budget; follow trials, read the optimisation
history, parameter importance and leaderboard; stop a study; promote its best trial::

    client = dais.Client(workspace="team")
    study = client.studies.create(
        algorithm="lightgbm_classifier",
        dataset="customers",
        target="churn",
        max_trials=30,
        concurrency=4,
        pruner={"kind": "median"},
    )
    done = client.studies.wait(study.id)
    print(done.best_value, done.leaderboard[0].params)
    client.studies.promote(study.id, "churn-model")

    auto = client.studies.auto(task="classification", dataset="customers", target="churn",
                               max_wall_time_s=600)

Like the other workspace domains, every call takes ``workspace=``, by default the client's own
(``Client(workspace=...)``, else ``DAIS_WORKSPACE``).
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from dais.client.http import route
from dais.client.models import Model
from dais.client.uploads import WorkspaceResource

CREATE = route("POST", "/api/v1/workspaces/{workspace}/studies")
AUTO = route("POST", "/api/v1/workspaces/{workspace}/studies:auto")
LIST = route("GET", "/api/v1/workspaces/{workspace}/studies")
GET = route("GET", "/api/v1/workspaces/{workspace}/studies/{study}")
STOP = route("POST", "/api/v1/workspaces/{workspace}/studies/{study}/stop")
PROMOTE = route("POST", "/api/v1/workspaces/{workspace}/studies/{study}/promote")

#: Study states after which nothing changes.
FINISHED = frozenset({"completed", "stopped", "failed"})


class Promoted(Model):
    """The model version a trial's model was registered as."""

    name: str
    version: int
    trial: int
    run_id: str


class StudyCreated(Model):
    """A new study: its coordinator job and parent run."""

    id: str
    name: str
    state: str
    experiment_id: str
    parent_run_id: str
    coordinator_job_id: str
    max_trials: int | None = None


class Study(Model):
    """A study in a listing: its objective, budget, state, trial counts and best value."""

    id: str
    name: str
    kind: str
    algorithm: str | None = None
    dataset: str | None = None
    experiment_id: str
    parent_run_id: str | None = None
    metric: str
    direction: str
    sampler: str
    pruner: dict[str, Any] = Field(default_factory=dict)
    max_trials: int | None = None
    max_wall_time_s: float | None = None
    concurrency: int = 1
    state: str
    stop_requested: bool = False
    error: str | None = None
    trials: dict[str, int] = Field(default_factory=dict)
    best_trial: int | None = None
    best_value: float | None = None
    promote_to: str | None = None
    promoted: Promoted | None = None
    coordinator_job_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """Whether the study ended (completed, stopped or failed)."""
        return self.state in FINISHED


class Trial(Model):
    """One trial: params, state (running, complete, pruned, failed), value, run and job."""

    number: int
    state: str
    algorithm: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    value: float | None = None
    intermediate: dict[str, float] = Field(default_factory=dict)
    run_id: str | None = None
    job_id: str | None = None
    error: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    duration_s: float | None = None


class HistoryPoint(Model):
    """A finished trial on the optimisation history: its value and the best so far."""

    number: int
    state: str
    value: float | None = None
    best: float | None = None
    ended_at: datetime | None = None


class LeaderboardRow(Model):
    """A complete trial ranked by the objective."""

    rank: int
    number: int
    algorithm: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    value: float
    metrics: dict[str, float] = Field(default_factory=dict)
    run_id: str | None = None
    duration_s: float | None = None


class StudyDetail(Study):
    """A study with its space, trials, history, parameter importance and leaderboard."""

    space: dict[str, Any] = Field(default_factory=dict)
    base_spec: dict[str, Any] = Field(default_factory=dict)
    trial_list: builtins.list[Trial] = Field(default_factory=list)
    history: builtins.list[HistoryPoint] = Field(default_factory=list)
    importance: dict[str, float] = Field(default_factory=dict)
    importance_note: str | None = None
    leaderboard: builtins.list[LeaderboardRow] = Field(default_factory=list)


class Studies(WorkspaceResource):
    """Create, follow, stop and promote tuning studies and auto models."""

    def create(
        self,
        *,
        algorithm: str | None = None,
        dataset: str | None = None,
        target: str | None = None,
        script: Mapping[str, Any] | None = None,
        space: Mapping[str, Any] | None = None,
        name: str | None = None,
        metric: str | None = None,
        direction: str | None = None,
        sampler: str = "tpe",
        max_trials: int | None = None,
        max_wall_time_s: float | None = None,
        concurrency: int = 1,
        workspace: str | None = None,
        **options: Any,
    ) -> StudyCreated:
        """Tune a preset (``algorithm`` on ``dataset``/``target``; ``space`` defaults to the preset's
        own) or a ``script`` over its declared ``space`` (the script logs ``metric``).

        ``options`` takes the other fields of the request: ``params`` (fixed params), ``seed``,
        ``pruner`` (``{"kind": "median", ...}``), ``enqueue`` (param sets tried first), ``features``,
        ``split``, ``version``, ``experiment``, ``trial_job`` (resources of each trial),
        ``promote_to`` (register the best trial's model under this name).
        """
        body: dict[str, Any] = {
            "algorithm": algorithm,
            "dataset": dataset,
            "target": target,
            "script": dict(script) if script is not None else None,
            "space": dict(space) if space is not None else None,
            "name": name,
            "metric": metric,
            "direction": direction,
            "sampler": sampler,
            "max_trials": max_trials,
            "max_wall_time_s": max_wall_time_s,
            "concurrency": concurrency,
            **options,
        }
        body = {k: v for k, v in body.items() if v is not None}
        r = self._t.call(CREATE, path={"workspace": self._ws(workspace)}, json=body)
        return StudyCreated.model_validate(r.json())

    def auto(
        self,
        *,
        task: str,
        dataset: str,
        max_wall_time_s: float,
        target: str | None = None,
        algorithms: builtins.list[str] | None = None,
        max_trials: int | None = None,
        concurrency: int = 1,
        workspace: str | None = None,
        **options: Any,
    ) -> StudyCreated:
        """An auto model: try the ``task``'s presets (or ``algorithms``), each over its own space, for
        ``max_wall_time_s`` seconds; the study's leaderboard ranks them."""
        body: dict[str, Any] = {
            "task": task,
            "dataset": dataset,
            "target": target,
            "max_wall_time_s": max_wall_time_s,
            "algorithms": algorithms,
            "max_trials": max_trials,
            "concurrency": concurrency,
            **options,
        }
        body = {k: v for k, v in body.items() if v is not None}
        r = self._t.call(AUTO, path={"workspace": self._ws(workspace)}, json=body)
        return StudyCreated.model_validate(r.json())

    def list(
        self,
        *,
        state: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        workspace: str | None = None,
    ) -> Iterator[Study]:
        """Studies of the workspace, newest first."""
        params = {"state": state, "kind": kind}
        path = {"workspace": self._ws(workspace)}
        for item in self._t.pages(LIST, path=path, params=params, limit=limit):
            yield Study.model_validate(item)

    def get(self, study: str, *, workspace: str | None = None) -> StudyDetail:
        """A study (id or name) with its trials, history, importance and leaderboard."""
        r = self._t.call(GET, path={"workspace": self._ws(workspace), "study": study})
        return StudyDetail.model_validate(r.json())

    def stop(self, study: str, *, workspace: str | None = None) -> Study:
        """Stop a study: no new trials, the running ones cancelled."""
        r = self._t.call(STOP, path={"workspace": self._ws(workspace), "study": study})
        return Study.model_validate(r.json())

    def promote(
        self, study: str, name: str, *, trial: int | None = None, workspace: str | None = None
    ) -> Promoted:
        """Register the best trial's model (or ``trial``'s) as a new version of model ``name``."""
        body: dict[str, Any] = {"name": name}
        if trial is not None:
            body["trial"] = trial
        r = self._t.call(PROMOTE, path={"workspace": self._ws(workspace), "study": study}, json=body)
        return Promoted.model_validate(r.json())

    def wait(
        self,
        study: str,
        *,
        timeout: float | None = None,
        poll: float = 2.0,
        workspace: str | None = None,
    ) -> StudyDetail:
        """The study once it ended; raises :class:`TimeoutError` after ``timeout`` seconds."""
        ws = self._ws(workspace)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            detail = self.get(study, workspace=ws)
            if detail.finished:
                return detail
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"study {study} still {detail.state} after {timeout} s")
            time.sleep(poll)
