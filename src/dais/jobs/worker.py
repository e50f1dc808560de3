"""A worker of the resource pool: claims jobs that fit its free capacity and runs them.

One loop (a helper thread only removes ended attempts' scratch folders): claim what fits, launch
each attempt through the executor, ship logs and progress, renew leases with heartbeats (killing
any attempt whose lease was lost), enforce timeouts and cancellation, and re-queue jobs of workers
that died. Attempts that ended are recorded, and new jobs claimed, in one transaction per turn;
while the worker is at least half full, an ended attempt waits up to ``batch_s`` for others to
share it (group commit). On stop it drains: running attempts may finish until the drain timeout,
then they are killed and their jobs handed back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError

from dais.core.errors import DaisError
from dais.core.settings import Settings
from dais.db import Database, utcnow
from dais.jobs import queue
from dais.jobs.executors import Executor, RunHandle, RunOutcome, RunRequest, executors
from dais.jobs.executors.local import scratch_dir
from dais.jobs.kinds import AttemptEnded, JobKind, job_kinds
from dais.jobs.logs import LogShipper, attempt_prefix, log_prefix
from dais.jobs.models import Job, Worker
from dais.jobs.states import JobState
from dais.storage import ArtifactStore
from dais.tenancy import issue_job_token, revoke_job_token

log = logging.getLogger(__name__)

PROGRESS_LOOK_S = 0.1  # how often a running attempt's progress file is looked at
_WAITING = (
    select(Job.id)
    .where(Job.state.in_([JobState.queued, JobState.retrying]), Job.not_before <= bindparam("now"))
    .limit(1)
)


@dataclass
class WorkerConfig:
    """What a worker offers and how it paces itself."""

    name: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    cpus: float = field(default_factory=lambda: float(os.cpu_count() or 1))
    memory_mb: int = field(default_factory=lambda: _total_memory_mb())
    gpu_ids: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    slots: int = 4
    executor: str = "local"
    poll_s: float = 0.02
    idle_poll_s: float = 0.06
    # Group commit: while at least half the slots are busy, an attempt that ended waits up to this
    # long for others, so their ends (and the claims that refill their slots) share a transaction.
    batch_s: float = 0.05
    heartbeat_s: float = 5.0
    lease_s: float = queue.LEASE_SECONDS
    reap_s: float = 5.0
    drain_timeout_s: float = 30.0
    kill_grace_s: float = 5.0
    keep_scratch: bool = False
    # Start the launchers of heavy job kinds at once (long-lived workers), not at their first job.
    prewarm: bool = False


def _total_memory_mb() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 / 1024)
    except (ValueError, OSError):
        return 4096


def _ending_state(r: _Running, outcome: RunOutcome, job: queue.Settled | None) -> str:
    """How an attempt ended, as :class:`AttemptEnded` names it."""
    if job is None:
        return "lost"
    if outcome.succeeded:
        return "succeeded"
    if r.cancelled or job.state == JobState.cancelled:
        return "cancelled"
    return "killed" if r.kill_reason else "failed"


def _remove_all(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_plain(folder: Path, names: tuple[str, ...]) -> bool:
    """Remove an attempt's folder that holds at most ``names`` (a few system calls, no walk)."""
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(folder, name))
    try:
        os.rmdir(folder)
    except FileNotFoundError:
        return True
    except OSError:  # the job left files of its own: walk it, off the loop
        return False
    return True


def _unlaunched(request: RunRequest) -> RunHandle:
    """A handle for an attempt that never started (so it can be settled like any other)."""
    return RunHandle(request, request.scratch / "output.log", request.scratch / "progress.jsonl")


@dataclass
class _Running:
    claim: queue.Claim
    handle: RunHandle
    shipper: LogShipper
    started: float
    token_id: str | None = None
    kill_reason: str | None = None
    cancelled: bool = False
    progress_offset: int = 0
    progress_sent: float = 0.0
    progress_looked: float = 0.0
    outcome: RunOutcome | None = None  # it ended; not recorded yet
    ended_at: float = 0.0


