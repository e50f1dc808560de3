"""Notifications end to end: jobs finish, rules match, real SMTP and HTTP receivers get the messages."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dais.core.settings import Settings
from dais.db import Database, utcnow
from dais.jobs import queue
from dais.jobs.notify.models import NotificationDelivery
from dais.jobs.notify.service import check_long_running, deliver_due
from dais.storage import ArtifactStore
from tests.conftest import Actor, World
from tests.jobs.conftest import running_worker, wait_for
from tests.jobs.receivers import smtp_server, webhook_receiver

BASE = "/api/v1/workspaces/team/notifications"


def _team(world: World) -> Actor:
    alice = world.user("alice")
    world.workspace("team", alice)
    return alice


def _channel(
    client: TestClient, who: Actor, name: str, kind: str, config: dict[str, Any], **secrets: str
) -> Any:
    r = client.post(
        f"{BASE}/channels",
        headers=who.headers,
        json={"name": name, "kind": kind, "config": config, "secrets": secrets},
    )
    assert r.status_code == 201, r.text
    return r.json()


def _rule(client: TestClient, who: Actor, **body: Any) -> Any:
    r = client.post(f"{BASE}/rules", headers=who.headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _submit(client: TestClient, who: Actor, name: str, kind: str = "noop", **spec: Any) -> str:
    r = client.post(
        "/api/v1/workspaces/team/jobs", headers=who.headers, json={"kind": kind, "name": name, "spec": spec}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _start_all(db: Database, *, now: datetime | None = None) -> dict[str, int]:
    """Claim every queued job as a worker would (the same queue code); job id -> attempt."""
    with db.session() as s:
        claims = queue.claim(s, "test-worker", queue.Capacity(64, 1 << 20, [], 100), now=now)
    return {c.job_id: c.attempt for c in claims}


def _finish(db: Database, job_id: str, attempt: int, *, ok: bool, error: str | None = None) -> None:
    with db.session() as s:
        assert queue.complete(s, job_id, attempt, "test-worker", succeeded=ok, error=error) is not None


def _deliveries(client: TestClient, who: Actor, **params: Any) -> list[dict[str, Any]]:
    r = client.get(f"{BASE}/deliveries", headers=who.headers, params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


@pytest.mark.slow
def test_failed_job_sends_an_email_with_its_name_state_and_error(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = _team(world)
    with smtp_server(username="dais", password="smtp-pass-123") as box:
        ch = _channel(
            client,
            alice,
            "ops-mail",
            "email",
            {
                "host": "127.0.0.1",
                "port": box.port,
                "security": "none",
                "username": "dais",
                "from_address": "dais@example.org",
                "to": ["ops@example.org", "ml@example.org"],
            },
            password="smtp-pass-123",
        )
        _rule(client, alice, channel=ch["name"], events=["failed"])
        with running_worker(settings, db, store):
            job_id = _submit(client, alice, "nightly-train", "fail", message="loss went NaN at step 12")
            job = wait_for(db, job_id)
        assert job.state == "failed"
        assert deliver_due(db, settings) == 1
        [mail] = box.wait(1)
    assert box.logins == [("dais", "smtp-pass-123")]
    assert box.envelopes[0] == ("dais@example.org", ["ops@example.org", "ml@example.org"])
    assert "nightly-train" in mail["Subject"]
    assert "failed" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "nightly-train" in body
    assert "State:     failed" in body
    assert "loss went NaN at step 12" in body
    assert job_id in body
    [d] = _deliveries(client, alice)
    assert d["state"] == "sent"
    assert d["event"] == "failed"
    assert d["attempts"] == 1
    assert d["tries"][0]["ok"] is True


def test_succeeded_job_posts_a_webhook_whose_signature_verifies(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice = _team(world)
    with webhook_receiver() as hook:
        ch = _channel(client, alice, "hook", "webhook", {"url": hook.url, "timeout_s": 5})
        secret = ch["generated_secrets"]["secret"]
        assert ch["secrets"] == {"has_secret": True}
        _rule(client, alice, channel=ch["id"], events=["succeeded", "failed"])
        job_id = _submit(client, alice, "etl")
        _finish(db, job_id, _start_all(db)[job_id], ok=True)
        assert deliver_due(db, settings) == 1
        [req] = hook.wait(1)
    assert req.signature_ok(secret)
    assert not req.signature_ok(secret + "x")
    assert abs(int(req.headers["x-dais-timestamp"]) - time.time()) < 60
    assert req.headers["x-dais-event"] == "succeeded"
    body = req.json()
    assert body["event"] == "succeeded"
    assert body["job"]["id"] == job_id
    assert body["job"]["name"] == "etl"
    assert body["job"]["state"] == "succeeded"
    assert body["workspace"]["slug"] == "team"
    assert req.headers["x-dais-delivery"] == body["delivery_id"]


def test_webhook_answering_500_twice_gets_three_tries_with_growing_delays(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice = _team(world)
    with webhook_receiver([500, 500]) as hook:
        ch = _channel(client, alice, "flaky", "webhook", {"url": hook.url})
        _rule(client, alice, channel="flaky", events=["succeeded"])
        job_id = _submit(client, alice, "etl")
        _finish(db, job_id, _start_all(db)[job_id], ok=True)
        t0 = utcnow()
        tried = [deliver_due(db, settings, now=t0 + timedelta(seconds=s)) for s in (0, 5, 10, 25, 30, 100)]
        assert tried == [1, 0, 1, 0, 1, 0]
        assert len(hook.received) == 3
    [d] = _deliveries(client, alice, job_id=job_id)
    assert d["channel_id"] == ch["id"]
    assert d["state"] == "sent"
    assert d["attempts"] == 3
    assert [t["ok"] for t in d["tries"]] == [False, False, True]
    assert "HTTP 500" in d["tries"][0]["error"]
    starts = [datetime.fromisoformat(t["started_at"]) for t in d["tries"]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert gaps == [10.0, 20.0]
    # The same delivery id on every try, so receivers can drop duplicates.
    assert len({r.headers["x-dais-delivery"] for r in hook.received}) == 1


@pytest.mark.slow
def test_dead_receiver_ends_failed_after_max_attempts_without_blocking_others(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice = _team(world)
    with webhook_receiver(delay_s=3) as dead, webhook_receiver() as good:
        _channel(client, alice, "dead", "webhook", {"url": dead.url, "timeout_s": 0.3})
        _channel(client, alice, "good", "webhook", {"url": good.url})
        _rule(client, alice, channel="dead", events=["succeeded"])
        _rule(client, alice, channel="good", events=["succeeded"])
        job_id = _submit(client, alice, "etl")
        _finish(db, job_id, _start_all(db)[job_id], ok=True)
        now = utcnow()
        t = time.monotonic()
        assert deliver_due(db, settings, now=now) == 2
        assert time.monotonic() - t < 2.5  # bounded by the dead one's timeout, not its 3 s answer
        assert len(good.received) == 1
        for _ in range(10):
            now += timedelta(hours=1)
            deliver_due(db, settings, now=now)
    by_channel = {d["payload"]["rule"]["name"]: d for d in _deliveries(client, alice)}
    dead_d, good_d = by_channel["succeeded -> dead"], by_channel["succeeded -> good"]
    assert good_d["state"] == "sent"
    assert good_d["attempts"] == 1
    assert dead_d["state"] == "failed"
    assert dead_d["attempts"] == 5
    assert dead_d["next_try_at"] is None
    assert "did not answer within 0.3 s" in dead_d["last_error"]
    assert len(dead.received) == 5
    assert _deliveries(client, alice, state="failed")[0]["id"] == dead_d["id"]


def test_running_longer_than_fires_once_per_job_and_rule(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice = _team(world)
    with webhook_receiver() as hook:
        _channel(client, alice, "hook", "webhook", {"url": hook.url})
        _rule(client, alice, channel="hook", events=["running_longer"], running_longer_than_s=3600)
        long_id = _submit(client, alice, "train")
        t0 = utcnow()
        attempts = _start_all(db, now=t0)
        short_id = _submit(client, alice, "quick")
        attempts |= _start_all(db, now=t0 + timedelta(minutes=50))
        with db.session() as s:
            assert check_long_running(s, now=t0 + timedelta(minutes=59)) == 0
        with db.session() as s:
            assert check_long_running(s, now=t0 + timedelta(minutes=61)) == 1
        with db.session() as s:
            assert check_long_running(s, now=t0 + timedelta(minutes=90)) == 0
        _finish(db, short_id, attempts[short_id], ok=True)
        with db.session() as s:
            assert check_long_running(s, now=t0 + timedelta(hours=5)) == 0
        assert deliver_due(db, settings, now=t0 + timedelta(hours=5)) == 1
        [req] = hook.wait(1)
    assert req.json()["event"] == "running_longer"
    assert req.json()["job"]["id"] == long_id
    assert req.json()["running_longer_than_s"] == 3600
    [d] = _deliveries(client, alice)
    assert d["event"] == "running_longer"
    assert d["job_id"] == long_id


def test_rule_scoped_to_one_job_or_a_name_pattern_fires_only_for_those(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice = _team(world)
    with smtp_server() as box:
        _channel(
            client,
            alice,
            "mail",
            "email",
            {
                "host": "127.0.0.1",
                "port": box.port,
                "security": "none",
                "from_address": "dais@example.org",
                "to": "ops@example.org",
            },
        )
        first = _submit(client, alice, "etl-a")
        other = _submit(client, alice, "etl-b")
        trained = _submit(client, alice, "train-resnet")
        one = _rule(client, alice, channel="mail", events=["succeeded"], job_id=first)
        pattern = _rule(client, alice, channel="mail", events=["succeeded"], job_name_pattern="train-*")
        for job_id, attempt in _start_all(db).items():
            _finish(db, job_id, attempt, ok=True)
        assert deliver_due(db, settings) == 2
        box.wait(2)
    got = {(d["job_id"], d["rule_id"]) for d in _deliveries(client, alice)}
    assert got == {(first, one["id"]), (trained, pattern["id"])}
    assert other not in {d["job_id"] for d in _deliveries(client, alice)}
    assert _deliveries(client, alice, job_id=other) == []
    assert [d["job_id"] for d in _deliveries(client, alice, rule_id=pattern["id"])] == [trained]


def test_disabled_rule_and_unwanted_event_queue_nothing(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice = _team(world)
    _channel(client, alice, "hook", "webhook", {"url": "http://127.0.0.1:9/unused"})
    _rule(client, alice, channel="hook", events=["failed"])
    _rule(client, alice, channel="hook", events=["succeeded"], enabled=False)
    job_id = _submit(client, alice, "etl")
    _finish(db, job_id, _start_all(db)[job_id], ok=True)
    with db.session() as s:
        assert s.query(NotificationDelivery).count() == 0
    assert deliver_due(db, settings) == 0


def test_cancelled_job_notifies_cancelled_rules(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice = _team(world)
    with webhook_receiver() as hook:
        _channel(client, alice, "hook", "webhook", {"url": hook.url})
        _rule(client, alice, channel="hook", events=["cancelled"])
        job_id = _submit(client, alice, "etl")
        attempt = _start_all(db)[job_id]
        with db.session() as s:
            queue.complete(s, job_id, attempt, "test-worker", succeeded=False, cancelled=True)
        assert deliver_due(db, settings) == 1
        [req] = hook.wait(1)
    assert req.json()["event"] == "cancelled"
