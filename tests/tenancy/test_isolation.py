"""The tenant boundary: nothing of workspace B is visible or writable to a member of workspace A."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Actor, World

PROBLEM = "application/problem+json"


@pytest.fixture
def two_tenants(client: TestClient, world: World) -> tuple[Actor, Actor, str]:
    """alice owns team-a, bob owns team-b (with a member and an artifact); returns B's id."""
    alice = world.user("alice")
    bob = world.user("bob")
    world.user("carol")
    world.workspace("team-a", alice)
    b_id = world.workspace("team-b", bob, members={"carol": "viewer"})
    r = client.put("/api/v1/workspaces/team-b/artifacts/secret.txt", content=b"b only", headers=bob.headers)
    assert r.status_code == 201
    return alice, bob, b_id


READS = [
    "",
    "/members",
    "/quota",
    "/audit",
    "/artifacts",
    "/artifacts/secret.txt",
]

WRITES = [
    ("PATCH", "", {"name": "pwned"}),
    ("DELETE", "", None),
    ("POST", "/members", {"username": "alice", "role": "owner"}),
    ("PATCH", "/members/carol", {"role": "owner"}),
    ("DELETE", "/members/carol", None),
    ("PATCH", "/quota", {"max_gpus": 100}),
    ("PUT", "/artifacts/secret.txt", b"overwritten"),
    ("DELETE", "/artifacts/secret.txt", None),
]


@pytest.mark.parametrize("path", READS)
def test_member_of_a_reading_b_gets_404(
    client: TestClient, two_tenants: tuple[Actor, Actor, str], path: str
) -> None:
    alice, _, b_id = two_tenants
    for ref in ("team-b", b_id):
        r = client.get(f"/api/v1/workspaces/{ref}{path}", headers=alice.headers)
        assert r.status_code == 404, (ref, path, r.text)
        assert r.headers["content-type"] == PROBLEM
        assert "b only" not in r.text


def test_404_for_other_tenant_looks_like_a_missing_workspace(
    client: TestClient, two_tenants: tuple[Actor, Actor, str]
) -> None:
    alice, _, _ = two_tenants
    hidden = client.get("/api/v1/workspaces/team-b", headers=alice.headers).json()
    missing = client.get("/api/v1/workspaces/team-z", headers=alice.headers).json()
    assert hidden["detail"].replace("team-b", "X") == missing["detail"].replace("team-z", "X")
    assert hidden["code"] == missing["code"] == "not_found"


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_member_of_a_writing_b_gets_404_and_changes_nothing(
    client: TestClient,
    two_tenants: tuple[Actor, Actor, str],
    method: str,
    path: str,
    body: object,
) -> None:
    alice, bob, _ = two_tenants
    kwargs: dict[str, object] = {"headers": alice.headers}
    if isinstance(body, bytes):
        kwargs["content"] = body
    elif body is not None:
        kwargs["json"] = body
    r = client.request(method, f"/api/v1/workspaces/team-b{path}", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == PROBLEM
    ws = client.get("/api/v1/workspaces/team-b", headers=bob.headers).json()
    assert ws["name"] == "team-b"
    members = client.get("/api/v1/workspaces/team-b/members", headers=bob.headers).json()["items"]
    assert {m["username"]: m["role"] for m in members} == {"bob": "owner", "carol": "viewer"}
    assert client.get("/api/v1/workspaces/team-b/quota", headers=bob.headers).json()["max_gpus"] is None
    blob = client.get("/api/v1/workspaces/team-b/artifacts/secret.txt", headers=bob.headers)
    assert blob.content == b"b only"


def test_workspace_listing_shows_only_own_workspaces(
    client: TestClient, two_tenants: tuple[Actor, Actor, str]
) -> None:
    alice, _, _ = two_tenants
    items = client.get("/api/v1/workspaces", headers=alice.headers).json()["items"]
    assert [w["slug"] for w in items] == ["team-a"]
    assert items[0]["role"] == "owner"
    assert client.get("/api/v1/workspaces", params={"all": True}, headers=alice.headers).status_code == 403


def test_platform_admin_sees_every_workspace(
    client: TestClient, two_tenants: tuple[Actor, Actor, str], admin: Actor
) -> None:
    r = client.get("/api/v1/workspaces", params={"all": True}, headers=admin.headers)
    assert {w["slug"] for w in r.json()["items"]} == {"team-a", "team-b"}
    r = client.get("/api/v1/workspaces/team-b", headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["role"] is None


def test_non_admin_cannot_list_or_read_other_users(
    client: TestClient, two_tenants: tuple[Actor, Actor, str]
) -> None:
    alice, _, _ = two_tenants
    assert client.get("/api/v1/users", headers=alice.headers).status_code == 403
    assert client.get("/api/v1/users/bob", headers=alice.headers).status_code == 403
    assert client.get("/api/v1/users/alice", headers=alice.headers).status_code == 200
    assert client.get("/api/v1/audit", headers=alice.headers).status_code == 403
    assert client.get("/api/v1/plugins", headers=alice.headers).status_code == 403
