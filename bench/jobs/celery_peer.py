"""The peer: Celery with the Redis broker, a no-op task that reports when it started."""

from __future__ import annotations

import os
import time

from celery import Celery

BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")

app = Celery("bench", broker=BROKER, backend=BROKER)
app.conf.update(
    result_expires=600,
    worker_prefetch_multiplier=4,
    task_ignore_result=False,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def noop(queued_at: float) -> tuple[float, float]:
    """Does nothing; returns (queued at, started at) so the caller can measure dispatch."""
    return queued_at, time.time()
