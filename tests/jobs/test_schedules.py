"""Schedules: timing in a time zone, variables, no double firing, catch-up after downtime, pause."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from dais.db import Database
from dais.jobs import schedules
from dais.jobs.models import Job, Schedule, ScheduleRun
from tests.conftest import World


def _setup(world: World) -> dict[str, str]:
    alice = world.user("alice")
    world.workspace("team", alice)
    return alice.headers


def _create(client: TestClient, h: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("name", "nightly")
    body.setdefault(
        "template",
        {
            "job": {
                "kind": "sleep",
                "name": "load ${ds}",
                "spec": {"seconds": 0, "output": "part=${ds-1d|%Y%m%d}"},
            }
        },
    )
    r = client.post("/api/v1/workspaces/team/schedules", headers=h, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_cron_is_read_in_its_time_zone_and_next_runs_are_shown(client: TestClient, world: World) -> None:
    h = _setup(world)
    s = _create(client, h, cron="0 3 * * *", timezone="Europe/Paris")
    runs = [datetime.fromisoformat(t) for t in s["next_runs"]]
    assert len(runs) == 5
    # 03:00 in Paris is 02:00 UTC in winter (CET) and 01:00 UTC in summer (CEST).
    assert all(r.astimezone(UTC).hour in (1, 2) for r in runs)
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(runs))


def test_bad_timing_and_unknown_variables_are_refused(client: TestClient, world: World) -> None:
    h = _setup(world)
    url = "/api/v1/workspaces/team/schedules"
    job = {"job": {"kind": "noop"}}
    bad_cron = client.post(url, headers=h, json={"name": "a", "cron": "61 * * * *", "template": job})
    assert bad_cron.status_code == 422
    assert "cron" in bad_cron.json()["detail"]
    bad_zone = client.post(
        url, headers=h, json={"name": "a", "cron": "0 * * * *", "timezone": "Mars/Olympus", "template": job}
    )
    assert bad_zone.status_code == 422
    both = client.post(
        url, headers=h, json={"name": "a", "cron": "0 * * * *", "interval_s": 60, "template": job}
    )
    assert both.status_code == 422
    unknown = client.post(
        url,
        headers=h,
        json={"name": "a", "interval_s": 60, "template": {"job": {"kind": "noop", "name": "x ${nope}"}}},
    )
    assert unknown.status_code == 422
    assert "${nope}" in unknown.json()["detail"]


def test_a_due_run_fires_once_with_its_variables_resolved(
    client: TestClient, world: World, db: Database
) -> None:
    h = _setup(world)
    s = _create(
        client,
        h,
        interval_s=3600,
        variables={"table": "events"},
        template={
            "job": {
                "kind": "sleep",
                "name": "${table} ${ds}",
                "spec": {"seconds": 0, "output": "part=${ds-1d|%Y%m%d}"},
            }
        },
    )
    due = datetime.fromisoformat(s["next_run_at"])
    with db.session() as session:
        assert schedules.fire_due(session, now=due + timedelta(seconds=1)) == 1
    with db.session() as session:
        assert schedules.fire_due(session, now=due + timedelta(seconds=2)) == 0
        job = session.scalar(select(Job))
        assert job is not None
        assert job.name == f"events {due:%Y-%m-%d}"
        assert job.spec["output"] == f"part={due - timedelta(days=1):%Y%m%d}"
    runs = client.get(f"/api/v1/workspaces/team/schedules/{s['id']}/runs", headers=h).json()["items"]
    assert [r["job_id"] for r in runs] == [job.id]


def test_the_same_run_never_fires_twice_even_if_two_schedulers_race(
    client: TestClient, world: World, db: Database
) -> None:
    h = _setup(world)
    s = _create(client, h, interval_s=600)
    due = datetime.fromisoformat(s["next_run_at"])
    with db.session() as session:
        schedules.fire_due(session, now=due)
    # A second scheduler that still believes the run is due (stale state) fires nothing.
    with db.session() as session:
        sched = session.get(Schedule, s["id"])
        assert sched is not None
        sched.next_run_at = due
    with db.session() as session:
        assert schedules.fire_due(session, now=due) == 0
    with db.session(write=False) as session:
        assert len(list(session.scalars(select(ScheduleRun)))) == 1
        assert len(list(session.scalars(select(Job)))) == 1


def test_catchup_all_fires_every_missed_run_and_skip_only_the_latest(
    client: TestClient, world: World, db: Database
) -> None:
    h = _setup(world)
    every = _create(client, h, name="every", interval_s=60, catchup="all")
    latest = _create(client, h, name="latest", interval_s=60, catchup="skip")
    start = datetime.fromisoformat(every["next_run_at"])
    back = datetime.fromisoformat(latest["next_run_at"])
    # The scheduler was down for five intervals and a bit.
    now = max(start, back) + timedelta(seconds=5 * 60 + 30)
    with db.session() as session:
        schedules.fire_due(session, now=now)
    with db.session(write=False) as session:
        by = {s.name: s.id for s in session.scalars(select(Schedule))}
        runs = {
            name: sorted(
                r.logical_date
                for r in session.scalars(select(ScheduleRun).where(ScheduleRun.schedule_id == sid))
            )
            for name, sid in by.items()
        }
        nxt = {s.name: s.next_run_at for s in session.scalars(select(Schedule))}
    assert len(runs["every"]) == 6
    assert all(b - a == timedelta(seconds=60) for a, b in zip(runs["every"], runs["every"][1:], strict=False))
    assert len(runs["latest"]) == 1
    assert runs["latest"][0] > now - timedelta(seconds=60)
    assert all(t is not None and t > now for t in nxt.values())


def test_paused_schedules_do_not_fire_and_resume_from_now(
    client: TestClient, world: World, db: Database
) -> None:
    h = _setup(world)
    s = _create(client, h, interval_s=60)
    paused = client.post(f"/api/v1/workspaces/team/schedules/{s['id']}/pause", headers=h).json()
    assert paused["paused"] is True
    assert paused["next_runs"] == []
    with db.session() as session:
        assert schedules.fire_due(session, now=datetime.now(UTC) + timedelta(hours=2)) == 0
    resumed = client.post(f"/api/v1/workspaces/team/schedules/{s['id']}/resume", headers=h).json()
    assert datetime.fromisoformat(resumed["next_run_at"]) > datetime.now(UTC)


def test_trigger_fires_now_and_a_dag_template_works(client: TestClient, world: World) -> None:
    h = _setup(world)
    dag = {
        "dag": {
            "name": "etl ${ds}",
            "nodes": [{"node": "a", "kind": "noop"}, {"node": "b", "kind": "noop", "after": ["a"]}],
        }
    }
    s = _create(client, h, name="etl", cron="0 0 1 1 *", template=dag)
    run = client.post(f"/api/v1/workspaces/team/schedules/{s['id']}/trigger", headers=h).json()
    assert run["dag_id"] is not None
    assert run["error"] is None
    graph = client.get(f"/api/v1/workspaces/team/dags/{run['dag_id']}", headers=h).json()
    assert len(graph["jobs"]) == 2


def test_a_run_that_cannot_submit_records_why(client: TestClient, world: World, db: Database) -> None:
    h = _setup(world)
    s = _create(
        client,
        h,
        interval_s=60,
        template={"job": {"kind": "sleep", "spec": {"seconds": "${when}"}}},
        variables={"when": "soon"},
    )
    due = datetime.fromisoformat(s["next_run_at"])
    with db.session() as session:
        schedules.fire_due(session, now=due)
    body = client.get(f"/api/v1/workspaces/team/schedules/{s['id']}", headers=h).json()
    assert "could not submit" in body["last_error"]
    assert "seconds" in body["last_error"]


def test_viewers_cannot_change_schedules_and_strangers_cannot_see_them(
    client: TestClient, world: World
) -> None:
    h = _setup(world)
    viewer = world.user("vera")
    stranger = world.user("sam")
    with_member = world.workspace("other", stranger)
    assert with_member
    s = _create(client, h, interval_s=60)
    from dais.tenancy.models import Membership

    with world.db.session() as session:
        team_id = session.scalar(select(Schedule.workspace_id))
        session.add(Membership(workspace_id=team_id, user_id=viewer.user_id, role="viewer"))
    url = f"/api/v1/workspaces/team/schedules/{s['id']}"
    assert client.get(url, headers=viewer.headers).status_code == 200
    assert client.post(f"{url}/pause", headers=viewer.headers).status_code == 403
    assert client.get(url, headers=stranger.headers).status_code == 404
