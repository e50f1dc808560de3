"""Bad input: malformed JSON, wrong types, unknown fields, oversized bodies."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dais.app import create_app
from tests.conftest import Actor, World, make_settings

PROBLEM = "application/problem+json"


def assert_422(r, field: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "invalid_input"
    assert body["status"] == 422
    assert any(e["loc"][-1] == field for e in body["errors"]), body
    assert field in body["detail"]


def test_malformed_json_gets_422_problem(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    r = client.post(
        "/api/v1/workspaces",
        content=b'{"slug": "team-a",',
        headers=alice.headers | {"Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert "not valid JSON" in r.json()["detail"]


def test_wrong_type_gets_422_naming_the_field(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    assert_422(client.post("/api/v1/workspaces", json={"slug": 123}, headers=alice.headers), "slug")
    assert_422(client.post("/api/v1/workspaces", json={"slug": ["a"]}, headers=alice.headers), "slug")
    assert_422(
        client.post("/api/v1/tokens", json={"name": "t", "expires_in_days": "soon"}, headers=alice.headers),
        "expires_in_days",
    )


def test_invalid_values_get_422_naming_the_field(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    assert_422(client.post("/api/v1/workspaces", json={"slug": "Not A Slug!"}, headers=alice.headers), "slug")
    assert_422(client.post("/api/v1/workspaces", json={"slug": "-dash"}, headers=alice.headers), "slug")
    assert_422(client.post("/api/v1/workspaces", json={"name": "no slug"}, headers=alice.headers), "slug")
    assert_422(client.post("/api/v1/tokens", json={"name": ""}, headers=alice.headers), "name")
    world.workspace("team-a", alice)
    assert_422(
        client.post(
            "/api/v1/workspaces/team-a/members", json={"username": "x", "role": "god"}, headers=alice.headers
        ),
        "role",
    )


def test_unknown_fields_are_rejected(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    assert_422(
        client.post("/api/v1/workspaces", json={"slug": "team-a", "colour": "red"}, headers=alice.headers),
        "colour",
    )
    assert client.get("/api/v1/workspaces/team-a", headers=alice.headers).status_code == 404
    world.workspace("team-a", alice)
    assert_422(
        client.patch("/api/v1/workspaces/team-a", json={"priority": 100}, headers=alice.headers), "priority"
    )


def test_bad_query_parameters_get_422(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    assert_422(client.get("/api/v1/workspaces", params={"limit": 0}, headers=alice.headers), "limit")
    assert_422(client.get("/api/v1/workspaces", params={"limit": "ten"}, headers=alice.headers), "limit")
    assert_422(client.get("/api/v1/workspaces", params={"all": "perhaps"}, headers=alice.headers), "all")


def test_slug_is_normalised_and_duplicates_conflict(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    r = client.post("/api/v1/workspaces", json={"slug": "  Team-A "}, headers=alice.headers)
    assert r.status_code == 201
    assert r.json()["slug"] == "team-a"
    r = client.post("/api/v1/workspaces", json={"slug": "team-a"}, headers=alice.headers)
    assert r.status_code == 409
    assert r.json()["errors"][0]["loc"] == ["body", "slug"]


def test_oversized_json_body_gets_413(tmp_path: Path, db_url: str, world: World) -> None:
    alice = world.user("alice")
    app = create_app(make_settings(tmp_path / "home", db_url, max_body_bytes=1024))
    with TestClient(app) as client:
        big = {"slug": "team-a", "description": "x" * 2000}
        r = client.post("/api/v1/workspaces", json=big, headers=alice.headers)
        assert r.status_code == 413
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["code"] == "payload_too_large"
        assert "1,024" in r.json()["detail"]
        # Without a Content-Length (a chunked body), the limit holds as the bytes arrive.
        chunks = (b'{"slug": "team-b", "description": "' + b"x" * 600, b"y" * 600 + b'"}')
        r = client.post(
            "/api/v1/workspaces",
            content=iter(chunks),
            headers=alice.headers | {"Content-Type": "application/json"},
        )
        assert r.status_code == 413, r.text
        assert r.headers["content-type"] == PROBLEM
        # A body under the limit is fine.
        assert (
            client.post("/api/v1/workspaces", json={"slug": "team-c"}, headers=alice.headers).status_code
            == 201
        )
        slugs = [w["slug"] for w in client.get("/api/v1/workspaces", headers=alice.headers).json()["items"]]
        assert slugs == ["team-c"]


def test_user_create_validates_email_and_password(client: TestClient, admin: Actor) -> None:
    r = client.post("/api/v1/users", json={"username": "x1", "email": "not-an-email"}, headers=admin.headers)
    assert_422(r, "email")
    r = client.post("/api/v1/users", json={"username": "x2", "password": "abc1"}, headers=admin.headers)
    assert_422(r, "password")
    assert "abc1" not in r.text  # a rejected password is never echoed back
