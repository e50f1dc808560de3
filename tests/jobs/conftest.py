"""Fixtures for the jobs domain: a worker running in a background thread against the test database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from dais.core.settings import Settings
from dais.db import Database
from dais.jobs.models import Job
from dais.jobs.states import FINISHED, JobState
from dais.jobs.worker import JobWorker, WorkerConfig
from dais.storage import ArtifactStore, open_store


@pytest.fixture
def store(settings: Settings) -> ArtifactStore:
    return open_store(settings)


@contextmanager
def running_worker(
    settings: Settings, db: Database, store: ArtifactStore, **config: object
) -> Iterator[JobWorker]:
    """A worker working in a thread until the block ends (then it drains)."""
    cfg = WorkerConfig(
        **{"heartbeat_s": 0.5, "reap_s": 0.5, "drain_timeout_s": 5, "kill_grace_s": 1, **config}
    )  # type: ignore[arg-type]
    worker = JobWorker(settings, db, store, cfg)
    worker.register()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(timeout=30)


def wait_for(db: Database, job_id: str, states: frozenset[JobState] = FINISHED, timeout: float = 30.0) -> Job:
    """The job once it reaches one of ``states`` (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        with db.session(write=False) as s:
            job = s.get(Job, job_id)
            assert job is not None
            if job.state in states:
                return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.state} after {timeout}s ({job.wait_reason})")
        time.sleep(0.05)


@pytest.fixture
def worker_factory(settings: Settings, db: Database, store: ArtifactStore) -> Callable[..., object]:
    def make(**config: object) -> object:
        return running_worker(settings, db, store, **config)

    return make
