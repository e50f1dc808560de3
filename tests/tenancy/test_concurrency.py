"""Many clients writing at once against a real server: no "database is locked", no 5xx."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from dais.db import Database
from tests.conftest import World, serve

CLIENTS = 20


@pytest.mark.slow
def test_twenty_clients_creating_at_once_all_succeed(app, world: World, db: Database) -> None:  # type: ignore[no-untyped-def]
    owner = world.user("owner")
    world.workspace("shared", owner)
    users = [world.user(f"user{i}") for i in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)

    def work(i: int) -> list[tuple[str, int, str]]:
        """Each client creates a workspace, a token and an artifact, and joins a shared workspace."""
        me = users[i]
        out = []
        with httpx.Client(base_url=url, headers=me.headers, timeout=60) as http:
            start.wait(timeout=30)
            for method, path, kwargs in (
                ("POST", "/api/v1/workspaces", {"json": {"slug": f"ws-{i}"}}),
                ("POST", "/api/v1/tokens", {"json": {"name": f"t{i}"}}),
                ("PUT", f"/api/v1/workspaces/ws-{i}/artifacts/data-{i}.bin", {"content": b"x" * 1000}),
                ("PATCH", f"/api/v1/workspaces/ws-{i}", {"json": {"description": f"made by {i}"}}),
            ):
                r = http.request(method, path, **kwargs)  # type: ignore[arg-type]
                out.append((path, r.status_code, r.text))
            r = httpx.post(
                f"{url}/api/v1/workspaces/shared/members",
                json={"username": me.username, "role": "editor"},
                headers=owner.headers,
                timeout=60,
            )
            out.append(("members", r.status_code, r.text))
        return out

    with serve(app) as url, ThreadPoolExecutor(CLIENTS) as pool:
        results = [x for batch in pool.map(work, range(CLIENTS)) for x in batch]
        failures = [(p, s, t) for p, s, t in results if s >= 300]
        assert not [t for _, _, t in results if "locked" in t.lower()]
        assert not failures, failures[:5]
        with httpx.Client(base_url=url, timeout=30) as http:
            for i, me in enumerate(users):
                ws = http.get(f"/api/v1/workspaces/ws-{i}", headers=me.headers)
                assert ws.status_code == 200
                assert ws.json()["description"] == f"made by {i}"
                blob = http.get(f"/api/v1/workspaces/ws-{i}/artifacts/data-{i}.bin", headers=me.headers)
                assert blob.content == b"x" * 1000
                tokens = http.get("/api/v1/tokens", headers=me.headers).json()["items"]
                assert f"t{i}" in {t["name"] for t in tokens}
            members = http.get(
                "/api/v1/workspaces/shared/members", params={"limit": 100}, headers=owner.headers
            ).json()["items"]
            assert len(members) == CLIENTS + 1


@pytest.mark.slow
def test_racing_creators_of_one_slug_get_one_201_and_409s(app, world: World) -> None:  # type: ignore[no-untyped-def]
    users = [world.user(f"racer{i}") for i in range(10)]
    start = threading.Barrier(len(users))

    def create(i: int) -> int:
        with httpx.Client(timeout=60) as http:
            start.wait(timeout=30)
            r = http.post(f"{url}/api/v1/workspaces", json={"slug": "contested"}, headers=users[i].headers)
            return r.status_code

    with serve(app) as url, ThreadPoolExecutor(len(users)) as pool:
        codes = sorted(pool.map(create, range(len(users))))
    assert codes == [201] + [409] * (len(users) - 1)
