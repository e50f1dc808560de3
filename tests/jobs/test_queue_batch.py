"""Batched queue writes (several attempts settled in one transaction) and the zygote's pipe protocol."""

from __future__ import annotations

import time
from pathlib import Path

from dais.db import Database
from dais.jobs import queue
from dais.jobs.executors import RunOutcome, RunRequest
from dais.jobs.executors.local import LocalExecutor
from dais.jobs.models import Job, JobAttempt
from tests.conftest import World


def _queued(db: Database, ws: str, count: int) -> list[str]:
    ids = []
    with db.session() as s:
        for i in range(count):
            job = Job(workspace_id=ws, name=f"j{i}", kind="noop", spec={}, state="queued")
            s.add(job)
            s.flush()
            ids.append(job.id)
    return ids


def test_several_attempts_settle_in_one_call_and_a_lost_lease_is_not_recorded(
    world: World, db: Database
) -> None:
    ws = world.workspace("team", world.user("alice"))
    _queued(db, ws, 3)
    with db.session() as s:
        claims = queue.claim(s, "w1", queue.Capacity(cpus=64, memory_mb=64_000, gpu_ids=[], slots=3))
    assert len(claims) == 3
    assert all(c.attempt == 1 for c in claims)
    ok, failed, stale = claims
    with db.session() as s:
        jobs = queue.complete_many(
            s,
            "w1",
            [
                queue.Ending(ok.job_id, 1, succeeded=True, result={"n": 1}, exit_code=0),
                queue.Ending(failed.job_id, 1, succeeded=False, error="boom", exit_code=1),
                queue.Ending(stale.job_id, 2, succeeded=True),  # an attempt this worker does not hold
            ],
        )
    assert [j is not None for j in jobs] == [True, True, False]
    with db.session(write=False) as s:
        states = {c.job_id: s.get_one(Job, c.job_id) for c in claims}
        assert states[ok.job_id].state == "succeeded"
        assert states[ok.job_id].result == {"n": 1}
        assert states[failed.job_id].state == "failed"
        assert states[failed.job_id].error == "boom"
        assert states[stale.job_id].state == "running"
        attempts = {a.job_id: a for a in s.query(JobAttempt).filter(JobAttempt.number == 1)}
    assert attempts[ok.job_id].state == "succeeded"
    assert attempts[ok.job_id].exit_code == 0
    assert attempts[failed.job_id].state == "failed"
    assert attempts[failed.job_id].error == "boom"
    assert attempts[stale.job_id].state == "running"


def test_a_claim_of_several_jobs_records_one_attempt_each(world: World, db: Database) -> None:
    ws = world.workspace("team", world.user("alice"))
    ids = _queued(db, ws, 5)
    with db.session() as s:
        claims = queue.claim(s, "w1", queue.Capacity(cpus=64, memory_mb=64_000, gpu_ids=["0"], slots=4))
    assert len(claims) == 4
    with db.session(write=False) as s:
        running = [s.get(Job, c.job_id) for c in claims]
        assert all(j is not None and j.state == "running" and j.lease_owner == "w1" for j in running)
        assert s.query(JobAttempt).filter(JobAttempt.job_id.in_(ids)).count() == 4
        assert s.get_one(Job, ids[4]).state == "queued"


def _run(executor: LocalExecutor, request: RunRequest) -> RunOutcome:
    handle = executor.launch(request)
    deadline = time.monotonic() + 30
    while (outcome := executor.poll(handle)) is None:
        assert time.monotonic() < deadline, "the attempt did not end"
        executor.wait(0.05)
    return outcome


def test_the_run_request_and_its_secrets_never_touch_the_disk(tmp_path: Path) -> None:
    executor = LocalExecutor()
    try:
        scratch = tmp_path / "job-1"
        request = RunRequest(
            job_id="job",
            attempt=1,
            workspace_id="ws",
            kind="noop",
            spec={},
            scratch=scratch,
            attempt_prefix="ws/jobs/job/attempt-1/",
            env={"DAIS_TOKEN": "dais_secret_value"},
        )
        outcome = _run(executor, request)
        assert outcome.succeeded
        assert outcome.result == {}
        assert sorted(p.name for p in scratch.iterdir()) == ["output.log"]
        assert (scratch.stat().st_mode & 0o777) == 0o700
        fail = RunRequest("job", 2, "ws", "fail", {"message": "no luck"}, tmp_path / "j2", "p/")
        failed = _run(executor, fail)
        assert not failed.succeeded
        assert failed.exit_code == 1
        assert failed.error == "RuntimeError: no luck"
        assert "RuntimeError: no luck" in (tmp_path / "j2" / "output.log").read_text()  # the traceback
    finally:
        executor.close()
