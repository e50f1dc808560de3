"""The notifications API: channel and rule CRUD, bad input, permissions, secrets kept secret."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dais.core.settings import Settings
from dais.db import Database
from dais.jobs import queue
from dais.jobs.notify.models import NotificationChannel
from dais.jobs.notify.service import deliver_due
from dais.tenancy.models import AuditEvent
from tests.conftest import Actor, World
from tests.jobs.receivers import smtp_server, webhook_receiver

BASE = "/api/v1/workspaces/team/notifications"
MAIL = {"host": "127.0.0.1", "port": 2525, "security": "none", "from_address": "d@x.org", "to": ["o@x.org"]}


def _team(world: World) -> tuple[Actor, Actor]:
    alice = world.user("alice")
    victor = world.user("victor")
    world.workspace("team", alice, members={"victor": "viewer"})
    return alice, victor


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return dict(r.json())


def test_channel_crud_keeps_secrets_write_only(client: TestClient, world: World) -> None:
    alice, _ = _team(world)
    h = alice.headers
    r = client.post(
        f"{BASE}/channels",
        headers=h,
        json={
            "name": "mail",
            "kind": "email",
            "config": {**MAIL, "username": "u"},
            "secrets": {"password": "pw-1"},
        },
    )
    assert r.status_code == 201, r.text
    ch = r.json()
    assert ch["secrets"] == {"has_password": True}
    assert ch["generated_secrets"] == {}
    assert ch["config"]["to"] == ["o@x.org"]
    assert client.get(f"{BASE}/channels/mail", headers=h).json()["id"] == ch["id"]
    r = client.patch(
        f"{BASE}/channels/{ch['id']}", headers=h, json={"config": {"port": 2526}, "name": "mail2"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["config"]["port"] == 2526
    assert r.json()["config"]["host"] == "127.0.0.1"
    assert r.json()["name"] == "mail2"
    r = client.patch(f"{BASE}/channels/mail2", headers=h, json={"secrets": {"password": None}})
    assert r.json()["secrets"] == {}
    listed = client.get(f"{BASE}/channels", headers=h).json()
    assert [c["name"] for c in listed["items"]] == ["mail2"]
    assert client.delete(f"{BASE}/channels/mail2", headers=h).status_code == 204
    _problem(client.get(f"{BASE}/channels/mail2", headers=h), 404)


def test_duplicate_channel_name_is_a_conflict(client: TestClient, world: World) -> None:
    alice, _ = _team(world)
    body = {"name": "mail", "kind": "email", "config": MAIL}
    assert client.post(f"{BASE}/channels", headers=alice.headers, json=body).status_code == 201
    assert (
        "already exists"
        in _problem(client.post(f"{BASE}/channels", headers=alice.headers, json=body), 409)["detail"]
    )


def test_bad_channel_input_is_a_clear_422(client: TestClient, world: World) -> None:
    alice, _ = _team(world)
    h = alice.headers
    p = _problem(client.post(f"{BASE}/channels", headers=h, json={"name": "x", "kind": "pager"}), 422)
    assert "known kinds: email, webhook" in p["detail"]
    p = _problem(
        client.post(
            f"{BASE}/channels", headers=h, json={"name": "x", "kind": "email", "config": {"port": 25}}
        ),
        422,
    )
    assert ["body", "config", "host"] in [e["loc"] for e in p["errors"]]
    p = _problem(
        client.post(
            f"{BASE}/channels",
            headers=h,
            json={"name": "x", "kind": "email", "config": {**MAIL, "to": ["nope"]}},
        ),
        422,
    )
    assert "config.to" in p["detail"]
    p = _problem(
        client.post(
            f"{BASE}/channels", headers=h, json={"name": "x", "kind": "webhook", "config": {"url": "ftp://x"}}
        ),
        422,
    )
    assert ["body", "config", "url"] in [e["loc"] for e in p["errors"]]
    p = _problem(
        client.post(
            f"{BASE}/channels",
            headers=h,
            json={
                "name": "x",
                "kind": "webhook",
                "config": {"url": "http://h/"},
                "secrets": {"token": "abc"},
            },
        ),
        422,
    )
    assert ["body", "secrets", "token"] in [e["loc"] for e in p["errors"]]
    p = _problem(
        client.post(
            f"{BASE}/channels",
            headers=h,
            json={
                "name": "x",
                "kind": "webhook",
                "config": {"url": "http://h/"},
                "secrets": {"secret": "Qx9-tiny"},
            },
        ),
        422,
    )
    assert "Qx9-tiny" not in json.dumps(p)  # a rejected secret is not echoed back


def test_bad_rule_input_is_a_clear_4xx(client: TestClient, world: World) -> None:
    alice, _ = _team(world)
    h = alice.headers
    client.post(f"{BASE}/channels", headers=h, json={"name": "mail", "kind": "email", "config": MAIL})
    p = _problem(
        client.post(f"{BASE}/rules", headers=h, json={"channel": "mail", "events": ["exploded"]}), 422
    )
    assert p["errors"][0]["loc"][:2] == ["body", "events"]
    p = _problem(client.post(f"{BASE}/rules", headers=h, json={"channel": "mail", "events": []}), 422)
    p = _problem(
        client.post(f"{BASE}/rules", headers=h, json={"channel": "mail", "events": ["running_longer"]}), 422
    )
    assert "running_longer_than_s" in p["detail"]
    p = _problem(
        client.post(
            f"{BASE}/rules",
            headers=h,
            json={"channel": "mail", "events": ["failed"], "running_longer_than_s": 60},
        ),
        422,
    )
    p = _problem(
        client.post(
            f"{BASE}/rules",
            headers=h,
            json={"channel": "mail", "events": ["failed"], "dag_id": "d", "job_name_pattern": "x*"},
        ),
        422,
    )
    assert "at most one scope" in p["detail"]
    p = _problem(client.post(f"{BASE}/rules", headers=h, json={"channel": "nope", "events": ["failed"]}), 404)
    assert p["errors"][0]["loc"] == ["body", "channel"]
    _problem(
        client.post(
            f"{BASE}/rules", headers=h, json={"channel": "mail", "events": ["failed"], "job_id": "x"}
        ),
        404,
    )
    _problem(client.get(f"{BASE}/deliveries", headers=h, params={"state": "lost"}), 422)
    _problem(client.get(f"{BASE}/deliveries", headers=h, params={"cursor": "garbage!"}), 422)


def test_rule_crud(client: TestClient, world: World) -> None:
    alice, victor = _team(world)
    h = alice.headers
    client.post(f"{BASE}/channels", headers=h, json={"name": "mail", "kind": "email", "config": MAIL})
    r = client.post(
        f"{BASE}/rules",
        headers=h,
        json={
            "channel": "mail",
            "events": ["failed", "running_longer", "failed"],
            "running_longer_than_s": 600,
        },
    )
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["events"] == ["failed", "running_longer"]
    assert rule["name"] == "failed, running_longer -> mail"
    r = client.patch(
        f"{BASE}/rules/{rule['id']}", headers=h, json={"enabled": False, "events": ["succeeded"]}
    )
    assert r.status_code == 422  # still has a threshold without running_longer
    r = client.patch(
        f"{BASE}/rules/{rule['id']}",
        headers=h,
        json={"enabled": False, "events": ["succeeded"], "running_longer_than_s": None},
    )
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False
    assert r.json()["running_longer_than_s"] is None
    assert [x["id"] for x in client.get(f"{BASE}/rules", headers=victor.headers).json()["items"]] == [
        rule["id"]
    ]
    assert (
        client.get(f"{BASE}/rules", headers=h, params={"channel": "mail"}).json()["items"][0]["id"]
        == rule["id"]
    )
    assert client.delete(f"{BASE}/rules/{rule['id']}", headers=h).status_code == 204
    assert client.get(f"{BASE}/rules", headers=h).json()["items"] == []


def test_viewer_reads_but_cannot_manage(client: TestClient, world: World) -> None:
    alice, victor = _team(world)
    client.post(
        f"{BASE}/channels", headers=alice.headers, json={"name": "mail", "kind": "email", "config": MAIL}
    )
    assert client.get(f"{BASE}/channels", headers=victor.headers).status_code == 200
    assert client.get(f"{BASE}/deliveries", headers=victor.headers).status_code == 200
    body = {"name": "m2", "kind": "email", "config": MAIL}
    _problem(client.post(f"{BASE}/channels", headers=victor.headers, json=body), 403)
    _problem(
        client.post(f"{BASE}/rules", headers=victor.headers, json={"channel": "mail", "events": ["failed"]}),
        403,
    )
    _problem(client.post(f"{BASE}/channels/mail/test", headers=victor.headers), 403)
    _problem(client.delete(f"{BASE}/channels/mail", headers=victor.headers), 403)


def test_other_workspaces_channels_rules_and_jobs_are_404(client: TestClient, world: World) -> None:
    alice, _ = _team(world)
    bob = world.user("bob")
    world.workspace("other", bob)
    theirs = client.post(
        "/api/v1/workspaces/other/notifications/channels",
        headers=bob.headers,
        json={"name": "mail", "kind": "email", "config": MAIL},
    ).json()
    their_job = client.post(
        "/api/v1/workspaces/other/jobs", headers=bob.headers, json={"kind": "noop"}
    ).json()
    their_rule = client.post(
        "/api/v1/workspaces/other/notifications/rules",
        headers=bob.headers,
        json={"channel": "mail", "events": ["failed"]},
    ).json()
    h = alice.headers
    _problem(client.get(f"{BASE}/channels/{theirs['id']}", headers=h), 404)
    _problem(client.post(f"{BASE}/channels/{theirs['id']}/test", headers=h), 404)
    _problem(
        client.post(f"{BASE}/rules", headers=h, json={"channel": theirs["id"], "events": ["failed"]}), 404
    )
    client.post(f"{BASE}/channels", headers=h, json={"name": "mine", "kind": "email", "config": MAIL})
    _problem(
        client.post(
            f"{BASE}/rules",
            headers=h,
            json={"channel": "mine", "events": ["failed"], "job_id": their_job["id"]},
        ),
        404,
    )
    _problem(client.get(f"{BASE}/rules/{their_rule['id']}", headers=h), 404)
    _problem(client.delete(f"{BASE}/rules/{their_rule['id']}", headers=h), 404)
    _problem(client.get("/api/v1/workspaces/other/notifications/channels", headers=h), 404)


def test_testing_a_channel_reports_the_destinations_error(client: TestClient, world: World) -> None:
    alice, _ = _team(world)
    h = alice.headers
    with webhook_receiver([503], reply="down for maintenance") as hook:
        client.post(
            f"{BASE}/channels",
            headers=h,
            json={"name": "hook", "kind": "webhook", "config": {"url": hook.url}},
        )
        bad = client.post(f"{BASE}/channels/hook/test", headers=h)
        good = client.post(f"{BASE}/channels/hook/test", headers=h)
        hook.wait(2)
    assert bad.status_code == 200, bad.text
    assert bad.json()["ok"] is False
    assert "HTTP 503" in bad.json()["error"]
    assert "down for maintenance" in bad.json()["error"]
    assert good.json() | {"duration_ms": 0} == {
        "ok": True,
        "error": None,
        "duration_ms": 0,
        "delivery_id": good.json()["delivery_id"],
    }
    log = client.get(f"{BASE}/deliveries", headers=h, params={"channel": "hook"}).json()["items"]
    assert [(d["event"], d["state"]) for d in log] == [("test", "sent"), ("test", "failed")]
    assert hook.received[0].json()["event"] == "test"


def test_testing_an_unreachable_smtp_server_says_so(client: TestClient, world: World) -> None:
    alice, _ = _team(world)
    with smtp_server() as box:
        port = box.port
    client.post(
        f"{BASE}/channels",
        headers=alice.headers,
        json={"name": "mail", "kind": "email", "config": {**MAIL, "port": port, "timeout_s": 2}},
    )
    r = client.post(f"{BASE}/channels/mail/test", headers=alice.headers)
    assert r.json()["ok"] is False
    assert f"127.0.0.1:{port}" in r.json()["error"]


def test_deliveries_are_paginated_newest_first(
    client: TestClient, world: World, settings: Settings, db: Database
) -> None:
    alice, _ = _team(world)
    h = alice.headers
    client.post(
        f"{BASE}/channels",
        headers=h,
        json={"name": "hook", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/"}},
    )
    client.post(f"{BASE}/rules", headers=h, json={"channel": "hook", "events": ["succeeded"]})
    ids = [
        client.post("/api/v1/workspaces/team/jobs", headers=h, json={"kind": "noop"}).json()["id"]
        for _ in range(5)
    ]
    with db.session() as s:
        claims = queue.claim(s, "w", queue.Capacity(64, 1 << 20, [], 100))
    for c in claims:
        with db.session() as s:
            queue.complete(s, c.job_id, c.attempt, "w", succeeded=True)
    seen: list[str] = []
    cursor = None
    while True:
        r = client.get(f"{BASE}/deliveries", headers=h, params={"limit": 2, "cursor": cursor}).json()
        seen += [d["job_id"] for d in r["items"]]
        cursor = r["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    assert len(client.get(f"{BASE}/deliveries", headers=h, params={"state": "pending"}).json()["items"]) == 5
    assert client.get(f"{BASE}/deliveries", headers=h, params={"state": "sent"}).json()["items"] == []


@pytest.mark.slow
def test_secrets_never_appear_in_replies_audit_or_logs(
    client: TestClient, world: World, settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    alice, victor = _team(world)
    h = alice.headers
    password, signing, bearer = "smtp-pw-Zq81xx", "whsec-signing-Lm55-abcdefgh", "Bearer tok-Hh77-secret"
    replies: list[str] = []
    caplog.set_level(logging.DEBUG)
    with smtp_server(username="dais", password=password) as box, webhook_receiver([500]) as hook:
        for body in (
            {
                "name": "mail",
                "kind": "email",
                "config": {**MAIL, "port": box.port, "username": "dais"},
                "secrets": {"password": password},
            },
            {
                "name": "hook",
                "kind": "webhook",
                "config": {"url": hook.url},
                "secrets": {"secret": signing, "authorization": bearer},
            },
        ):
            r = client.post(f"{BASE}/channels", headers=h, json=body)
            assert r.status_code == 201, r.text
            replies.append(r.text)
        replies.append(
            client.patch(f"{BASE}/channels/mail", headers=h, json={"secrets": {"password": password}}).text
        )
        for name in ("mail", "hook"):
            replies.append(
                client.post(f"{BASE}/rules", headers=h, json={"channel": name, "events": ["succeeded"]}).text
            )
            replies.append(client.post(f"{BASE}/channels/{name}/test", headers=h).text)
            replies.append(client.get(f"{BASE}/channels/{name}", headers=victor.headers).text)
        replies.append(client.get(f"{BASE}/channels", headers=h).text)
        job = client.post("/api/v1/workspaces/team/jobs", headers=h, json={"kind": "noop"}).json()
        with db.session() as s:
            [c] = queue.claim(s, "w", queue.Capacity(64, 1 << 20, [], 100))
        with db.session() as s:
            queue.complete(s, c.job_id, c.attempt, "w", succeeded=True)
        deliver_due(db, settings)
        replies.append(client.get(f"{BASE}/deliveries", headers=h).text)
        replies.append(client.get("/api/v1/workspaces/team/audit", headers=h).text)
        replies.append(client.get("/api/v1/openapi.json").text)
    assert box.logins  # the password did reach the server
    assert all(pw == password for _, pw in box.logins)
    assert hook.received[-1].signature_ok(signing)
    assert hook.received[-1].headers["authorization"] == bearer
    assert job["id"] in replies[-3]
    with db.session(write=False) as s:
        audit = json.dumps([e.details for e in s.scalars(select(AuditEvent))])
        stored = [c.secrets_encrypted or "" for c in s.scalars(select(NotificationChannel))]
    assert "notify.channel.create" in replies[-2]
    for secret in (password, signing, bearer, "tok-Hh77"):
        for reply in replies:
            assert secret not in reply
        assert secret not in audit
        assert secret not in caplog.text
        assert all(secret not in blob for blob in stored)
