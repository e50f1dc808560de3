"""Workers running real jobs in child processes: DAGs, retries, quotas, fair share, cancel, timeouts."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dais.core.settings import Settings
from dais.db import Database
from dais.jobs import queue
from dais.jobs.models import Job, JobAttempt
from dais.jobs.states import JobState
from dais.storage import ArtifactStore
from tests.conftest import World
from tests.jobs.conftest import running_worker, wait_for

pytestmark = pytest.mark.slow


def _submit(client: TestClient, h: dict[str, str], ws: str = "team", **body: object) -> dict[str, object]:
    r = client.post(f"/api/v1/workspaces/{ws}/jobs", headers=h, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_dag_runs_in_order_and_a_failure_stops_downstream_until_retried(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    nodes = [
        {"node": "a", "kind": "sleep", "spec": {"seconds": 0.1, "steps": 1}},
        {"node": "b", "kind": "fail", "after": ["a"]},
        {"node": "c", "kind": "noop", "after": ["a"]},
        {"node": "d", "kind": "noop", "after": ["b", "c"]},
    ]
    dag = client.post("/api/v1/workspaces/team/dags", headers=alice.headers, json={"nodes": nodes}).json()
    ids = {j["dag_node"]: j["id"] for j in dag["jobs"]}
    with running_worker(settings, db, store):
        for node in "abcd":
            wait_for(db, ids[node])
        with db.session(write=False) as s:
            state = {n: s.get(Job, i).state for n, i in ids.items()}  # type: ignore[union-attr]
            started = {n: s.get(Job, i).started_at for n, i in ids.items()}  # type: ignore[union-attr]
        assert state == {"a": "succeeded", "b": "failed", "c": "succeeded", "d": "upstream_failed"}
        assert started["b"] >= started["a"]
        assert started["c"] >= started["a"]
        failed = client.get(f"/api/v1/workspaces/team/jobs/{ids['b']}", headers=alice.headers).json()
        assert "failed on purpose" in failed["error"]
        # Retrying the failed node lets the DAG go on (it fails again: `fail` always does).
        client.post(f"/api/v1/workspaces/team/jobs/{ids['b']}/retry", headers=alice.headers)
        assert client.get(f"/api/v1/workspaces/team/jobs/{ids['d']}", headers=alice.headers).json()[
            "state"
        ] == ("pending")
        job = wait_for(db, ids["b"])
        assert job.attempt == 2
        assert wait_for(db, ids["d"]).state == "upstream_failed"


def test_failed_attempts_are_retried_with_backoff(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    job = _submit(client, alice.headers, kind="fail", max_attempts=3, backoff_s=0.2)
    with running_worker(settings, db, store):
        final = wait_for(db, str(job["id"]))
    assert final.state == "failed"
    assert final.attempt == 3
    detail = client.get(f"/api/v1/workspaces/team/jobs/{job['id']}", headers=alice.headers).json()
    assert [a["state"] for a in detail["attempts"]] == ["failed", "failed", "failed"]
    starts = [a["started_at"] for a in detail["attempts"]]
    assert starts == sorted(starts)


def test_quota_of_one_keeps_the_second_job_queued_with_the_reason(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore, admin: object
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    r = client.patch(
        "/api/v1/workspaces/team/quota",
        headers=admin.headers,  # type: ignore[attr-defined]
        json={"max_concurrent_jobs": 1},
    )
    assert r.status_code == 200, r.text
    first = _submit(client, alice.headers, kind="sleep", spec={"seconds": 1.5, "steps": 3})
    second = _submit(client, alice.headers, kind="noop")
    with running_worker(settings, db, store, slots=4):
        wait_for(db, str(first["id"]), frozenset({JobState.running}))
        time.sleep(0.5)
        waiting = client.get(f"/api/v1/workspaces/team/jobs/{second['id']}", headers=alice.headers).json()
        assert waiting["state"] == "queued"
        assert waiting["wait_reason"].startswith("quota:")
        assert "1 concurrent job" in waiting["wait_reason"]
        done = wait_for(db, str(second["id"]))
        first_done = wait_for(db, str(first["id"]))
    assert done.state == first_done.state == "succeeded"
    assert done.started_at >= first_done.finished_at  # type: ignore[operator]


def test_workspaces_of_equal_priority_share_a_worker_fairly(world: World, db: Database) -> None:
    alice, bob = world.user("alice"), world.user("bob")
    ws_a = world.workspace("a", alice)
    ws_b = world.workspace("b", bob)
    with db.session() as s:
        for i in range(4):  # all of a's jobs are older than b's
            s.add(Job(workspace_id=ws_a, name=f"a{i}", kind="noop", spec={}, state="queued"))
            s.flush()
        for i in range(4):
            s.add(Job(workspace_id=ws_b, name=f"b{i}", kind="noop", spec={}, state="queued"))
            s.flush()
    with db.session() as s:
        claims = queue.claim(s, "w1", queue.Capacity(cpus=64, memory_mb=64_000, gpu_ids=[], slots=4))
        names = [s.get(Job, c.job_id).name for c in claims]  # type: ignore[union-attr]
    assert sorted(names) == ["a0", "a1", "b0", "b1"]


def test_higher_priority_workspace_goes_first(
    world: World, db: Database, admin: object, client: TestClient
) -> None:
    alice, bob = world.user("alice"), world.user("bob")
    ws_a = world.workspace("a", alice)
    ws_b = world.workspace("b", bob)
    client.patch("/api/v1/workspaces/b/quota", headers=admin.headers, json={"priority": 5})  # type: ignore[attr-defined]
    with db.session() as s:
        s.add(Job(workspace_id=ws_a, name="a", kind="noop", spec={}, state="queued"))
        s.flush()
        s.add(Job(workspace_id=ws_b, name="b", kind="noop", spec={}, state="queued"))
    with db.session() as s:
        claims = queue.claim(s, "w1", queue.Capacity(cpus=64, memory_mb=64_000, gpu_ids=[], slots=1))
        assert [s.get(Job, c.job_id).name for c in claims] == ["b"]  # type: ignore[union-attr]


def test_gpu_ids_are_handed_to_the_job_and_never_shared(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    code = "import os, time; print('GPUS=' + os.environ['CUDA_VISIBLE_DEVICES']); time.sleep(0.8)"
    jobs = [
        _submit(
            client,
            alice.headers,
            kind="script",
            spec={"command": [sys.executable, "-c", code]},
            resources={"gpus": 1},
        )
        for _ in range(3)
    ]
    with running_worker(settings, db, store, gpu_ids=["0", "1"], slots=4):
        time.sleep(0.5)
        with db.session(write=False) as s:
            running = [s.get(Job, str(j["id"])) for j in jobs]
            held = [j.gpu_ids for j in running if j is not None and j.state == "running"]
        assert len(held) == 2
        assert sorted(g for ids in held for g in ids) == ["0", "1"]
        finals = [wait_for(db, str(j["id"])) for j in jobs]
    assert all(j.state == "succeeded" for j in finals)
    outputs = {
        client.get(f"/api/v1/workspaces/team/jobs/{j['id']}/logs", headers=alice.headers)
        .text.strip()
        .splitlines()[-1]
        for j in jobs
    }
    assert outputs <= {"GPUS=0", "GPUS=1"}


def test_cancel_kills_the_whole_process_tree(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore, tmp_path: Path
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    pidfile = tmp_path / "child.pid"
    code = (
        f"import subprocess, time; p = subprocess.Popen(['sleep', '60']); "
        f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    job = _submit(client, alice.headers, kind="script", spec={"command": [sys.executable, "-c", code]})
    with running_worker(settings, db, store):
        wait_for(db, str(job["id"]), frozenset({JobState.running}))
        deadline = time.monotonic() + 15
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        grandchild = int(pidfile.read_text())
        r = client.post(f"/api/v1/workspaces/team/jobs/{job['id']}/cancel", headers=alice.headers)
        assert r.status_code == 200
        assert r.json()["cancel_requested"]
        final = wait_for(db, str(job["id"]))
    assert final.state == "cancelled"
    _assert_gone(grandchild)


def _assert_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # A zombie (exited, not yet reaped by its parent) no longer runs.
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return
        except FileNotFoundError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"process {pid} outlived its job")


def test_timeout_fails_the_job(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    job = _submit(client, alice.headers, kind="sleep", spec={"seconds": 30, "steps": 30}, timeout_s=1)
    with running_worker(settings, db, store):
        final = wait_for(db, str(job["id"]))
    assert final.state == "failed"
    assert "timed out after 1 s" in (final.error or "")


def test_a_crashing_job_does_not_take_the_worker_down(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    crash = _submit(
        client,
        alice.headers,
        kind="script",
        spec={"command": [sys.executable, "-c", "import os; os._exit(7)"]},
    )
    segv = _submit(
        client,
        alice.headers,
        kind="script",
        spec={"command": [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), 9)"]},
    )
    after = _submit(client, alice.headers, kind="noop")
    with running_worker(settings, db, store, slots=1):
        assert wait_for(db, str(crash["id"])).state == "failed"
        assert wait_for(db, str(segv["id"])).state == "failed"
        assert wait_for(db, str(after["id"])).state == "succeeded"
    with db.session(write=False) as s:
        assert "code 7" in (s.get(Job, str(crash["id"])).error or "")  # type: ignore[union-attr]


def test_progress_is_reported_while_running(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    job = _submit(client, alice.headers, kind="sleep", spec={"seconds": 3, "steps": 6})
    seen: set[str] = set()
    with running_worker(settings, db, store):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = client.get(f"/api/v1/workspaces/team/jobs/{job['id']}", headers=alice.headers).json()
            if body["progress_message"]:
                seen.add(body["progress_message"])
            if body["state"] == "succeeded":
                break
            time.sleep(0.1)
    assert body["state"] == "succeeded"
    assert body["progress"] == 1.0
    assert len(seen) >= 2


def test_draining_worker_hands_back_a_job_it_cannot_finish(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    job = _submit(client, alice.headers, kind="sleep", spec={"seconds": 30, "steps": 30})
    with running_worker(settings, db, store, drain_timeout_s=0.5):
        wait_for(db, str(job["id"]), frozenset({JobState.running}))
    with db.session(write=False) as s:
        j = s.get(Job, str(job["id"]))
        assert j is not None
        assert j.state == "queued"
        assert j.attempt == 0
        assert j.lease_owner is None
        assert "handed back" in (j.wait_reason or "")
        states = [a.state for a in s.query(JobAttempt).filter_by(job_id=j.id)]
    assert states == ["handed_back"]
    with running_worker(settings, db, store):
        client.post(f"/api/v1/workspaces/team/jobs/{job['id']}/cancel", headers=alice.headers)
        assert wait_for(db, str(job["id"])).state == "cancelled"


def test_many_jobs_through_two_workers_each_run_exactly_once(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    ids = [str(_submit(client, alice.headers, kind="noop")["id"]) for _ in range(30)]
    with running_worker(settings, db, store, name="w1"), running_worker(settings, db, store, name="w2"):
        for i in ids:
            wait_for(db, i)
    with db.session(write=False) as s:
        jobs = [s.get(Job, i) for i in ids]
        assert all(j is not None and j.state == "succeeded" and j.attempt == 1 for j in jobs)
        attempts = s.query(JobAttempt).filter(JobAttempt.job_id.in_(ids)).count()
    assert attempts == 30
