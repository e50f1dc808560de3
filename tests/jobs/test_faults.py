"""Faults a job system must survive: a worker killed mid-job, a flood of log output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dais.core.settings import Settings
from dais.db import Database
from dais.jobs.models import JobAttempt
from dais.jobs.states import JobState
from dais.storage import ArtifactStore
from tests.client.live import serve_in_thread
from tests.conftest import World
from tests.jobs.conftest import running_worker, wait_for

pytestmark = pytest.mark.slow

WORKER = """
import sys, threading
from dais.core.settings import load_settings
from dais.db import create_database
from dais.jobs.worker import JobWorker, WorkerConfig
from dais.storage import open_store
settings = load_settings()
db = create_database(settings.database_url)
cfg = WorkerConfig(name="doomed", lease_s=2.0, heartbeat_s=0.5, reap_s=60)
worker = JobWorker(settings, db, open_store(settings), cfg)
worker.register()
print("registered", flush=True)
worker.run(threading.Event())
"""

JOB = """
import os, time
marks = {marks!r}
n = os.environ["DAIS_JOB_ATTEMPT"]
with open(marks, "a") as f:
    f.write(f"start {{n}} {{time.time()}}\\n")
time.sleep(3)
with open(marks, "a") as f:
    f.write(f"end {{n}} {{time.time()}}\\n")
"""


def _worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIS_")}
    env.update(
        DAIS_HOME=str(settings.home), DAIS_DATABASE_URL=settings.database_url, DAIS_LOG_TO_FILE="false"
    )
    return env


def test_worker_killed_mid_job_the_job_runs_again_once_and_never_side_by_side(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    marks = tmp_path / "marks.txt"
    code = JOB.format(marks=str(marks))
    job = client.post(
        "/api/v1/workspaces/team/jobs",
        headers=alice.headers,
        json={"kind": "script", "spec": {"command": [sys.executable, "-c", code]}},
    ).json()
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        env=_worker_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(db, job["id"], frozenset({JobState.running}))
        deadline = time.monotonic() + 20
        while "start 1" not in (marks.read_text() if marks.exists() else ""):
            assert time.monotonic() < deadline, "the first attempt never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        killed_at = time.time()
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout:
            proc.stdout.close()
    with running_worker(settings, db, store, reap_s=0.3):
        final = wait_for(db, job["id"], timeout=40)
    assert final.state == "succeeded"
    assert final.attempt == 2
    time.sleep(1.5)  # had attempt 1 survived its worker, it would write its "end" line by now
    lines = [ln.split() for ln in marks.read_text().splitlines()]
    assert [(w, n) for w, n, _ in lines] == [("start", "1"), ("start", "2"), ("end", "2")]
    assert float(lines[1][2]) >= killed_at
    with db.session(write=False) as s:
        attempts = {a.number: a.state for a in s.query(JobAttempt).filter_by(job_id=job["id"])}
    assert attempts == {1: "lost", 2: "succeeded"}


def test_a_100_mb_log_does_not_bloat_the_worker_or_the_api(
    app: FastAPI, client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    line_count, width = 100_000, 1023  # 100,000 lines of 1 KiB: 100 MiB
    code = (
        f"import sys\nline = 'x' * {width} + '\\n'\n"
        f"for _ in range({line_count}):\n    sys.stdout.write(line)\n"
    )
    job = client.post(
        "/api/v1/workspaces/team/jobs",
        headers=alice.headers,
        json={"kind": "script", "spec": {"command": [sys.executable, "-c", code]}},
    ).json()
    # Peak Python memory allocated while the log goes through (the RSS high-water mark of a long test
    # process would hide it): holding the log anywhere would show up as 100 MB here.
    tracemalloc.start()
    try:
        with running_worker(settings, db, store):
            assert wait_for(db, job["id"], timeout=120).state == "succeeded"
        worker_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.reset_peak()
        total = 0
        with (
            serve_in_thread(app) as url,
            httpx.stream(
                "GET",
                f"{url}/api/v1/workspaces/team/jobs/{job['id']}/logs",
                headers=alice.headers,
                timeout=60,
            ) as r,
        ):
            assert r.status_code == 200
            for chunk in r.iter_raw():
                total += len(chunk)
        api_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert total >= line_count * (width + 1)
    assert worker_peak_mb < 64, f"the worker held {worker_peak_mb:.0f} MB while 100 MB of log went through"
    assert api_peak_mb < 64, f"the API held {api_peak_mb:.0f} MB while streaming 100 MB of log"
    tail = client.get(
        f"/api/v1/workspaces/team/jobs/{job['id']}/logs", headers=alice.headers, params={"tail": 2048}
    )
    assert len(tail.content) == 2048
    assert tail.content.endswith(b"x\n")
