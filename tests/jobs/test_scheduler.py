"""The scheduler's leader lease, and firing across a restart."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from dais.core.settings import Settings
from dais.db import Database
from dais.jobs.models import ScheduleRun
from dais.jobs.scheduler import Scheduler, SchedulerConfig
from tests.conftest import World


def test_only_one_scheduler_leads_and_a_dead_leader_is_replaced(settings: Settings, db: Database) -> None:
    cfg = SchedulerConfig(lease_ttl_s=10)
    a, b = Scheduler(settings, db, cfg), Scheduler(settings, db, cfg)
    now = datetime.now(UTC)
    a.tick(now)
    b.tick(now)
    assert a.leading
    assert not b.leading
    a.tick(now + timedelta(seconds=5))  # renewed
    b.tick(now + timedelta(seconds=12))
    assert not b.leading
    # `a` died: its lease runs out, and `b` takes over.
    b.tick(now + timedelta(seconds=16))
    assert b.leading
    a.tick(now + timedelta(seconds=17))
    assert not a.leading


def test_a_scheduler_down_longer_than_the_interval_fires_each_due_run_once_after_restart(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    r = client.post(
        "/api/v1/workspaces/team/schedules",
        headers=alice.headers,
        json={
            "name": "every-minute",
            "interval_s": 60,
            "catchup": "all",
            "template": {"job": {"kind": "noop", "name": "tick ${ts}"}},
        },
    )
    first_due = datetime.fromisoformat(r.json()["next_run_at"])
    before = Scheduler(settings, db)
    before.tick(first_due + timedelta(seconds=1))  # fires the first run, then "crashes" (never releases)
    after = Scheduler(settings, db, SchedulerConfig(lease_ttl_s=15))
    down_until = first_due + timedelta(minutes=4, seconds=10)
    counts = after.tick(down_until)
    assert counts["fired"] == 4
    assert after.tick(down_until + timedelta(seconds=1)).get("fired", 0) == 0
    with db.session(write=False) as s:
        dates = sorted(r.logical_date for r in s.scalars(select(ScheduleRun)))
    assert dates == [first_due + timedelta(minutes=i) for i in range(5)]


def test_the_scheduler_loop_stops_promptly_and_hands_over_its_lease(settings: Settings, db: Database) -> None:
    sched = Scheduler(settings, db, SchedulerConfig(tick_s=0.05))
    stop = threading.Event()
    thread = threading.Thread(target=sched.run, args=(stop,))
    thread.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while not sched.leading and datetime.now(UTC) < deadline:
            stop.wait(0.05)
        assert sched.leading
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    successor = Scheduler(settings, db)
    successor.tick()
    assert successor.leading