class JobWorker:
    """Runs jobs from the queue until told to stop."""

    def __init__(
        self, settings: Settings, db: Database, store: ArtifactStore, config: WorkerConfig | None = None
    ) -> None:
        self.settings = settings
        self.db = db
        self.store = store
        self.config = config or WorkerConfig()
        self.executor: Executor = executors().get(self.config.executor)()
        self.scratch_root = settings.home / "work"
        self.running: dict[str, _Running] = {}
        self.worker_id = ""
        self._cleaner = ThreadPoolExecutor(1, thread_name_prefix="dais-scratch-cleaner")
        self._hooks: dict[str, type[JobKind] | None] = {}

    # -- lifecycle ---------------------------------------------------------------------------------

    def register(self) -> str:
        c = self.config
        with self.db.session() as s:
            w = Worker(
                name=c.name,
                host=socket.gethostname(),
                pid=os.getpid(),
                executor=c.executor,
                cpus=c.cpus,
                memory_mb=c.memory_mb,
                gpu_ids=list(c.gpu_ids),
                labels=dict(c.labels),
                slots=c.slots,
            )
            s.add(w)
            s.flush()
            self.worker_id = w.id
        log.info(
            "worker %s registered (%s CPU, %s MB, GPUs %s, %s slots)",
            c.name,
            c.cpus,
            c.memory_mb,
            c.gpu_ids or "none",
            c.slots,
        )
        return self.worker_id

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set, then drain."""
        if not self.worker_id:
            self.register()
        c = self.config
        if c.prewarm:
            self.executor.prewarm()
        last_hb = last_reap = 0.0
        next_claim = 0.0
        drain_deadline: float | None = None
        try:
            while True:
                now = time.monotonic()
                if stop.is_set() and drain_deadline is None:
                    drain_deadline = now + c.drain_timeout_s
                    log.info("worker %s draining (%d running)", c.name, len(self.running))
                    self._set_state("draining")
                busy = False
                ended: list[tuple[_Running, RunOutcome]] = []
                try:
                    ended = self._tend_running()
                    draining = drain_deadline is not None
                    due = self._record_due(ended, now, draining=draining)
                    # Room that no attempt holds (the queue had nothing that fit): look for work
                    # now and then.
                    look = (
                        not due
                        and not draining
                        and now >= next_claim
                        and self._free().has_room()
                        and self._work_waiting()  # a cheap read before any write transaction
                    )
                    if due or look:
                        want = not draining and self._free(excluding=ended).slots > 0
                        launched = self._settle(ended, claim=want)
                        ended = []
                        busy = True
                        # Nothing claimable fits: look again soon, without hammering the database.
                        next_claim = now if launched else now + (c.idle_poll_s if want else c.poll_s)
                    if now - last_hb >= c.heartbeat_s:
                        self._heartbeat()
                        last_hb = now
                    if now - last_reap >= c.reap_s:
                        self._reap()
                        last_reap = now
                except Exception:  # one bad tick (a database hiccup) must not end the worker
                    log.exception("worker %s: error in its loop; going on", c.name)
                    time.sleep(c.idle_poll_s)
                if drain_deadline is not None and (not self.running or now >= drain_deadline):
                    self._hand_back_all()
                    return
                if not busy:
                    if self.running:
                        timeout = c.poll_s
                        if ended:  # held for a batch: wake when its time is up at the latest
                            oldest = min(r.ended_at for r, _ in ended)
                            timeout = min(timeout, max(0.0, oldest + c.batch_s - time.monotonic()))
                        self.executor.wait(timeout)  # returns as soon as an attempt ends
                    else:
                        time.sleep(c.poll_s)
        finally:
            self._set_state("gone")
            self.executor.close()
            self._cleaner.shutdown(wait=True)

    # -- claiming ------------------------------------------------------------------------------------

    def _record_due(self, ended: list[tuple[_Running, RunOutcome]], now: float, *, draining: bool) -> bool:
        """Whether the attempts that ended are recorded now, or wait a moment for others to join them.

        They wait only while the worker is at least half full: then others end soon, and one
        transaction records them all and refills their slots. A worker with room records at once.
        """
        if not ended:
            return False
        c = self.config
        live = len(self.running) - len(ended)
        return (
            draining
            or live == 0
            or c.slots - live >= (c.slots + 1) // 2
            or now - min(r.ended_at for r, _ in ended) >= c.batch_s
        )

    def _free(self, excluding: list[tuple[_Running, RunOutcome]] | None = None) -> queue.Capacity:
        c = self.config
        ending = {r.claim.job_id for r, _ in excluding or []}
        busy = [r for r in self.running.values() if r.claim.job_id not in ending]
        used_gpus = {g for r in busy for g in r.claim.gpu_ids}
        cap = queue.Capacity(
            cpus=c.cpus,
            memory_mb=c.memory_mb,
            gpu_ids=[g for g in c.gpu_ids if g not in used_gpus],
            slots=c.slots - len(busy),
            labels=dict(c.labels),
        )
        for r in busy:
            cap.cpus -= r.claim.cpus
            cap.memory_mb -= r.claim.memory_mb
        return cap

    def _work_waiting(self) -> bool:
        """A cheap read: is anything claimable at all? (Avoids a write transaction per idle tick.)"""
        with self.db.engine.connect() as conn:  # no ORM session: this runs on every idle tick
            return conn.execute(_WAITING, {"now": utcnow()}).first() is not None

    def _settle(self, finished: list[tuple[_Running, RunOutcome]], *, claim: bool) -> int:
        """Record ended attempts and claim new jobs in one transaction; launch what was claimed."""
        claims: list[queue.Claim] = []
        tokens: dict[str, tuple[str | None, str | None]] = {}
        recorded: list[queue.Settled | None] | None = None
        for attempt in range(5):
            try:
                with self.db.session() as s:
                    endings = [
                        queue.Ending(
                            r.claim.job_id,
                            r.claim.attempt,
                            succeeded=outcome.succeeded,
                            result=outcome.result,
                            error=outcome.error,
                            exit_code=outcome.exit_code,
                            cancelled=r.cancelled,
                            log_key=r.shipper.prefix,
                        )
                        for r, outcome in finished
                    ]
                    jobs = queue.complete_many(s, self.worker_id, endings)
                    recorded = jobs
                    for (r, _), job in zip(finished, jobs, strict=True):
                        if r.token_id:
                            revoke_job_token(s, r.token_id)
                        if job is None:
                            log.warning(
                                "job %s attempt %s ended after its lease was lost; result dropped",
                                r.claim.job_id,
                                r.claim.attempt,
                            )
                    if claim:
                        claims = queue.claim(
                            s,
                            self.worker_id,
                            self._free(excluding=finished),
                            lease_seconds=self.config.lease_s,
                        )
                        tokens = {c.job_id: self._job_token(s, c) for c in claims}
                break
            except OperationalError as exc:
                log.warning("recording ended jobs / claiming failed (try %d): %s", attempt + 1, exc)
                claims, tokens = [], {}
                time.sleep(0.2 * (attempt + 1))
            except Exception:
                # Not a passing database hiccup: stop holding these jobs; their leases run out and
                # the scheduler delivers them again, so nothing is lost.
                log.exception("recording ended jobs failed; their leases will expire")
                claims, tokens = [], {}
                break
        for r, _ in finished:
            self.running.pop(r.claim.job_id, None)
        if finished and not self.config.keep_scratch:
            # Most attempts leave only their log: that is removed here; anything more is walked
            # off the loop (removing many files can be slow on some disks).
            rest = []
            for r, _ in finished:
                h = r.handle
                if not _remove_plain(h.request.scratch, (h.log_path.name, h.progress_path.name)):
                    rest.append(h.request.scratch)
            if rest:
                self._cleaner.submit(_remove_all, rest)
        for c in claims:
            token_id, secret = tokens[c.job_id]
            self._launch(c, token_id, secret)
        if recorded is not None:
            self._on_finished(
                [
                    (r, _ending_state(r, outcome, job), job)
                    for (r, outcome), job in zip(finished, recorded, strict=True)
                ]
            )
        return len(claims)

    def _hook(self, kind: str) -> type[JobKind] | None:
        """The kind's class if it has an ``on_finished`` hook of its own (looked up once per kind)."""
        if kind not in self._hooks:
            try:
                cls = job_kinds().get(kind)
            except DaisError:
                cls = None
            has = cls is not None and cls.on_finished.__func__ is not JobKind.on_finished.__func__  # type: ignore[attr-defined]
            self._hooks[kind] = cls if has else None
        return self._hooks[kind]

    def _on_finished(self, ended: list[tuple[_Running, str, queue.Settled | None]]) -> None:
        """Tell the kinds that have a hook how their attempts ended (errors are logged, not raised)."""
        for r, state, job in ended:
            cls = self._hook(r.claim.kind)
            if cls is None:
                continue
            info = AttemptEnded(
                job_id=r.claim.job_id,
                attempt=r.claim.attempt,
                workspace_id=r.claim.workspace_id,
                kind=r.claim.kind,
                spec=r.claim.spec,
                state=state,  # type: ignore[arg-type]
                error=job.error if job is not None else r.kill_reason,
                retrying=job is not None and job.state == JobState.retrying,
            )
            try:
                cls.on_finished(self.db, info)
            except Exception:
                log.exception("the on_finished hook of %s failed for job %s", r.claim.kind, r.claim.job_id)

    def _job_token(self, session: Any, c: queue.Claim) -> tuple[str | None, str | None]:
        if c.owner_id is None or not self._api_access(c.kind):
            return None, None
        ttl = timedelta(seconds=(c.timeout_s or 86_400) + 3600)
        return issue_job_token(
            session,
            user_id=c.owner_id,
            workspace_id=c.workspace_id,
            name=f"job {c.job_id} attempt {c.attempt}",
            ttl=ttl,
        )

    @staticmethod
    def _api_access(kind: str) -> bool:
        try:
            return job_kinds().get(kind).api_access
        except DaisError:
            return True  # the run fails with the kind's own error; a token does no harm

    @staticmethod
    def _platform_access(kind: str) -> bool:
        try:
            return job_kinds().get(kind).platform_access
        except DaisError:
            return False

    def _launch(self, c: queue.Claim, token_id: str | None, secret: str | None) -> None:
        scratch = scratch_dir(self.scratch_root, c.job_id, c.attempt)
        env = {
            "DAIS_URL": self.settings.api.base_url(),
            "DAIS_JOB_ID": c.job_id,
            "DAIS_JOB_ATTEMPT": str(c.attempt),
            "DAIS_WORKSPACE": c.workspace_id,
            "DAIS_HOME": str(self.settings.home),
        }
        if secret:
            env["DAIS_TOKEN"] = secret
        if self._platform_access(c.kind):
            env.update(self.settings.platform_env())
        request = RunRequest(
            job_id=c.job_id,
            attempt=c.attempt,
            workspace_id=c.workspace_id,
            kind=c.kind,
            spec=c.spec,
            scratch=scratch,
            gpu_ids=list(c.gpu_ids),
            env=env,
            attempt_prefix=attempt_prefix(c.workspace_id, c.job_id, c.attempt),
        )
        shipper_prefix = log_prefix(c.workspace_id, c.job_id, c.attempt)
        try:
            handle = self.executor.launch(request)
        except Exception as exc:
            log.exception("could not launch job %s", c.job_id)
            failed = _Running(
                c,
                _unlaunched(request),
                LogShipper(self.store, request.scratch / "-", shipper_prefix),
                time.monotonic(),
                token_id=token_id,
            )
            self._settle(
                [(failed, RunOutcome(False, None, error=f"could not start the job: {exc}"))], claim=False
            )
            return
        self.running[c.job_id] = _Running(
            c,
            handle,
            LogShipper(self.store, handle.log_path, shipper_prefix),
            time.monotonic(),
            token_id=token_id,
        )

    # -- tending ---------------------------------------------------------------------------------------

    def _tend_running(self) -> list[tuple[_Running, RunOutcome]]:
        """Poll running attempts, ship their logs and progress, enforce timeouts; the ended ones.

        The ended ones include those that ended on an earlier turn and still wait to be recorded.
        """
        finished: list[tuple[_Running, RunOutcome]] = []
        for job_id, r in list(self.running.items()):
            if r.outcome is not None:  # ended earlier, waiting to be recorded with others
                finished.append((r, r.outcome))
                continue
            outcome = self.executor.poll(r.handle)
            try:
                r.shipper.ship(final=outcome is not None)
            except Exception as exc:  # a store hiccup must not lose the job; the next tick retries
                log.warning("log shipping for %s failed: %s", job_id, exc)
            self._progress(r, final=outcome is not None)
            if outcome is None:
                timeout = r.claim.timeout_s
                if timeout and time.monotonic() - r.started > timeout and r.kill_reason is None:
                    r.kill_reason = f"timed out after {timeout:g} s"
                    self.executor.kill(r.handle, grace_s=self.config.kill_grace_s)
                continue
            if r.kill_reason:
                outcome = RunOutcome(False, outcome.exit_code, error=r.kill_reason)
            r.outcome, r.ended_at = outcome, time.monotonic()
            finished.append((r, outcome))
        return finished

    def _progress(self, r: _Running, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - r.progress_looked < PROGRESS_LOOK_S:
            return
        r.progress_looked = now
        path = r.handle.progress_path
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return
        if size <= r.progress_offset or time.monotonic() - r.progress_sent < 0.5:
            return
        with path.open("rb") as f:
            f.seek(r.progress_offset)
            data = f.read(size - r.progress_offset)
        r.progress_offset = size
        lines = [ln for ln in data.decode(errors="replace").splitlines() if ln.strip()]
        if not lines:
            return
        try:
            last = json.loads(lines[-1])
            with self.db.session() as s:
                queue.report_progress(
                    s,
                    r.claim.job_id,
                    r.claim.attempt,
                    self.worker_id,
                    last.get("fraction"),
                    last.get("message"),
                )
            r.progress_sent = time.monotonic()
        except (ValueError, OperationalError) as exc:
            log.warning("progress of %s not recorded: %s", r.claim.job_id, exc)

    def _heartbeat(self) -> None:
        held = [(r.claim.job_id, r.claim.attempt) for r in self.running.values()]
        try:
            with self.db.session() as s:
                lost = queue.heartbeat(s, self.worker_id, held, lease_seconds=self.config.lease_s)
                cancel = queue.cancel_requested(s, [h[0] for h in held])
        except OperationalError as exc:
            log.warning("heartbeat failed: %s", exc)
            return
        stopped: list[tuple[_Running, str, queue.Settled | None]] = []
        for job_id in lost:
            r = self.running.pop(job_id, None)
            if r is not None:
                log.warning("lost the lease of job %s; stopping attempt %s", job_id, r.claim.attempt)
                if r.outcome is None:
                    self.executor.kill(r.handle, grace_s=0)
                stopped.append((r, "lost", None))
        if stopped:
            self._on_finished(stopped)
        for job_id in cancel:
            r = self.running.get(job_id)
            if r is not None and not r.cancelled and r.outcome is None:
                r.cancelled, r.kill_reason = True, "cancelled"
                self.executor.kill(r.handle, grace_s=self.config.kill_grace_s)

    def _reap(self) -> None:
        try:
            with self.db.session() as s:
                reaped = queue.reap_expired(s)
            if reaped:
                log.warning("re-queued %d job(s) whose worker stopped heartbeating", len(reaped))
        except OperationalError as exc:
            log.warning("reaping expired leases failed: %s", exc)

    def _hand_back_all(self) -> None:
        for job_id, r in list(self.running.items()):
            if r.outcome is None:
                self.executor.kill(r.handle, grace_s=self.config.kill_grace_s)
            try:
                with self.db.session() as s:
                    queue.hand_back(
                        s,
                        job_id,
                        r.claim.attempt,
                        self.worker_id,
                        reason=f"handed back by worker {self.config.name} while it stopped",
                    )
                    if r.token_id:
                        revoke_job_token(s, r.token_id)
            except OperationalError as exc:
                log.warning("could not hand back job %s (its lease will expire): %s", job_id, exc)
            del self.running[job_id]

    def _set_state(self, state: str) -> None:
        if not self.worker_id:
            return
        try:
            with self.db.session() as s:
                s.execute(
                    update(Worker)
                    .where(Worker.id == self.worker_id)
                    .values(state=state, heartbeat_at=utcnow())
                )
        except OperationalError as exc:
            log.warning("could not record worker state %s: %s", state, exc)
