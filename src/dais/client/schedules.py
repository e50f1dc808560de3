"""Schedules: submit a job or a DAG on a cron expression (in a time zone) or every N seconds."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import Schedule, ScheduleRun

LIST = route("GET", "/api/v1/workspaces/{workspace}/schedules")
CREATE = route("POST", "/api/v1/workspaces/{workspace}/schedules")
GET = route("GET", "/api/v1/workspaces/{workspace}/schedules/{schedule}")
UPDATE = route("PATCH", "/api/v1/workspaces/{workspace}/schedules/{schedule}")
DELETE = route("DELETE", "/api/v1/workspaces/{workspace}/schedules/{schedule}")
PAUSE = route("POST", "/api/v1/workspaces/{workspace}/schedules/{schedule}/pause")
RESUME = route("POST", "/api/v1/workspaces/{workspace}/schedules/{schedule}/resume")
TRIGGER = route("POST", "/api/v1/workspaces/{workspace}/schedules/{schedule}/trigger")
RUNS = route("GET", "/api/v1/workspaces/{workspace}/schedules/{schedule}/runs")

Catchup = Literal["skip", "all"]
DagTemplate = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def template_of(job: Mapping[str, Any] | None, dag: DagTemplate | None) -> dict[str, Any]:
    """The schedule template ``{"job": ...}`` or ``{"dag": ...}``; a DAG may be given as its node list."""
    if (job is None) == (dag is None):
        raise ValueError("give exactly one of job= and dag=")
    if job is not None:
        return {"job": dict(job)}
    assert dag is not None
    if isinstance(dag, Mapping):
        return {"dag": dict(dag)}
    return {"dag": {"nodes": [dict(n) for n in dag]}}


class Schedules(Resource):
    """Run a job or a DAG on a schedule; pause, resume and trigger it; read the runs it fired.

    Strings in the template may use ``${ds}`` (the run's logical date, ``YYYY-MM-DD``), ``${ts}``
    (ISO 8601), shifted (``${ds-1d}``, ``${ds+2h}``) or formatted (``${ds|%Y%m%d}``), and the
    schedule's own ``variables``::

        client.schedules.create(
            "team",
            "nightly-load",
            cron="0 3 * * *",
            timezone="Europe/Paris",
            job={"kind": "script", "name": "load ${ds}", "spec": {"command": ["load", "${ds-1d}"]}},
        )
        run = client.schedules.trigger("team", "nightly-load")
        client.jobs.get("team", run.job_id).wait()
    """

    def create(
        self,
        workspace: str,
        name: str,
        *,
        cron: str | None = None,
        interval_s: float | None = None,
        timezone: str = "UTC",
        job: Mapping[str, Any] | None = None,
        dag: DagTemplate | None = None,
        variables: Mapping[str, str] | None = None,
        catchup: Catchup = "skip",
        paused: bool = False,
        description: str = "",
    ) -> Schedule:
        """A new schedule firing on ``cron`` (read in ``timezone``) or every ``interval_s`` seconds.

        It submits ``job`` (what :meth:`dais.client.jobs.Jobs.submit` takes: ``kind``, ``spec``,
        ``name``, ``resources``, ...) or ``dag`` (``name`` and ``nodes``, or the list of nodes).
        ``catchup``: after downtime, fire only the latest missed run (``skip``) or each (``all``).
        An invalid cron expression, time zone or unknown ``${variable}`` raises ``InvalidInput``.
        """
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "cron": cron,
            "interval_s": interval_s,
            "timezone": timezone,
            "template": template_of(job, dag),
            "variables": dict(variables or {}),
            "catchup": catchup,
            "paused": paused,
        }
        return Schedule.model_validate(self._t.call(CREATE, path={"workspace": workspace}, json=body).json())

    def list(self, workspace: str, *, sort: str = "name", limit: int | None = None) -> Iterator[Schedule]:
        """The workspace's schedules with their next run times, across all pages.

        ``sort``: ``name``, ``created_at`` or ``next_run_at``; ``-`` first for descending.
        """
        for item in self._t.pages(LIST, path={"workspace": workspace}, params={"sort": sort}, limit=limit):
            yield Schedule.model_validate(item)

    def get(self, workspace: str, schedule: str) -> Schedule:
        """One schedule by name or id, with its next five run times."""
        return Schedule.model_validate(self._t.call(GET, path=self._path(workspace, schedule)).json())

    def update(
        self,
        workspace: str,
        schedule: str,
        *,
        description: str | None = None,
        cron: str | None = None,
        interval_s: float | None = None,
        timezone: str | None = None,
        job: Mapping[str, Any] | None = None,
        dag: DagTemplate | None = None,
        variables: Mapping[str, str] | None = None,
        catchup: Catchup | None = None,
    ) -> Schedule:
        """Change what is given (``None``: leave it); a ``cron`` replaces an interval and back.

        ``job`` or ``dag`` replaces the template; ``variables`` replaces the variables whole.
        """
        body: dict[str, Any] = {
            k: v
            for k, v in {
                "description": description,
                "cron": cron,
                "interval_s": interval_s,
                "timezone": timezone,
                "catchup": catchup,
            }.items()
            if v is not None
        }
        if variables is not None:
            body["variables"] = dict(variables)
        if job is not None or dag is not None:
            body["template"] = template_of(job, dag)
        return Schedule.model_validate(
            self._t.call(UPDATE, path=self._path(workspace, schedule), json=body).json()
        )

    def pause(self, workspace: str, schedule: str) -> Schedule:
        """Stop firing until resumed."""
        return Schedule.model_validate(self._t.call(PAUSE, path=self._path(workspace, schedule)).json())

    def resume(self, workspace: str, schedule: str) -> Schedule:
        """Fire again from now on (runs missed while paused are not fired)."""
        return Schedule.model_validate(self._t.call(RESUME, path=self._path(workspace, schedule)).json())

    def trigger(self, workspace: str, schedule: str) -> ScheduleRun:
        """Fire one run now (its logical date is now); the run, with the job or DAG it submitted.

        A template that cannot be submitted gives a run whose ``error`` says why.
        """
        return ScheduleRun.model_validate(self._t.call(TRIGGER, path=self._path(workspace, schedule)).json())

    def delete(self, workspace: str, schedule: str) -> None:
        """Delete a schedule (the jobs it submitted stay)."""
        self._t.call(DELETE, path=self._path(workspace, schedule))

    def runs(self, workspace: str, schedule: str, *, limit: int | None = None) -> Iterator[ScheduleRun]:
        """The runs the schedule fired, newest first, across all pages."""
        for item in self._t.pages(RUNS, path=self._path(workspace, schedule), limit=limit):
            yield ScheduleRun.model_validate(item)

    @staticmethod
    def _path(workspace: str, schedule: str) -> dict[str, str]:
        return {"workspace": workspace, "schedule": schedule}
