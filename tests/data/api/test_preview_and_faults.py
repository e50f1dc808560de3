"""Previewing a source (nothing saved), and a dead source: a TCP server that accepts and never
answers, used as an S3 endpoint. Test, preview, browse and registration fail by timeout while the
API keeps answering other requests at once."""

from __future__ import annotations

import dataclasses
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dais.core.settings import DataSettings, Settings
from dais.data.models import Dataset
from dais.db import Database
from tests.conftest import serve
from tests.data.api.helpers import WS, HangingServer, Team, file_connection, wait_job
from tests.jobs.conftest import running_worker

TIMEOUT_S = 1.5


@pytest.fixture
def data_settings(settings: Settings, data_root: Path) -> Settings:
    """Short source timeouts, so a dead source fails fast."""
    return dataclasses.replace(
        settings,
        data=DataSettings(allowed_roots=[data_root], source_timeout_s=TIMEOUT_S, preview_timeout_s=TIMEOUT_S),
    )


def test_preview_shows_what_registering_would_find_and_saves_nothing(
    api: TestClient, team: Team, data_root: Path, db: Database
) -> None:
    (data_root / "t.csv").write_text("a;b\n1;x\n2;y\n")
    file_connection(api, team.h, data_root)
    r = api.post(
        f"{WS}/datasets/preview", headers=team.h, json={"connection": "files", "source": {"path": "t.csv"}}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["format"] == "csv"
    assert [c["name"] for c in body["schema"]] == ["a", "b"]
    assert [row["b"] for row in body["sample"]] == ["x", "y"]
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 0
    r = api.post(
        f"{WS}/datasets/preview", headers=team.h, json={"connection": "files", "source": {"path": "no.csv"}}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "source_not_found"
    r = api.post(
        f"{WS}/datasets/preview", headers=team.h, json={"connection": "files", "source": {"path": "../x"}}
    )
    assert r.status_code == 422
    r = api.post(
        f"{WS}/datasets/preview", headers=team.h, json={"connection": "nope", "source": {"path": "t.csv"}}
    )
    assert r.status_code == 404
    r = api.post(
        f"{WS}/datasets/preview",
        headers=team.victor.headers,
        json={"connection": "files", "source": {"path": "t.csv"}},
    )
    assert r.status_code == 403
    r = api.post(
        "/api/v1/workspaces/other/datasets/preview",
        headers=team.eve.headers,
        json={"connection": "files", "source": {"path": "t.csv"}},
    )
    assert r.status_code == 404


def _dead_s3(api: httpx.Client | TestClient, team: Team, server: HangingServer) -> None:
    r = api.post(
        f"{WS}/connections",
        headers=team.h,
        json={
            "name": "dead",
            "kind": "s3",
            "config": {"bucket": "lake", "endpoint_url": server.url, "region": "us-east-1"},
            "secrets": {"access_key_id": "k", "secret_access_key": "s"},
        },
    )
    assert r.status_code == 201, r.text


def _hang_round(url: str, team: Team) -> tuple[dict[str, httpx.Response], list[float], float]:
    """Test, preview and browse the dead source at once; meanwhile, time another request again and
    again. Returns the three replies, those latencies and how long the three took."""
    calls = {
        "test": ("POST", f"{WS}/connections/dead/test", None),
        "preview": ("POST", f"{WS}/datasets/preview", {"connection": "dead", "source": {"path": "x.csv"}}),
        "browse": ("GET", f"{WS}/connections/dead/browse", None),
    }
    replies: dict[str, httpx.Response] = {}

    def call(name: str) -> None:
        method, path, body = calls[name]
        with httpx.Client(base_url=url, timeout=30) as own:
            replies[name] = own.request(method, path, headers=team.h, json=body)

    threads = [threading.Thread(target=call, args=(n,)) for n in calls]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.2)  # the three are now waiting on the dead source
    latencies = []
    with httpx.Client(base_url=url, timeout=30) as client:
        while any(t.is_alive() for t in threads):
            t0 = time.perf_counter()
            r = client.get(f"{WS}/connections", headers=team.h)
            latencies.append(time.perf_counter() - t0)
            assert r.status_code == 200
            time.sleep(0.02)
    for t in threads:
        t.join(timeout=30)
    return replies, latencies, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.serial
def test_a_hanging_source_times_out_and_never_blocks_other_requests(
    data_app: FastAPI, team: Team, hanging_server: HangingServer
) -> None:
    with serve(data_app) as url:
        with httpx.Client(base_url=url, timeout=30) as client:
            _dead_s3(client, team, hanging_server)
        _hang_round(url, team)  # once unmeasured: this process's first imports of readers and drivers
        replies, latencies, elapsed = _hang_round(url, team)
    assert latencies, "no request was made while the source hung"
    # The requirement: other requests are answered within 100 ms meanwhile. The median carries it
    # (a loaded CI machine may delay any one request); none ever waits for the source.
    assert statistics.median(latencies) < 0.1, latencies
    assert max(latencies) < TIMEOUT_S, latencies
    assert elapsed < TIMEOUT_S + 10
    assert replies["test"].status_code == 200
    assert replies["test"].json()["ok"] is False
    assert "1.5 s" in replies["test"].json()["message"]
    assert replies["preview"].status_code == 504, replies["preview"].text
    assert replies["preview"].json()["code"] == "source_timeout"
    assert replies["browse"].status_code == 504, replies["browse"].text


@pytest.mark.slow
def test_registering_from_a_hanging_source_fails_by_timeout(
    api: TestClient, team: Team, hanging_server: HangingServer, data_settings: Settings, db: Database
) -> None:
    from dais.storage import open_store

    _dead_s3(api, team, hanging_server)
    with running_worker(data_settings, db, open_store(data_settings)):
        r = api.post(
            f"{WS}/datasets",
            headers=team.h,
            json={"name": "d", "connection": "dead", "source": {"path": "x.csv"}},
        )
        assert r.status_code == 202
        job = wait_job(api, team.h, r.json()["job"]["id"])
    assert job["state"] == "failed"
    assert "SourceTimeout" in job["error"] or "time" in job["error"].lower()
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 0
