"""Helpers for the pipelines API tests: a team, waiting for jobs and runs, registering datasets,
small graphs."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from tests.conftest import Actor

WS = "/api/v1/workspaces/team"
OTHER = "/api/v1/workspaces/other"
FINISHED_JOBS = {"succeeded", "failed", "cancelled", "upstream_failed"}
FINISHED_RUNS = {"succeeded", "failed", "cancelled"}


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
    api: TestClient, headers: dict[str, str], job_id: str, *, ws: str = WS, timeout: float = 60
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        r = api.get(f"{ws}/jobs/{job_id}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["state"] in FINISHED_JOBS:
            return r.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {r.json()['state']} after {timeout}s")
        time.sleep(0.05)


def wait_run(
    api: TestClient, headers: dict[str, str], pipeline: str, run_id: str, timeout: float = 60
) -> Any:
    """The run (with its nodes) once it finished."""
    deadline = time.monotonic() + timeout
    while True:
        r = api.get(f"{WS}/pipelines/{pipeline}/runs/{run_id}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["status"] in FINISHED_RUNS:
            return r.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {r.json()['status']} after {timeout}s")
        time.sleep(0.05)


def people(root: Path, name: str = "people.parquet", rows: int = 50) -> Path:
    """A parquet file of ``rows`` people: id, name, age, city, code (a text column, not numbers)."""
    table = pa.table(
        {
            "id": list(range(rows)),
            "name": [f"person {i}" for i in range(rows)],
            "age": [10 + (i * 7) % 60 for i in range(rows)],
            "city": [["paris", "lyon", "nice"][i % 3] for i in range(rows)],
            "code": [f"c{i}" for i in range(rows)],
        }
    )
    path = root / name
    pq.write_table(table, path)
    return path


def register_people(api: TestClient, headers: dict[str, str], root: Path, name: str = "people") -> None:
    """A file connection on ``root`` and the ``people`` dataset registered through the data domain."""
    people(root)
    r = api.post(
        f"{WS}/connections",
        headers=headers,
        json={"name": "files", "kind": "file", "config": {"root": str(root)}},
    )
    assert r.status_code == 201, r.text
    r = api.post(
        f"{WS}/datasets",
        headers=headers,
        json={"name": name, "connection": "files", "source": {"path": "people.parquet"}},
    )
    assert r.status_code == 202, r.text
    job = wait_job(api, headers, r.json()["job"]["id"])
    assert job["state"] == "succeeded", job["error"]


def node(node_id: str, operator: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params}


def edge(source: str, target: str, source_port: str = "out", target_port: str = "in") -> dict[str, Any]:
    return {"source": source, "source_port": source_port, "target": target, "target_port": target_port}


def chain(*nodes: dict[str, Any], variables: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A linear graph: each node feeds the next."""
    edges = [edge(a["id"], b["id"]) for a, b in itertools.pairwise(nodes)]
    return {"nodes": list(nodes), "edges": edges, "variables": variables or []}
