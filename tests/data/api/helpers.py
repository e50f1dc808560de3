"""Helpers for the data domain's API tests: waiting for jobs, registering, a team, a dead source."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dais.jobs.states import FINISHED
from tests.conftest import Actor

WS = "/api/v1/workspaces/team"
OTHER = "/api/v1/workspaces/other"


@dataclass
class Team:
    """alice owns ``team`` (victor is a viewer there); eve owns ``other``."""

    alice: Actor
    victor: Actor
    eve: Actor

    @property
    def h(self) -> dict[str, str]:
        return self.alice.headers


def wait_job(
    api: TestClient, headers: dict[str, str], job_id: str, timeout: float = 60, *, ws: str = WS
) -> dict[str, Any]:
    """The job (as the API shows it) once it finished."""
    deadline = time.monotonic() + timeout
    while True:
        r = api.get(f"{ws}/jobs/{job_id}", headers=headers)
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["state"] in {str(s) for s in FINISHED}:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['state']} after {timeout}s")
        time.sleep(0.05)


def register(
    api: TestClient,
    headers: dict[str, str],
    name: str,
    source: dict[str, Any],
    connection: str | None = "files",
) -> dict[str, Any]:
    """Register a dataset through the API and wait for its job."""
    r = api.post(
        f"{WS}/datasets", headers=headers, json={"name": name, "connection": connection, "source": source}
    )
    assert r.status_code == 202, r.text
    return wait_job(api, headers, r.json()["job"]["id"])


def file_connection(
    api: TestClient, headers: dict[str, str], root: Path, name: str = "files"
) -> dict[str, Any]:
    r = api.post(
        f"{WS}/connections",
        headers=headers,
        json={"name": name, "kind": "file", "config": {"root": str(root)}},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


class HangingServer:
    """A TCP server on loopback that accepts connections and never answers (a dead source)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)  # held open, never read from nor written to

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for c in self.conns:
            c.close()
        self.sock.close()
