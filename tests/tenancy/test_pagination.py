"""Listings: keyset cursors across pages, sort validation, bad cursors."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from dais.db.pagination import decode_cursor, encode_cursor
from tests.conftest import Actor, World


def walk(client: TestClient, path: str, headers: dict[str, str], **params: object) -> list[dict[str, object]]:
    """Every item of a listing, page by page; fails on a repeated cursor."""
    items: list[dict[str, object]] = []
    cursor = None
    seen = set()
    while True:
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        r = client.get(path, params=query, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert cursor not in seen
        seen.add(cursor)


@pytest.fixture
def many_workspaces(world: World) -> Actor:
    alice = world.user("alice")
    for i in range(23):
        world.workspace(f"ws-{i:02d}", alice)
    return alice


@pytest.mark.parametrize("sort", ["slug", "-slug", "created_at", "-created_at", "name", "-name"])
def test_cursor_pagination_has_no_duplicates_or_gaps(
    client: TestClient, many_workspaces: Actor, sort: str
) -> None:
    items = walk(client, "/api/v1/workspaces", many_workspaces.headers, limit=5, sort=sort)
    slugs = [w["slug"] for w in items]
    assert len(slugs) == 23
    assert len(set(slugs)) == 23
    if "slug" in sort or "name" in sort:
        assert slugs == sorted(slugs, reverse=sort.startswith("-"))


def test_rows_added_between_pages_do_not_shift_the_listing(
    client: TestClient, many_workspaces: Actor, world: World
) -> None:
    r = client.get(
        "/api/v1/workspaces", params={"limit": 10, "sort": "slug"}, headers=many_workspaces.headers
    )
    first = [w["slug"] for w in r.json()["items"]]
    world.workspace("aaa-new", many_workspaces)  # sorts before the cursor
    rest = walk(
        client,
        "/api/v1/workspaces",
        many_workspaces.headers,
        limit=10,
        sort="slug",
        cursor=r.json()["next_cursor"],
    )
    slugs = first + [w["slug"] for w in rest]
    assert slugs == [f"ws-{i:02d}" for i in range(23)]


def test_last_page_has_no_cursor(client: TestClient, many_workspaces: Actor) -> None:
    r = client.get("/api/v1/workspaces", params={"limit": 23}, headers=many_workspaces.headers)
    assert len(r.json()["items"]) == 23
    assert r.json()["next_cursor"] is None


def test_members_and_audit_paginate(client: TestClient, world: World) -> None:
    owner = world.user("owner")
    members = {f"user{i}": "viewer" for i in range(7)}
    for name in members:
        world.user(name)
    world.workspace("team", owner, members=members)
    for i in range(7):
        client.patch("/api/v1/workspaces/team", json={"description": f"v{i}"}, headers=owner.headers)
    got = walk(client, "/api/v1/workspaces/team/members", owner.headers, limit=3)
    assert sorted(m["username"] for m in got) == sorted([*members, "owner"])
    got = walk(client, "/api/v1/workspaces/team/members", owner.headers, limit=3, sort="-role")
    assert len({m["id"] for m in got}) == 8
    events = walk(client, "/api/v1/workspaces/team/audit", owner.headers, limit=2)
    assert [e["details"]["description"] for e in events if e["action"] == "workspace.update"] == [
        f"v{i}" for i in reversed(range(7))
    ]


def test_users_and_tokens_paginate(client: TestClient, world: World, admin: Actor) -> None:
    for i in range(6):
        world.user(f"u{i}")
        world.token(admin)
    users = walk(client, "/api/v1/users", admin.headers, limit=4)
    assert [u["username"] for u in users] == sorted(["root-admin", *(f"u{i}" for i in range(6))])
    tokens = walk(client, "/api/v1/tokens", admin.headers, limit=4)
    assert len({t["id"] for t in tokens}) == 7


def test_unknown_sort_gets_422(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    for sort in ("colour", "-colour", "description", "--slug", ""):
        r = client.get("/api/v1/workspaces", params={"sort": sort}, headers=alice.headers)
        assert r.status_code == 422, (sort, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == ["query", "sort"]
        assert "slug" in r.json()["detail"]  # names what is allowed


def _b64(raw: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


BAD_CURSORS = [
    "not-a-cursor",
    "!!!",
    _b64("just a string"),
    _b64(["slug", "x"]),
    _b64(["slug", {"nested": 1}, "id"]),
    _b64(["slug", ["a", "b"], "id"]),
    _b64(["created_at", "yesterday", "id"]),
    _b64(["created_at", {"dt": "not a date"}, "id"]),
    _b64(["created_at", {"dt": 5}, "id"]),
    _b64(["created_at", 12, "id"]),
    _b64(["name", {"dt": "2026-01-01T00:00:00+00:00"}, "id"]),
]


def test_bad_cursor_gets_422(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    world.workspace("ws-1", alice)
    for cursor in BAD_CURSORS:
        sort = json.loads(base64.urlsafe_b64decode(cursor + "===="))[0] if cursor.startswith("W") else "slug"
        r = client.get("/api/v1/workspaces", params={"cursor": cursor, "sort": sort}, headers=alice.headers)
        assert r.status_code == 422, (cursor, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_cursor_of_another_sort_order_gets_422(client: TestClient, many_workspaces: Actor) -> None:
    r = client.get("/api/v1/workspaces", params={"limit": 5, "sort": "slug"}, headers=many_workspaces.headers)
    cursor = r.json()["next_cursor"]
    r = client.get(
        "/api/v1/workspaces", params={"sort": "-slug", "cursor": cursor}, headers=many_workspaces.headers
    )
    assert r.status_code == 422
    assert "sort" in r.json()["detail"]


def test_cursor_round_trips_datetimes() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert decode_cursor(encode_cursor("-created_at", when, "abc")) == ("-created_at", when, "abc")
