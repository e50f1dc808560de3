"""Listings follow next_cursor across pages, and stop at a limit."""

from __future__ import annotations

from dais import Client
from tests.conftest import World


def test_listing_iterates_over_every_page(server_url: str, world: World) -> None:
    owner = world.user("owner")
    slugs = [f"ws-{i:02d}" for i in range(7)]
    for slug in slugs:
        world.workspace(slug, owner)
    with Client(server_url, owner.token, page_size=2) as client:
        assert [w.slug for w in client.workspaces.list()] == slugs
        assert [w.slug for w in client.workspaces.list(limit=3)] == slugs[:3]
        assert [w.role for w in client.workspaces.list(q="ws-06")] == ["owner"]


def test_member_and_token_listings_page_too(server_url: str, world: World) -> None:
    owner = world.user("owner")
    world.workspace("team", owner)
    for i in range(5):
        world.user(f"user{i}")
    with Client(server_url, owner.token, page_size=2) as client:
        for i in range(5):
            client.members.add("team", f"user{i}", "viewer")
        members = list(client.members.list("team"))
        assert sorted(m.username for m in members) == ["owner"] + [f"user{i}" for i in range(5)]
        for i in range(3):
            client.tokens.create(f"t{i}")
        assert len(list(client.tokens.list())) == 4
