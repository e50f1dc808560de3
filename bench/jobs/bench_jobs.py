"""2,000 no-op jobs through 4 local workers: Dais (SQLite and PostgreSQL) against Celery + Redis.

Two measures per system:
- throughput: submit N jobs at once (Dais: in batches of --batch jobs, as `POST .../jobs:batch` does;
  1 = one submit per job), time from the first queued to the last finished (jobs/s);
- dispatch: submit jobs one at a time at a steady pace below capacity and measure the time from
  queued to running (p50/p99), i.e. what the scheduler itself adds.

Dais workers do not pre-start the heavy launchers of data and training kinds (their start-up imports
would overlap the measurement; no-op jobs fork from the light launcher), and each no-op job asks for
--job-cpus CPU so that a worker's --slots fit the CPUs it offers (the machine's cores: with 1 CPU
each, a worker on 2 cores runs 2 jobs at a time, whatever its slots).

Run: .venv/bin/python bench/jobs/bench_jobs.py [--jobs 2000] [--paced 200] [--slots 8] [--skip-postgres]
(needs Redis at 127.0.0.1:6379 and, for the PostgreSQL row, a server at 127.0.0.1:5432).
Prints a table and appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Result:
    system: str
    jobs: int
    seconds: float
    p50_ms: float
    p99_ms: float
    durable: str

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


# -- Dais -------------------------------------------------------------------------------------------


def _dais_env(home: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIS_")}
    env.update(
        DAIS_HOME=str(home),
        DAIS_DATABASE_URL=db_url,
        DAIS_LOG_TO_FILE="false",
        DAIS_LOG_LEVEL="WARNING",
        DAIS_JOBS_PREWARM="false",
    )
    return env


def bench_dais(
    label: str, db_url: str, n: int, paced: int, workers: int, slots: int, batch: int, job_cpus: float
) -> tuple[Result, Result]:
    from sqlalchemy import func, select

    from dais.db import create_database, upgrade
    from dais.jobs.models import Job
    from dais.jobs.schemas import JobBatchSubmit, JobSubmit, Resources
    from dais.jobs.service import submit_job, submit_jobs
    from dais.tenancy.access import AuditContext, Principal, require_workspace
    from dais.tenancy.bootstrap import ensure_admin
    from dais.tenancy.roles import Role

    home = Path(tempfile.mkdtemp(prefix="dais-bench-"))
    upgrade(db_url)
    db = create_database(db_url)
    with db.session() as s:
        admin = ensure_admin(s, username="admin", password="bench-password").admin  # noqa: S106
    principal = Principal(admin, "password")
    ctx = AuditContext(admin.id, admin.username)

    procs = [
        subprocess.Popen(
            [str(VENV_BIN / "dais"), "worker", "--slots", str(slots), "--name", f"bench-{i}"],
            env=_dais_env(home, db_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    try:
        _wait_workers(db, workers)

        noop = JobSubmit(kind="noop", resources=Resources(cpus=job_cpus))

        def submit(count: int, *, pace_s: float = 0.0, size: int = 1) -> list[str]:
            ids: list[str] = []
            while len(ids) < count:
                with db.session() as s:
                    access = require_workspace(s, principal, "default", Role.editor)
                    if size > 1:
                        jobs = JobBatchSubmit(jobs=[noop] * min(size, count - len(ids)))
                        ids.extend(j.id for j in submit_jobs(s, ctx, access, jobs))
                    else:
                        ids.append(submit_job(s, ctx, access, noop).id)
                if pace_s:
                    time.sleep(pace_s)
            return ids

        def drain(ids: list[str]) -> tuple[float, list[float]]:
            while True:
                with db.session(write=False) as s:
                    done = s.scalar(
                        select(func.count())
                        .select_from(Job)
                        .where(Job.id.in_(ids), Job.state.in_(["succeeded", "failed"]))
                    )
                if done == len(ids):
                    break
                time.sleep(0.05)
            with db.session(write=False) as s:
                rows = s.execute(
                    select(Job.queued_at, Job.started_at, Job.finished_at).where(Job.id.in_(ids))
                )
                rows = list(rows)
            first = min(r[0] for r in rows)
            last = max(r[2] for r in rows)
            return (last - first).total_seconds(), [(r[1] - r[0]).total_seconds() for r in rows]

        submit(20)  # warm the launchers
        time.sleep(1)
        ids = submit(n, size=batch)
        seconds, _ = drain(ids)
        ids = submit(paced, pace_s=0.02)
        _, waits = drain(ids)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        db.dispose()
        shutil.rmtree(home, ignore_errors=True)
    durable = "yes (DB leases)"
    through = Result(f"Dais, {label}", n, seconds, float("nan"), float("nan"), durable)
    dispatch = Result(f"Dais, {label}", paced, 0, _pct(waits, 0.5), _pct(waits, 0.99), durable)
    return through, dispatch


def _wait_workers(db: object, count: int) -> None:
    from sqlalchemy import func, select

    from dais.jobs.models import Worker

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db.session(write=False) as s:  # type: ignore[attr-defined]
            if s.scalar(select(func.count()).select_from(Worker).where(Worker.state == "active")) >= count:
                return
        time.sleep(0.2)
    raise RuntimeError("workers did not register")


# -- Celery -----------------------------------------------------------------------------------------


def bench_celery(n: int, paced: int, concurrency: int) -> tuple[Result, Result]:
    sys.path.insert(0, str(Path(__file__).parent))
    from celery_peer import app, noop

    app.control.purge()
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "celery_peer",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=Path(__file__).parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start")
        [noop.delay(time.time()) for _ in range(20)][-1].get(timeout=60)
        start = time.time()
        results = [noop.delay(time.time()) for _ in range(n)]
        for r in results:
            r.get(timeout=300)
        seconds = time.time() - start
        waits = []
        for _ in range(paced):
            r = noop.delay(time.time())
            time.sleep(0.02)
            waits.append(r)
        waits_s = [b - a for a, b in (r.get(timeout=60) for r in waits)]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    durable = "no (acks on receipt by default)"
    return (
        Result("Celery + Redis", n, seconds, float("nan"), float("nan"), durable),
        Result("Celery + Redis", paced, 0, _pct(waits_s, 0.5), _pct(waits_s, 0.99), durable),
    )


# -- main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--slots", type=int, default=8, help="Jobs each Dais worker runs at once (each in its own process)."
    )
    parser.add_argument(
        "--batch", type=int, default=100, help="Dais jobs per submit in the throughput run (1: one each)."
    )
    parser.add_argument("--job-cpus", type=float, default=0.25, help="CPU each Dais no-op job asks for.")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-record", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    rows: list[tuple[Result, Result]] = []
    sqlite_dir = Path(tempfile.mkdtemp(prefix="dais-bench-db-"))
    knobs = (args.workers, args.slots, args.batch, args.job_cpus)
    rows.append(bench_dais("SQLite", f"sqlite:///{sqlite_dir / 'dais.db'}", args.jobs, args.paced, *knobs))
    if not args.skip_postgres:
        from sqlalchemy import create_engine, text

        name = f"dais_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            rows.append(
                bench_dais(
                    "PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.jobs, args.paced, *knobs
                )
            )
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    celery = bench_celery(args.jobs, args.paced, args.workers)
    rows.append(celery)

    lines = [
        f"| system | {args.jobs} no-op jobs: seconds | jobs/s | vs Celery "
        "| dispatch p50 ms | dispatch p99 ms | durable if a worker dies |",
        "|---|---|---|---|---|---|---|",
    ]
    for through, dispatch in rows:
        ratio = through.rate / celery[0].rate
        lines.append(
            f"| {through.system} | {through.seconds:.1f} | {through.rate:.0f} | {ratio:.2f}x "
            f"| {dispatch.p50_ms:.1f} | {dispatch.p99_ms:.1f} | {through.durable} |"
        )
    table = "\n".join(lines)
    print(table)
    if not args.no_record:
        cmd = "python bench/jobs/bench_jobs.py " + " ".join(sys.argv[1:])
        header = (
            f"\n## Jobs: {args.jobs} no-op jobs, {args.workers} workers x {args.slots} slot(s) "
            f"vs Celery prefork {args.workers} ({datetime.now(UTC):%Y-%m-%d})\n\n"
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
            f"Command: `{cmd.strip()}`. Dais jobs submitted in batches of {args.batch} for throughput "
            f"(`POST .../jobs:batch`; Celery: one `delay()` each), each asking {args.job_cpus:g} CPU; "
            f"Dispatch = queued to running, jobs submitted one at a time every 20 ms.\n\n"
        )
        with (ROOT / "bench" / "RESULTS.md").open("a") as f:
            f.write(header + table + "\n")


if __name__ == "__main__":
    main()
