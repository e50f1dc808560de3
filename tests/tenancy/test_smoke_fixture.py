from fastapi.testclient import TestClient

from tests.conftest import Actor, World


def test_member_sees_workspace_and_stranger_gets_404(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    bob = world.user("bob")
    world.workspace("team-a", alice)
    assert client.get("/api/v1/workspaces/team-a", headers=alice.headers).status_code == 200
    r = client.get("/api/v1/workspaces/team-a", headers=bob.headers)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_admin_fixture(client: TestClient, admin: Actor) -> None:
    assert client.get("/api/v1/users", headers=admin.headers).status_code == 200
