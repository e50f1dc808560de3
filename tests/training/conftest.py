"""Fixtures of the training API and job tests: a team in two workspaces, datasets registered straight
into the metadata database (inspected like a ``data.register`` job does, without its job), a client,
and a worker that runs training jobs."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dais.app import create_app
from dais.core.settings import Settings
from dais.db import Database
from dais.storage import WorkspaceArtifacts, open_store
from tests.conftest import Actor, World
from tests.jobs.conftest import running_worker

WS = "/api/v1/workspaces/team"
FINISHED_JOBS = {"succeeded", "failed", "cancelled", "upstream_failed"}


@dataclass
class Team:
    """alice owns ``team`` (victor is a viewer there); eve owns ``other``."""

    alice: Actor
    victor: Actor
    eve: Actor
    team_id: str
    other_id: str

    @property
    def h(self) -> dict[str, str]:
        return self.alice.headers


@pytest.fixture
def team(world: World) -> Team:
    alice = world.user("alice")
    victor = world.user("victor")
    eve = world.user("eve")
    team_id = world.workspace("team", alice, members={"victor": "viewer"})
    other_id = world.workspace("other", eve)
    return Team(alice, victor, eve, team_id, other_id)


@pytest.fixture
def train_app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db=db)


@pytest.fixture
def api(train_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(train_app) as c:
        yield c


@pytest.fixture
def worker(settings: Settings, db: Database) -> Iterator[None]:
    """A worker (in a thread) running jobs with the platform's settings."""
    with running_worker(settings, db, open_store(settings)):
        yield


def customers(rows: int = 200, seed: int = 0) -> pa.Table:
    """Customers who churn or not: numeric features, a text column, a date, a text target."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 60, rows)
    spend = rng.normal(50, 15, rows)
    churn = (tenure < 20) ^ (rng.uniform(size=rows) < 0.1)
    start = np.datetime64("2024-01-01")
    return pa.table(
        {
            "tenure": pa.array(tenure, pa.int64()),
            "spend": pa.array(spend, pa.float64()),
            "support_calls": pa.array(rng.poisson(2, rows), pa.int64()),
            "plan": pa.array(rng.choice(["basic", "pro"], rows), pa.string()),
            "signup": pa.array((start + np.arange(rows).astype("timedelta64[D]")).astype("datetime64[us]")),
            "churn": pa.array(np.where(churn, "yes", "no"), pa.string()),
            "value": pa.array(spend * 12 + tenure * 3.0, pa.float64()),
        }
    )


def register(settings: Settings, db: Database, workspace_id: str, name: str, table: pa.Table) -> str:
    """``table`` as a parquet file in the workspace's artifacts, registered as dataset ``name``
    (inspected as registration does); the dataset's id."""
    from dais.data import DataFormat, SourceSpec, artifacts_connector, inspect_source, record_registration

    buf = io.BytesIO()
    pq.write_table(table, buf)
    arts = WorkspaceArtifacts(open_store(settings), workspace_id)
    path = f"uploads/{name}/data.parquet"
    arts.store.put_bytes(arts.full_key(path), buf.getvalue())
    source = SourceSpec(path=path, format=DataFormat.parquet)
    connector = artifacts_connector(settings, workspace_id)
    try:
        inspection = inspect_source(
            connector, source, sample_rows=1000, sample_max_bytes=1 << 20, timeout_s=20, allow_empty=True
        )
    finally:
        connector.close()
    with db.session() as s:
        ds = record_registration(
            s,
            workspace_id=workspace_id,
            job_id=None,  # type: ignore[arg-type]  # registered by the test, not by a job
            owner_id=None,
            name=name,
            description="",
            tags=[],
            connection_id=None,
            source=source,
            inspection=inspection,
        )
        return ds.id


def wait_job(api: TestClient, headers: dict[str, str], job_id: str, *, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        r = api.get(f"{WS}/jobs/{job_id}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["state"] in FINISHED_JOBS:
            return r.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {r.json()['state']} after {timeout}s")
        time.sleep(0.05)
