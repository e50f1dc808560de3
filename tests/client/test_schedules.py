"""Schedules through the SDK against a live server: timing in a time zone, refusals, pause and resume,
trigger (the job shows up through ``client.jobs``), the runs listing, update and delete."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest

from dais import Client
from dais.client import Schedule, ScheduleRun
from dais.core.errors import AlreadyExists, InvalidInput, NotFound
from tests.conftest import Actor, World

LOAD = {
    "kind": "sleep",
    "name": "load ${ds} for ${team}",
    "spec": {"seconds": 0, "output": "${ds-1d|%Y%m%d}"},
}


@pytest.fixture
def alice(world: World) -> Actor:
    alice = world.user("alice")
    world.workspace("team", alice)
    return alice


@pytest.fixture
def client(server_url: str, alice: Actor) -> Iterator[Client]:
    with Client(server_url, alice.token, page_size=2) as c:
        yield c


def test_cron_in_a_time_zone_shows_the_next_five_runs(client: Client) -> None:
    s = client.schedules.create(
        "team", "nightly", cron="0 3 * * *", timezone="Europe/Paris", job=LOAD, variables={"team": "a"}
    )
    assert isinstance(s, Schedule)
    assert (s.cron, s.interval_s, s.timezone, s.catchup, s.paused) == (
        "0 3 * * *",
        None,
        "Europe/Paris",
        "skip",
        False,
    )
    assert {k: s.template["job"][k] for k in LOAD} == LOAD  # the ${variables} are kept as written
    assert s.variables == {"team": "a"}
    assert len(s.next_runs) == 5
    # 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC in summer.
    assert all(t.astimezone(UTC).hour in (1, 2) for t in s.next_runs)
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(s.next_runs))
    by_name = client.schedules.get("team", "nightly")
    assert client.schedules.get("team", s.id).id == by_name.id == s.id
    assert by_name.next_runs == s.next_runs


def test_invalid_cron_and_unknown_variables_come_back_as_the_servers_422(client: Client) -> None:
    with pytest.raises(InvalidInput) as bad_cron:
        client.schedules.create("team", "bad", cron="61 * * * *", job={"kind": "noop"})
    assert "not a valid cron expression" in bad_cron.value.detail
    assert bad_cron.value.extra["http_status"] == 422
    with pytest.raises(InvalidInput) as bad_zone:
        client.schedules.create(
            "team", "bad", cron="0 * * * *", timezone="Mars/Olympus", job={"kind": "noop"}
        )
    assert "Mars/Olympus" in bad_zone.value.detail
    with pytest.raises(InvalidInput) as unknown:
        client.schedules.create("team", "bad", interval_s=60, job={"kind": "noop", "name": "x ${nope}"})
    assert "nope" in unknown.value.detail
    with pytest.raises(InvalidInput):
        client.schedules.create("team", "bad", cron="0 * * * *", interval_s=60, job={"kind": "noop"})
    with pytest.raises(ValueError, match="exactly one of job= and dag="):
        client.schedules.create("team", "bad", interval_s=60)
    assert list(client.schedules.list("team")) == []


def test_pause_stops_the_next_runs_and_resume_brings_them_back(client: Client) -> None:
    client.schedules.create("team", "hourly", interval_s=3600, job={"kind": "noop"})
    paused = client.schedules.pause("team", "hourly")
    assert paused.paused
    assert paused.next_runs == []
    assert client.schedules.get("team", "hourly").paused
    resumed = client.schedules.resume("team", "hourly")
    assert not resumed.paused
    assert len(resumed.next_runs) == 5
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(resumed.next_runs))
    created_paused = client.schedules.create(
        "team", "later", interval_s=60, job={"kind": "noop"}, paused=True
    )
    assert created_paused.paused
    assert created_paused.next_runs == []


def test_trigger_submits_a_job_seen_through_client_jobs_and_listed_in_runs(client: Client) -> None:
    client.schedules.create("team", "nightly", cron="0 3 * * *", job=LOAD, variables={"team": "a"})
    first = client.schedules.trigger("team", "nightly")
    assert isinstance(first, ScheduleRun)
    assert first.error is None
    assert first.job_id is not None
    job = client.jobs.get("team", first.job_id)
    day = first.logical_date.astimezone(UTC)
    assert job.kind == "sleep"
    assert job.name == f"load {day:%Y-%m-%d} for a"
    assert job.spec["output"] == f"{day - timedelta(days=1):%Y%m%d}"
    runs = [client.schedules.trigger("team", "nightly") for _ in range(2)]
    listed = list(client.schedules.runs("team", "nightly"))  # three runs over pages of two
    assert [r.id for r in listed] == [runs[1].id, runs[0].id, first.id]
    assert [r.id for r in client.schedules.runs("team", "nightly", limit=1)] == [runs[1].id]
    assert {j.id for j in client.jobs.list("team")} == {r.job_id for r in listed}
    assert client.schedules.get("team", "nightly").last_run_at is not None


def test_trigger_of_a_dag_template_submits_the_dag(client: Client) -> None:
    nodes: list[dict[str, Any]] = [
        {"node": "extract", "kind": "noop"},
        {"node": "load", "kind": "noop", "after": ["extract"]},
    ]
    client.schedules.create("team", "etl", interval_s=86_400, dag=nodes)
    run = client.schedules.trigger("team", "etl")
    assert run.error is None
    assert run.dag_id is not None
    assert sorted(j.dag_node or "" for j in client.jobs.dag("team", run.dag_id).jobs) == ["extract", "load"]


def test_list_update_and_delete(client: Client) -> None:
    for name in ("c", "a", "b"):
        client.schedules.create("team", name, interval_s=600, job={"kind": "noop"})
    with pytest.raises(AlreadyExists):
        client.schedules.create("team", "a", interval_s=600, job={"kind": "noop"})
    assert [s.name for s in client.schedules.list("team")] == ["a", "b", "c"]
    assert [s.name for s in client.schedules.list("team", sort="-name", limit=2)] == ["c", "b"]
    changed = client.schedules.update(
        "team", "a", cron="30 6 * * 1", timezone="America/New_York", catchup="all", description="weekly"
    )
    assert (changed.cron, changed.interval_s, changed.catchup, changed.description) == (
        "30 6 * * 1",
        None,
        "all",
        "weekly",
    )
    assert all(b - a == timedelta(weeks=1) for a, b in itertools.pairwise(changed.next_runs))
    with pytest.raises(InvalidInput):
        client.schedules.update("team", "a", job={"kind": "noop", "name": "${missing}"})
    client.schedules.delete("team", "a")
    with pytest.raises(NotFound):
        client.schedules.get("team", "a")
    assert [s.name for s in client.schedules.list("team")] == ["b", "c"]
