"""The audit log: every mutation, with who, what, when and from where."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient

from tests.conftest import Actor, World

UA = "dais-tests/1.0"


def test_every_mutation_is_audited_with_actor_ip_user_agent_and_request_id(
    client: TestClient, world: World, admin: Actor
) -> None:
    world.user("bob")
    world.user("carol", password="carol-password")
    counter = itertools.count()
    sent: dict[str, str] = {}  # request id -> expected action

    def call(method: str, path: str, action: str, actor: Actor | None = admin, **kwargs: object):  # type: ignore[no-untyped-def]
        rid = f"req-{next(counter)}-{action}"
        headers = {"X-Request-ID": rid, "User-Agent": UA} | (actor.headers if actor else {})
        headers |= kwargs.pop("headers", {})  # type: ignore[arg-type]
        r = client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        assert r.status_code < 300, (method, path, r.text)
        assert r.headers["x-request-id"] == rid
        sent[rid] = action
        return r

    call("POST", "/api/v1/users", "user.create", json={"username": "dave", "password": "dave-password"})
    call("PATCH", "/api/v1/users/dave", "user.update", json={"display_name": "Dave"})
    call("POST", "/api/v1/workspaces", "workspace.create", json={"slug": "team-a"})
    call("PATCH", "/api/v1/workspaces/team-a", "workspace.update", json={"description": "ours"})
    call("POST", "/api/v1/workspaces/team-a/members", "member.add", json={"username": "bob"})
    call("PATCH", "/api/v1/workspaces/team-a/members/bob", "member.update", json={"role": "editor"})
    call("DELETE", "/api/v1/workspaces/team-a/members/bob", "member.remove")
    call("PATCH", "/api/v1/workspaces/team-a/quota", "quota.update", json={"max_gpus": 1})
    token = call("POST", "/api/v1/tokens", "token.create", json={"name": "ci"}).json()
    call("DELETE", f"/api/v1/tokens/{token['id']}", "token.revoke")
    call("PUT", "/api/v1/workspaces/team-a/artifacts/m.bin", "artifact.upload", content=b"1")
    call("DELETE", "/api/v1/workspaces/team-a/artifacts/m.bin", "artifact.delete")
    link = call("POST", "/api/v1/auth/login-links", "auth.login_link").json()["url"]
    follow = client.get(
        link[link.index("/login/link/") :],
        headers={"X-Request-ID": "req-link", "User-Agent": UA},
        follow_redirects=False,
    )
    assert follow.status_code == 303
    assert follow.headers["location"] == "/"
    sent["req-link"] = "auth.login"
    call(
        "POST",
        "/api/v1/auth/login",
        "auth.login",
        actor=None,
        json={"username": "carol", "password": "carol-password"},
    )
    call(
        "POST",
        "/api/v1/auth/logout",
        "auth.logout",
        actor=None,
        headers={"X-CSRF-Token": client.cookies["dais_csrf"]},
    )
    call("DELETE", "/api/v1/workspaces/team-a", "workspace.delete")

    events = client.get("/api/v1/audit", params={"limit": 500}, headers=admin.headers).json()["items"]
    by_rid = {e["request_id"]: e for e in events if e["request_id"]}
    for rid, action in sent.items():
        assert rid in by_rid, f"{action} was not audited with its request id"
        event = by_rid[rid]
        assert event["action"] == action
        assert event["ip"] == "testclient"
        assert event["user_agent"] == UA
        assert event["at"]
        expected_actor = "carol" if rid.endswith(("auth.login", "auth.logout")) else admin.username
        assert event["actor_name"] == expected_actor, event
        assert event["actor_id"], event


def test_workspace_audit_shows_only_that_workspace(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    bob = world.user("bob")
    for slug, who in (("team-a", alice), ("team-b", bob)):
        assert client.post("/api/v1/workspaces", json={"slug": slug}, headers=who.headers).status_code == 201
    client.patch("/api/v1/workspaces/team-b", json={"name": "B"}, headers=bob.headers)
    events = client.get("/api/v1/workspaces/team-a/audit", headers=alice.headers).json()["items"]
    assert [e["action"] for e in events] == ["workspace.create"]
    assert events[0]["actor_name"] == "alice"
    events = client.get("/api/v1/workspaces/team-b/audit", headers=bob.headers).json()["items"]
    assert [e["action"] for e in events] == ["workspace.update", "workspace.create"]  # newest first


def test_audit_filters_by_action_and_actor(client: TestClient, world: World, admin: Actor) -> None:
    alice = world.user("alice")
    world.workspace("team-a", alice)
    client.post("/api/v1/workspaces/team-a/members", json={"username": admin.username}, headers=alice.headers)
    client.patch("/api/v1/workspaces/team-a", json={"name": "A"}, headers=alice.headers)
    r = client.get("/api/v1/workspaces/team-a/audit", params={"action": "member."}, headers=alice.headers)
    assert [e["action"] for e in r.json()["items"]] == ["member.add"]
    r = client.get("/api/v1/audit", params={"actor": "alice", "workspace": "team-a"}, headers=admin.headers)
    assert {e["action"] for e in r.json()["items"]} == {"member.add", "workspace.update"}
    r = client.get("/api/v1/audit", params={"workspace": "nope"}, headers=admin.headers)
    assert r.status_code == 404


def test_failed_mutations_leave_no_audit_event(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    world.workspace("team-a", alice)
    r = client.post("/api/v1/workspaces/team-a/members", json={"username": "ghost"}, headers=alice.headers)
    assert r.status_code == 404
    actions = [
        e["action"]
        for e in client.get("/api/v1/workspaces/team-a/audit", headers=alice.headers).json()["items"]
    ]
    assert "member.add" not in actions
