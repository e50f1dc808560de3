"""Roles inside a workspace (viewer, editor, admin, owner) and platform administrators."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Actor, World

PROBLEM = "application/problem+json"


@pytest.fixture
def team(world: World) -> dict[str, Actor]:
    """team-a with one member of each role; ``dave`` and ``erin`` exist but are not members."""
    people = {name: world.user(name) for name in ("owen", "ada", "ed", "vic", "dave", "erin")}
    world.workspace("team-a", people["owen"], members={"ada": "admin", "ed": "editor", "vic": "viewer"})
    return people


def roles(client: TestClient, actor: Actor) -> dict[str, str]:
    r = client.get("/api/v1/workspaces/team-a/members", headers=actor.headers)
    assert r.status_code == 200
    return {m["username"]: m["role"] for m in r.json()["items"]}


def test_viewer_can_read(client: TestClient, team: dict[str, Actor]) -> None:
    vic = team["vic"]
    assert client.get("/api/v1/workspaces/team-a", headers=vic.headers).json()["role"] == "viewer"
    assert roles(client, vic)["vic"] == "viewer"
    assert client.get("/api/v1/workspaces/team-a/quota", headers=vic.headers).status_code == 200
    assert client.get("/api/v1/workspaces/team-a/artifacts", headers=vic.headers).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "", {"name": "renamed"}),
        ("DELETE", "", None),
        ("POST", "/members", {"username": "dave"}),
        ("PATCH", "/members/ed", {"role": "viewer"}),
        ("DELETE", "/members/ed", None),
        ("PUT", "/artifacts/model.bin", b"weights"),
    ],
)
def test_viewer_mutating_gets_403_with_a_helpful_message(
    client: TestClient, team: dict[str, Actor], method: str, path: str, body: object
) -> None:
    kwargs: dict[str, object] = {"headers": team["vic"].headers}
    if isinstance(body, bytes):
        kwargs["content"] = body
    elif body is not None:
        kwargs["json"] = body
    r = client.request(method, f"/api/v1/workspaces/team-a{path}", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == PROBLEM
    detail = r.json()["detail"]
    assert "viewer" in detail
    assert "team-a" in detail
    assert "Ask a workspace admin or owner" in detail
    assert roles(client, team["owen"]) == {"owen": "owner", "ada": "admin", "ed": "editor", "vic": "viewer"}


def test_viewer_cannot_read_the_audit_log(client: TestClient, team: dict[str, Actor]) -> None:
    assert client.get("/api/v1/workspaces/team-a/audit", headers=team["vic"].headers).status_code == 403
    assert client.get("/api/v1/workspaces/team-a/audit", headers=team["ed"].headers).status_code == 403
    assert client.get("/api/v1/workspaces/team-a/audit", headers=team["ada"].headers).status_code == 200


def test_viewer_cannot_add_members(client: TestClient, team: dict[str, Actor]) -> None:
    r = client.post(
        "/api/v1/workspaces/team-a/members", json={"username": "dave"}, headers=team["vic"].headers
    )
    assert r.status_code == 403
    assert "dave" not in roles(client, team["owen"])


def test_editor_can_upload_but_not_manage_members_or_settings(
    client: TestClient, team: dict[str, Actor]
) -> None:
    ed = team["ed"]
    assert (
        client.put("/api/v1/workspaces/team-a/artifacts/a.txt", content=b"x", headers=ed.headers).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/workspaces/team-a/members", json={"username": "dave"}, headers=ed.headers
        ).status_code
        == 403
    )
    assert (
        client.patch("/api/v1/workspaces/team-a", json={"name": "x"}, headers=ed.headers).status_code == 403
    )
    assert client.delete("/api/v1/workspaces/team-a", headers=ed.headers).status_code == 403


def test_admin_manages_members_below_owner(client: TestClient, team: dict[str, Actor]) -> None:
    ada = team["ada"]
    r = client.post(
        "/api/v1/workspaces/team-a/members", json={"username": "dave", "role": "editor"}, headers=ada.headers
    )
    assert r.status_code == 201
    assert r.json()["role"] == "editor"
    assert (
        client.patch(
            "/api/v1/workspaces/team-a/members/dave", json={"role": "admin"}, headers=ada.headers
        ).json()["role"]
        == "admin"
    )
    assert client.delete("/api/v1/workspaces/team-a/members/vic", headers=ada.headers).status_code == 204
    assert (
        client.patch("/api/v1/workspaces/team-a", json={"name": "Team A"}, headers=ada.headers).status_code
        == 200
    )
    assert roles(client, ada) == {"owen": "owner", "ada": "admin", "ed": "editor", "dave": "admin"}
    # Admins cannot delete the workspace: that is for owners.
    assert client.delete("/api/v1/workspaces/team-a", headers=ada.headers).status_code == 403


def test_only_owners_grant_the_owner_role(client: TestClient, team: dict[str, Actor]) -> None:
    ada, owen = team["ada"], team["owen"]
    r = client.post(
        "/api/v1/workspaces/team-a/members", json={"username": "dave", "role": "owner"}, headers=ada.headers
    )
    assert r.status_code == 403
    assert "owner" in r.json()["detail"]
    r = client.patch("/api/v1/workspaces/team-a/members/ed", json={"role": "owner"}, headers=ada.headers)
    assert r.status_code == 403
    r = client.patch("/api/v1/workspaces/team-a/members/ada", json={"role": "owner"}, headers=ada.headers)
    assert r.status_code == 403
    assert roles(client, owen)["ed"] == "editor"
    r = client.patch("/api/v1/workspaces/team-a/members/ed", json={"role": "owner"}, headers=owen.headers)
    assert r.status_code == 200
    assert roles(client, owen)["ed"] == "owner"


def test_admin_cannot_demote_or_remove_an_owner(client: TestClient, team: dict[str, Actor]) -> None:
    ada = team["ada"]
    assert (
        client.patch(
            "/api/v1/workspaces/team-a/members/owen", json={"role": "viewer"}, headers=ada.headers
        ).status_code
        == 403
    )
    assert client.delete("/api/v1/workspaces/team-a/members/owen", headers=ada.headers).status_code == 403
    assert roles(client, ada)["owen"] == "owner"


def test_last_owner_cannot_be_removed_or_demoted(client: TestClient, team: dict[str, Actor]) -> None:
    owen = team["owen"]
    r = client.patch("/api/v1/workspaces/team-a/members/owen", json={"role": "admin"}, headers=owen.headers)
    assert r.status_code == 409
    assert r.headers["content-type"] == PROBLEM
    assert "owner" in r.json()["detail"]
    assert client.delete("/api/v1/workspaces/team-a/members/owen", headers=owen.headers).status_code == 409
    assert roles(client, owen)["owen"] == "owner"
    # With a second owner, the first may step down.
    client.patch("/api/v1/workspaces/team-a/members/ada", json={"role": "owner"}, headers=owen.headers)
    r = client.patch("/api/v1/workspaces/team-a/members/owen", json={"role": "editor"}, headers=owen.headers)
    assert r.status_code == 200
    assert roles(client, team["ada"])["owen"] == "editor"
    assert (
        client.delete("/api/v1/workspaces/team-a/members/ada", headers=team["ada"].headers).status_code == 409
    )


def test_members_are_found_by_username_user_id_or_membership_id(
    client: TestClient, team: dict[str, Actor]
) -> None:
    owen, ed = team["owen"], team["ed"]
    items = client.get("/api/v1/workspaces/team-a/members", headers=owen.headers).json()["items"]
    membership_id = next(m["id"] for m in items if m["username"] == "ed")
    for ref, role in ((ed.user_id, "viewer"), (membership_id, "editor"), ("ed", "admin")):
        r = client.patch(
            f"/api/v1/workspaces/team-a/members/{ref}", json={"role": role}, headers=owen.headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["role"] == role
    r = client.patch("/api/v1/workspaces/team-a/members/erin", json={"role": "viewer"}, headers=owen.headers)
    assert r.status_code == 404


def test_adding_a_member_twice_or_an_unknown_user_is_refused(
    client: TestClient, team: dict[str, Actor]
) -> None:
    owen = team["owen"]
    r = client.post("/api/v1/workspaces/team-a/members", json={"username": "ed"}, headers=owen.headers)
    assert r.status_code == 409
    assert r.json()["code"] == "already_exists"
    r = client.post("/api/v1/workspaces/team-a/members", json={"username": "ghost"}, headers=owen.headers)
    assert r.status_code == 404
    assert r.json()["errors"][0]["loc"] == ["body", "username"]


def test_owner_deletes_workspace(client: TestClient, team: dict[str, Actor]) -> None:
    owen = team["owen"]
    assert client.delete("/api/v1/workspaces/team-a", headers=owen.headers).status_code == 204
    assert client.get("/api/v1/workspaces/team-a", headers=owen.headers).status_code == 404
    assert client.get("/api/v1/workspaces", headers=team["ed"].headers).json()["items"] == []


def test_quotas_are_writable_only_by_platform_admins(
    client: TestClient, team: dict[str, Actor], admin: Actor
) -> None:
    owen = team["owen"]
    r = client.patch("/api/v1/workspaces/team-a/quota", json={"max_gpus": 8}, headers=owen.headers)
    assert r.status_code == 403
    assert "platform administrator" in r.json()["detail"]
    r = client.patch(
        "/api/v1/workspaces/team-a/quota",
        json={
            "max_gpus": 2,
            "max_cpus": 16.5,
            "max_memory_mb": 65536,
            "max_concurrent_jobs": 4,
            "priority": 10,
        },
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    q = client.get("/api/v1/workspaces/team-a/quota", headers=team["vic"].headers).json()
    assert (q["max_gpus"], q["max_cpus"], q["max_memory_mb"], q["max_concurrent_jobs"], q["priority"]) == (
        2,
        16.5,
        65536,
        4,
        10,
    )
    # null lifts a limit; omitted fields stay as they were.
    q = client.patch("/api/v1/workspaces/team-a/quota", json={"max_gpus": None}, headers=admin.headers).json()
    assert q["max_gpus"] is None
    assert q["max_cpus"] == 16.5
    assert client.get("/api/v1/workspaces/team-a", headers=owen.headers).json()["priority"] == 10


def test_quota_update_rejects_bad_values(client: TestClient, team: dict[str, Actor], admin: Actor) -> None:
    for body, field in (
        ({"max_gpus": -1}, "max_gpus"),
        ({"priority": 1000}, "priority"),
        ({"priority": None}, "priority"),
        ({"max_cpus": "lots"}, "max_cpus"),
    ):
        r = client.patch("/api/v1/workspaces/team-a/quota", json=body, headers=admin.headers)
        assert r.status_code == 422, (body, r.text)
        assert any(field in e["loc"] for e in r.json()["errors"]), r.json()
    assert client.patch("/api/v1/workspaces/team-a/quota", json={}, headers=admin.headers).status_code == 422


def test_last_platform_admin_cannot_be_demoted_or_deactivated(
    client: TestClient, world: World, admin: Actor
) -> None:
    r = client.patch(f"/api/v1/users/{admin.username}", json={"is_admin": False}, headers=admin.headers)
    assert r.status_code == 409
    assert "last" in r.json()["detail"]
    r = client.patch(f"/api/v1/users/{admin.username}", json={"is_active": False}, headers=admin.headers)
    assert r.status_code == 409
    assert client.get("/api/v1/users", headers=admin.headers).status_code == 200
    world.user("second", admin=True)
    r = client.patch(f"/api/v1/users/{admin.username}", json={"is_admin": False}, headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["is_admin"] is False
    assert client.get("/api/v1/users", headers=admin.headers).status_code == 403


def test_only_platform_admins_manage_users(client: TestClient, world: World, admin: Actor) -> None:
    alice = world.user("alice")
    body = {"username": "newbie", "password": "newbie-password", "email": "newbie@example.com"}
    assert client.post("/api/v1/users", json=body, headers=alice.headers).status_code == 403
    assert (
        client.patch("/api/v1/users/alice", json={"is_admin": True}, headers=alice.headers).status_code == 403
    )
    r = client.post("/api/v1/users", json=body, headers=admin.headers)
    assert r.status_code == 201
    assert r.json()["email"] == "newbie@example.com"
    assert "password" not in r.text
    assert (
        client.post("/api/v1/users", json=body | {"username": "NEWBIE"}, headers=admin.headers).status_code
        == 409
    )
