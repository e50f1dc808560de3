"""Workers run by the CLI: the pool inside ``dais up`` and ``dais worker`` in the foreground.

Imported only when one of them runs (it pulls in the server code). Each worker is a
:class:`~dais.jobs.worker.JobWorker` looping in a thread; the jobs themselves run in child
processes, so a crashing job never takes a worker, or ``dais up``, down.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from dais.cli.output import say
from dais.core.logging import configure_logging
from dais.core.settings import Settings, load_settings
from dais.db import Database, check_schema, create_database
from dais.jobs.worker import JobWorker, WorkerConfig
from dais.storage import open_store


@dataclass
class WorkerPool:
    """Workers each looping in a thread of this process until :meth:`stop`."""

    workers: list[JobWorker] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)

    @property
    def slots(self) -> int:
        return sum(w.config.slots for w in self.workers)

    def stop(self) -> None:
        """Drain every worker at once (running jobs may finish, then are handed back) and wait."""
        self.stop_event.set()
        for worker, thread in zip(self.workers, self.threads, strict=True):
            c = worker.config
            thread.join(timeout=c.drain_timeout_s + 2 * c.kill_grace_s + 30)


def start_pool(settings: Settings, db: Database, *, workers: int, slots: int) -> WorkerPool:
    """Register ``workers`` workers of ``slots`` slots each and start them, each in its own thread."""
    pool = WorkerPool()
    store = open_store(settings)
    host, pid = socket.gethostname(), os.getpid()
    for i in range(workers):
        worker = JobWorker(
            settings,
            db,
            store,
            WorkerConfig(name=f"{host}-{pid}-{i + 1}", slots=slots, prewarm=settings.jobs.prewarm),
        )
        worker.register()
        thread = threading.Thread(
            target=worker.run, args=(pool.stop_event,), name=f"dais-worker-{i + 1}", daemon=True
        )
        pool.workers.append(worker)
        pool.threads.append(thread)
    for thread in pool.threads:
        thread.start()
    return pool


def run_worker(
    *,
    cpus: float | None,
    memory_mb: int | None,
    gpu_ids: list[str],
    labels: dict[str, str],
    slots: int | None,
    executor: str,
    name: str | None,
) -> None:
    """``dais worker``: one worker in the foreground until SIGTERM or Ctrl-C, then drain and return."""
    settings = load_settings()
    configure_logging(
        level=settings.log.level,
        fmt=settings.log.format,
        log_dir=settings.logs_dir if settings.log.to_file else None,
    )
    db = create_database(
        settings.database_url,
        echo=settings.database.echo,
        busy_timeout_s=settings.database.sqlite_busy_timeout_s,
        pool_size=settings.database.pool_size,
    )
    try:
        check_schema(db.engine)  # refuses a stale schema, naming `dais db upgrade`
        overrides: dict[str, Any] = {"slots": slots or settings.jobs.slots, "executor": executor}
        if cpus is not None:
            overrides["cpus"] = cpus
        if memory_mb is not None:
            overrides["memory_mb"] = memory_mb
        if name:
            overrides["name"] = name
        config = WorkerConfig(gpu_ids=gpu_ids, labels=labels, prewarm=settings.jobs.prewarm, **overrides)
        worker = JobWorker(settings, db, open_store(settings), config)
        worker.register()
        stop = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            gpus = ",".join(gpu_ids) or "none"
            say(
                f"Worker [bold]{config.name}[/bold] is working: {config.cpus:g} CPU, {config.memory_mb} MB, "
                f"GPUs {gpus}, {config.slots} slots, executor {config.executor}. Stop: Ctrl-C or SIGTERM."
            )
            worker.run(stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        db.dispose()
    say("Worker stopped.")


@dataclass
class SchedulerService:
    """The scheduler looping in a thread of this process until :meth:`stop`."""

    thread: threading.Thread
    stop_event: threading.Event

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)


def start_scheduler(settings: Settings, db: Database) -> SchedulerService:
    """Start the scheduler (schedules, notifications, lost-lease recovery) in a thread."""
    from dais.jobs.scheduler import Scheduler

    stop = threading.Event()
    thread = threading.Thread(
        target=Scheduler(settings, db).run, args=(stop,), name="dais-scheduler", daemon=True
    )
    thread.start()
    return SchedulerService(thread, stop)


def run_scheduler() -> None:
    """``dais scheduler``: the scheduler in the foreground until SIGTERM or Ctrl-C."""
    from dais.jobs.scheduler import Scheduler

    settings = load_settings()
    configure_logging(
        level=settings.log.level,
        fmt=settings.log.format,
        log_dir=settings.logs_dir if settings.log.to_file else None,
    )
    db = create_database(
        settings.database_url,
        echo=settings.database.echo,
        busy_timeout_s=settings.database.sqlite_busy_timeout_s,
        pool_size=settings.database.pool_size,
    )
    try:
        check_schema(db.engine)
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            say("Scheduler running (one leads at a time when several run). Stop: Ctrl-C or SIGTERM.")
            Scheduler(settings, db).run(stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        db.dispose()
    say("Scheduler stopped.")
