"""Authentication: passwords, API tokens (Bearer and Basic), scopes, expiry, revocation."""

from __future__ import annotations

import base64
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from dais.db import Database, utcnow
from dais.tenancy.models import ApiToken, AuditEvent
from tests.conftest import World

PROBLEM = "application/problem+json"


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def assert_401(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == PROBLEM
    assert "Bearer" in r.headers["www-authenticate"]
    assert "Basic" in r.headers["www-authenticate"]
    assert r.json()["code"] == "unauthenticated"


def test_no_credentials_get_401_problem(client: TestClient) -> None:
    assert_401(client.get("/api/v1/me"))


def test_wrong_password_gets_401(client: TestClient, world: World) -> None:
    world.user("alice", password="right-password")
    r = client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong-password"})
    assert_401(r)
    assert "password" in r.json()["detail"]
    assert_401(client.get("/api/v1/me", headers=basic("alice", "wrong-password")))


def test_unknown_user_gets_the_same_401_as_a_wrong_password(client: TestClient, world: World) -> None:
    world.user("alice", password="right-password")
    wrong = client.post("/api/v1/auth/login", json={"username": "alice", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope-nope"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]


def test_garbage_bearer_token_gets_401(client: TestClient) -> None:
    assert_401(client.get("/api/v1/me", headers={"Authorization": "Bearer dais_not-a-real-token"}))
    assert_401(client.get("/api/v1/me", headers={"Authorization": "Token abc"}))
    assert_401(client.get("/api/v1/me", headers={"Authorization": "Basic %%%not-base64"}))


def test_bearer_token_identifies_the_user(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    r = client.get("/api/v1/me", headers=alice.headers)
    assert r.status_code == 200
    assert r.json()["user"]["username"] == "alice"
    assert r.json()["auth"] == "token"


def test_expired_token_gets_401(client: TestClient, world: World, db: Database) -> None:
    alice = world.user("alice")
    secret = world.token(alice, days=1)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    with db.session() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.name == "extra")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert_401(r)
    assert "expired" in r.json()["detail"]


def test_revoked_token_stops_working_at_once(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    extra = world.token(alice)
    headers = {"Authorization": f"Bearer {extra}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    tokens = client.get("/api/v1/tokens", headers=alice.headers).json()["items"]
    (victim,) = [t for t in tokens if t["name"] == "extra"]
    r = client.delete(f"/api/v1/tokens/{victim['id']}", headers=alice.headers)
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None
    r = client.get("/api/v1/me", headers=headers)
    assert_401(r)
    assert "revoked" in r.json()["detail"]
    assert_401(client.get("/api/v1/me", headers=basic("alice", extra)))
    # The other token of the same user still works.
    assert client.get("/api/v1/me", headers=alice.headers).status_code == 200


def test_user_cannot_revoke_someone_elses_token(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    bob = world.user("bob")
    (bobs,) = client.get("/api/v1/tokens", headers=bob.headers).json()["items"]
    assert client.delete(f"/api/v1/tokens/{bobs['id']}", headers=alice.headers).status_code == 404
    assert client.get("/api/v1/me", headers=bob.headers).status_code == 200


def test_deactivated_user_gets_401_with_token_password_and_session(
    client: TestClient, world: World, admin
) -> None:  # type: ignore[no-untyped-def]
    alice = world.user("alice", password="alice-password")
    login = client.post("/api/v1/auth/login", json={"username": "alice", "password": "alice-password"})
    assert login.status_code == 200
    r = client.patch("/api/v1/users/alice", json={"is_active": False}, headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert_401(client.get("/api/v1/me", headers=alice.headers))
    assert_401(client.get("/api/v1/me", headers=basic("alice", "alice-password")))
    # The session cookie set by the earlier login no longer works either.
    assert_401(client.get("/api/v1/me"))
    client.cookies.clear()
    again = client.post("/api/v1/auth/login", json={"username": "alice", "password": "alice-password"})
    assert_401(again)


def test_basic_auth_with_password(client: TestClient, world: World) -> None:
    world.user("alice", password="alice-password")
    r = client.get("/api/v1/me", headers=basic("alice", "alice-password"))
    assert r.status_code == 200
    assert r.json()["auth"] == "password"


def test_basic_auth_with_token_in_password_field_as_mlflow_sends_it(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    for username in ("alice", "token", ""):
        r = client.get("/api/v1/me", headers=basic(username, alice.token))
        assert r.status_code == 200, (username, r.text)
        assert r.json()["user"]["username"] == "alice"
        assert r.json()["auth"] == "token"


def test_basic_auth_token_named_for_another_user_gets_401(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    world.user("bob")
    assert_401(client.get("/api/v1/me", headers=basic("bob", alice.token)))


def test_workspace_token_gets_404_on_other_workspaces(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    a_id = world.workspace("team-a", alice)
    world.workspace("team-b", alice)
    scoped = {"Authorization": f"Bearer {world.token(alice, workspace='team-a')}"}
    assert client.get("/api/v1/workspaces/team-a", headers=scoped).status_code == 200
    assert client.get(f"/api/v1/workspaces/{a_id}", headers=scoped).status_code == 200
    for path in ("", "/members", "/quota", "/audit", "/artifacts"):
        r = client.get(f"/api/v1/workspaces/team-b{path}", headers=scoped)
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"] == PROBLEM
    slugs = [w["slug"] for w in client.get("/api/v1/workspaces", headers=scoped).json()["items"]]
    assert slugs == ["team-a"]
    me = client.get("/api/v1/me", headers=scoped).json()
    assert me["token_workspace"] == "team-a"
    assert [w["slug"] for w in me["workspaces"]] == ["team-a"]
    # The unscoped token of the same user reaches both.
    assert client.get("/api/v1/workspaces/team-b", headers=alice.headers).status_code == 200


def test_workspace_token_cannot_create_workspaces_or_wider_tokens(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    world.workspace("team-a", alice)
    world.workspace("team-b", alice)
    scoped = {"Authorization": f"Bearer {world.token(alice, workspace='team-a')}"}
    r = client.post("/api/v1/workspaces", json={"slug": "team-c"}, headers=scoped)
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM
    assert client.get("/api/v1/workspaces/team-c", headers=alice.headers).status_code == 404
    r = client.post("/api/v1/tokens", json={"name": "wider", "workspace": "team-b"}, headers=scoped)
    assert r.status_code == 404
    # A token it creates stays limited to its own workspace.
    r = client.post("/api/v1/tokens", json={"name": "child"}, headers=scoped)
    assert r.status_code == 201
    assert r.json()["workspace_slug"] == "team-a"
    child = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/api/v1/workspaces/team-b", headers=child).status_code == 404


def test_workspace_token_of_platform_admin_is_not_admin(client: TestClient, world: World) -> None:
    boss = world.user("boss", admin=True)
    world.workspace("team-a", boss)
    scoped = {"Authorization": f"Bearer {world.token(boss, workspace='team-a')}"}
    assert client.get("/api/v1/users", headers=scoped).status_code == 403
    assert client.get("/api/v1/users", headers=boss.headers).status_code == 200


def test_token_for_workspace_user_is_not_member_of_gets_404(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    bob = world.user("bob")
    world.workspace("team-b", bob)
    r = client.post("/api/v1/tokens", json={"name": "x", "workspace": "team-b"}, headers=alice.headers)
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM


def test_token_secret_is_shown_once_and_never_listed_or_audited(
    client: TestClient, world: World, db: Database
) -> None:
    alice = world.user("alice")
    world.workspace("team-a", alice)
    r = client.post(
        "/api/v1/tokens",
        json={"name": "ci", "workspace": "team-a", "expires_in_days": 7},
        headers=alice.headers,
    )
    assert r.status_code == 201
    secret = r.json()["token"]
    assert secret.startswith("dais_")
    assert secret.startswith(r.json()["prefix"])
    assert len(r.json()["prefix"]) < len(secret) // 2
    listing = client.get("/api/v1/tokens", headers=alice.headers)
    assert listing.status_code == 200
    assert "ci" in listing.text
    assert secret not in listing.text
    assert all("token" not in item for item in listing.json()["items"])
    assert secret not in client.get("/api/v1/workspaces/team-a/audit", headers=alice.headers).text
    with db.session(write=False) as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.name == "ci"))
        assert stored is not None
        assert secret not in stored.token_hash
        events = s.scalars(select(AuditEvent)).all()
        assert events
        assert all(secret not in str(e.details) for e in events)


def test_token_last_used_time_and_ip_are_recorded(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    before = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {world.token(alice)}"})
    assert before.status_code == 200
    items = {t["name"]: t for t in client.get("/api/v1/tokens", headers=alice.headers).json()["items"]}
    assert items["extra"]["last_used_at"] is not None
    assert items["extra"]["last_used_ip"] == "testclient"
    assert items["test"]["last_used_at"] is not None


def test_tokens_can_expire_never(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    r = client.post(
        "/api/v1/tokens", json={"name": "forever", "expires_in_days": None}, headers=alice.headers
    )
    assert r.status_code == 201
    assert r.json()["expires_at"] is None
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).status_code == 200
    )


def test_change_password_needs_the_current_one(client: TestClient, world: World) -> None:
    alice = world.user("alice", password="old-password")
    r = client.post(
        "/api/v1/me/password",
        json={"current_password": "not-it-at-all", "new_password": "new-password"},
        headers=alice.headers,
    )
    assert r.status_code == 422  # not 401: a typo must not log the caller out
    assert r.json()["errors"][0]["loc"] == ["body", "current_password"]
    r = client.post(
        "/api/v1/me/password",
        json={"current_password": "old-password", "new_password": "new-password"},
        headers=alice.headers,
    )
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=basic("alice", "new-password")).status_code == 200
    assert client.get("/api/v1/me", headers=basic("alice", "old-password")).status_code == 401
