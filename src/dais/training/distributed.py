"""Distributed data-parallel (DDP) training: a launcher for N worker processes on one machine.

:func:`launch` starts ``processes`` ranks, each running ``fn(ctx, payload)`` with a
:class:`RankContext`. The ranks meet at a TCP store the launcher hosts on a free loopback port
(``MASTER_ADDR``/``MASTER_PORT``/``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` are set in each rank's
environment too), and join a process group: ``nccl`` when CUDA has a GPU for every rank, ``gloo`` on
CPU. The training code wraps its model in ``DistributedDataParallel``, which all-reduces gradients;
each rank reads only its own shard of the data (:func:`shard_indices`).

Rank 0 alone forwards metrics (``ctx.log``) to the launcher, which hands them to the caller's
logger, and writes checkpoints (``ctx.maybe_checkpoint``) when a checkpoint folder is given.

A rank that dies (a Python error, a signal, the OOM killer) is noticed at once through its process
sentinel; a rank stuck in a collective fails when the process group's timeout runs out. The
launcher then stops the other ranks and either raises :class:`DistributedTrainingFailed` naming
the rank and its exit code, or -- checkpointing on and restarts left -- starts all ranks again,
and they resume from the last checkpoint.

Heavy imports (torch) stay inside functions so the platform runs without the ``torch`` extra.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from dais.core.errors import DaisError, InvalidInput

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")

MetricSink = Callable[[str, float, int], None]

_HOST = "127.0.0.1"
_CHECKPOINT = re.compile(r"^epoch-(\d+)\.pt$")
_STOP_GRACE_S = 5.0
_SETTLE_S = 1.0  # after a first failure, how long the other ranks get to report theirs
#: how a rank says it lost a peer (a consequence of another rank's failure, not a cause)
_PEER_LOST = re.compile(
    r"Connection (reset|closed) by peer|Broken pipe|DistBackendError|NCCL communicator was aborted|"
    r"[Tt]imed out|Socket Timeout|Connection refused",
)


class DistributedTrainingFailed(DaisError):
    """A rank of a distributed training run failed and could not be (or was not) restarted."""

    code = "distributed_training_failed"
    status = 500
    title = "Distributed training failed"


@dataclass(frozen=True)
class DDPOptions:
    """How to run a distributed data-parallel job.

    ``checkpoint_dir`` turns checkpointing on: rank 0 saves every ``checkpoint_every`` epochs and,
    when a rank dies, all ranks restart (at most ``max_restarts`` times) from the newest checkpoint.
    ``collective_timeout_s`` bounds every collective (a rank stuck waiting for a dead peer fails);
    ``timeout_s`` bounds the whole run.
    """

    processes: int = 2
    backend: Literal["auto", "gloo", "nccl"] = "auto"
    checkpoint_dir: Path | None = None
    checkpoint_every: int = 1
    keep_checkpoints: int = 2
    max_restarts: int = 2
    collective_timeout_s: float = 120.0
    timeout_s: float | None = None
    threads: int | None = None  # CPU threads per rank (default: the machine's cores shared out)

    def validate(self) -> None:
        if self.processes < 1:
            raise InvalidInput("Distributed training needs at least one process.")
        if self.checkpoint_every < 1:
            raise InvalidInput("checkpoint_every must be at least 1 epoch.")
        if self.keep_checkpoints < 1:
            raise InvalidInput("keep_checkpoints must be at least 1.")
        if self.max_restarts < 0:
            raise InvalidInput("max_restarts cannot be negative.")
        if self.threads is not None and self.threads < 1:
            raise InvalidInput("threads must be at least 1.")
        if self.collective_timeout_s <= 0 or (self.timeout_s is not None and self.timeout_s <= 0):
            raise InvalidInput("Timeouts must be positive.")


@dataclass
class LaunchResult(Generic[R]):
    """What a launch produced: rank 0's return value, each rank's reports, the attempts it took."""

    value: R
    reports: dict[int, dict[str, Any]]
    attempts: int
    resumed_from: int | None = None  # the checkpoint epoch the last attempt started from
    backend: str = "gloo"


# -- shards --------------------------------------------------------------------------------------------


def shard_indices(n: int, rank: int, world_size: int, *, seed: int = 0) -> list[int]:
    """The row indices rank ``rank`` of ``world_size`` trains on: a disjoint, equal-sized share.

    The rows are shuffled once with ``seed`` and dealt round-robin, like ``DistributedSampler``;
    when ``n`` does not divide evenly, the first rows are repeated so that every rank runs the same
    number of steps (ranks with fewer batches would leave the others waiting in an all-reduce).
    """
    if n < 1:
        raise InvalidInput("There are no rows to train on.")
    if not 0 <= rank < world_size:
        raise InvalidInput(f"Rank {rank} is outside a world of {world_size}.")
    import numpy as np

    order = np.random.default_rng(seed).permutation(n)
    total = -(-n // world_size) * world_size
    if total > n:
        order = np.concatenate([order, np.resize(order, total - n)])
    return [int(i) for i in order[rank:total:world_size]]


# -- the rank side ----------------------------------------------------------------------------------------


@dataclass
class RankContext:
    """What the training function of one rank gets: its place in the world and the launcher's services."""

    rank: int
    world_size: int
    local_rank: int
    backend: str
    attempt: int
    checkpoint_dir: Path | None
    checkpoint_every: int
    keep_checkpoints: int
    _conn: Connection = field(repr=False)

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that logs and checkpoints."""
        return self.rank == 0

    @property
    def device(self) -> Any:
        """The torch device this rank computes on."""
        import torch

        if self.backend == "nccl":
            return torch.device("cuda", self.local_rank % torch.cuda.device_count())
        return torch.device("cpu")

    def log(self, key: str, value: float, step: int) -> None:
        """Log a metric (rank 0 only; other ranks' calls are ignored: reduce values first)."""
        if self.is_main:
            self._conn.send(("metric", key, float(value), int(step)))

    def report(self, **info: Any) -> None:
        """Tell the launcher something about this rank (kept in ``LaunchResult.reports[rank]``)."""
        self._conn.send(("report", info))

    @property
    def checkpointing(self) -> bool:
        return self.checkpoint_dir is not None

    def load_checkpoint(self) -> dict[str, Any] | None:
        """The newest readable checkpoint (``{"epoch": int, "state": ...}``), or ``None``."""
        if self.checkpoint_dir is None:
            return None
        import torch

        for path in _checkpoints(self.checkpoint_dir)[::-1]:
            try:
                data: dict[str, Any] = torch.load(path, map_location=self.device, weights_only=True)
            except Exception as exc:  # a torn or damaged file: fall back to the one before it
                log.warning("Skipping unreadable checkpoint %s: %s", path.name, exc)
                continue
            return data
        return None

    def maybe_checkpoint(self, epoch: int, state: Callable[[], dict[str, Any]]) -> bool:
        """Save ``state()`` as the checkpoint of ``epoch`` (0-based) when it is due; rank 0 writes.

        Due every ``checkpoint_every`` epochs. The file is written aside and renamed into place, so
        a rank killed while saving never leaves a torn newest checkpoint; older ones are pruned.
        """
        if self.checkpoint_dir is None or (epoch + 1) % self.checkpoint_every:
            return False
        if not self.is_main:
            return True
        import torch

        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        final = self.checkpoint_dir / f"epoch-{epoch:06d}.pt"
        tmp = final.with_suffix(".tmp")
        torch.save({"epoch": epoch, "world_size": self.world_size, "state": state()}, tmp)
        os.replace(tmp, final)
        for old in _checkpoints(self.checkpoint_dir)[: -self.keep_checkpoints]:
            old.unlink(missing_ok=True)
        return True


def _checkpoints(folder: Path) -> list[Path]:
    """Checkpoint files in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _CHECKPOINT.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint_epoch(folder: Path) -> int | None:
    """The epoch of the newest checkpoint in ``folder`` (``None`` when there is none)."""
    found = _checkpoints(folder)
    return int(_CHECKPOINT.match(found[-1].name).group(1)) if found else None  # type: ignore[union-attr]


def _watch_launcher(conn: Connection) -> None:
    """End this rank when the launcher goes away (its end of the pipe closes)."""
    try:
        while True:
            conn.recv()
    except (EOFError, OSError):
        os._exit(3)


@dataclass(frozen=True)
class _RankSpec:
    rank: int
    world_size: int
    backend: str
    port: int
    attempt: int
    options: DDPOptions
    threads: int


def _rank_main(
    spec: _RankSpec, conn: Connection, fn: Callable[[RankContext, Any], Any], payload: Any
) -> None:
    """A rank's process: join the group, run ``fn``, send rank 0's result back."""
    os.environ.update(
        MASTER_ADDR=_HOST,
        MASTER_PORT=str(spec.port),
        RANK=str(spec.rank),
        LOCAL_RANK=str(spec.rank),
        WORLD_SIZE=str(spec.world_size),
    )
    threading.Thread(target=_watch_launcher, args=(conn,), daemon=True).start()
    ctx = RankContext(
        rank=spec.rank,
        world_size=spec.world_size,
        local_rank=spec.rank,
        backend=spec.backend,
        attempt=spec.attempt,
        checkpoint_dir=spec.options.checkpoint_dir,
        checkpoint_every=spec.options.checkpoint_every,
        keep_checkpoints=spec.options.keep_checkpoints,
        _conn=conn,
    )
    try:
        import torch
        import torch.distributed as dist

        torch.set_num_threads(spec.threads)
        timeout = timedelta(seconds=spec.options.collective_timeout_s)
        if spec.backend == "nccl":
            torch.cuda.set_device(ctx.device)
        store = dist.TCPStore(_HOST, spec.port, spec.world_size, False, timeout)  # type: ignore[attr-defined]
        dist.init_process_group(
            spec.backend, store=store, rank=spec.rank, world_size=spec.world_size, timeout=timeout
        )
        try:
            value = fn(ctx, payload)
            dist.barrier()
        finally:
            dist.destroy_process_group()
        conn.send(("done", value if ctx.is_main else None))
    except BaseException as exc:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        with contextlib.suppress(Exception):  # the launcher may be gone already
            conn.send(("error", detail, traceback.format_exc()))
        sys.exit(1)
    # the pipe stays open until the process ends: the watchdog thread is reading it


# -- the launcher side --------------------------------------------------------------------------------------


def _backend(requested: str, processes: int) -> str:
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if requested == "nccl":
        if gpus < processes:
            raise InvalidInput(
                f"The nccl backend needs one GPU per process: {processes} processes, {gpus} GPU(s) here."
            )
        return "nccl"
    if requested == "auto" and gpus >= processes:
        return "nccl"
    return "gloo"


def _context(module: str) -> multiprocessing.context.BaseContext:
    """Fork server where there is one: the server imports torch (and the training function's
    ``module``) once, when it starts, and every rank after that is a cheap fork of it."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # torch.optim imports torch._dynamo on a first optimiser (seconds): pay it once, in the server
        preload = ["torch", "torch.distributed", "torch.nn.parallel", "torch.optim", "torch._dynamo"]
        ctx.set_forkserver_preload([*preload, module] if module != "__main__" else preload)
        return ctx
    return multiprocessing.get_context("spawn")


def _exit_text(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"exit code {code} (killed by {signal.Signals(-code).name})"
        except ValueError:
            return f"exit code {code} (killed by signal {-code})"
    return f"exit code {code}"


@dataclass
class _Failure:
    rank: int
    code: int | None
    detail: str | None = None
    stopped: bool = False  # still running when the launcher stopped it

    def message(self, world_size: int) -> str:
        text = f"Rank {self.rank} of {world_size} failed with {_exit_text(self.code)}"
        return f"{text}: {self.detail}" if self.detail else text


def _blame(f: _Failure) -> tuple[int, int]:
    """Order failures by how likely each is the cause: a rank killed by a signal (not by us), then
    one with its own error, then one that only lost its peers."""
    if not f.stopped and f.code is not None and f.code < 0:
        return (0, f.rank)
    if f.detail and _PEER_LOST.search(f.detail):
        return (2, f.rank)
    return (1, f.rank)


class _Attempt:
    """One start of all ranks: the processes, their pipes, what they sent."""

    def __init__(
        self,
        fn: Callable[[RankContext, Any], Any],
        payload: Any,
        options: DDPOptions,
        backend: str,
        attempt: int,
        sink: MetricSink | None,
    ) -> None:
        import torch.distributed as dist

        self.sink = sink
        self.world = options.processes
        self.store = dist.TCPStore(  # type: ignore[attr-defined]
            _HOST,
            0,
            self.world,
            True,
            timedelta(seconds=options.collective_timeout_s),
            wait_for_workers=False,
        )
        threads = options.threads or max(1, (os.cpu_count() or 1) // self.world)
        mp = _context(getattr(fn, "__module__", "__main__"))
        self.procs: dict[int, Any] = {}
        self.conns: dict[int, Connection] = {}
        self.reports: dict[int, dict[str, Any]] = {}
        self.value: Any = None
        self.errors: dict[int, str] = {}
        self.exited: dict[int, int | None] = {}
        try:
            for rank in range(self.world):
                spec = _RankSpec(rank, self.world, backend, self.store.port, attempt, options, threads)
                ours, theirs = mp.Pipe(duplex=True)
                proc = mp.Process(  # type: ignore[attr-defined]
                    target=_rank_main,
                    args=(spec, theirs, fn, payload),
                    name=f"dais-ddp-rank-{rank}",
                    daemon=True,
                )
                self.conns[rank] = ours
                proc.start()
                theirs.close()
                self.procs[rank] = proc
        except BaseException:
            self.close()  # the ranks already started must not wait for peers that never come
            raise

    def _drain(self, rank: int) -> None:
        conn = self.conns.get(rank)
        while conn is not None:
            try:
                if not conn.poll():
                    return
                msg = conn.recv()
            except (EOFError, OSError):
                conn.close()
                del self.conns[rank]
                return
            except pickle.UnpicklingError as exc:
                self.errors.setdefault(rank, f"sent an unreadable message: {exc}")
                return
            kind = msg[0]
            if kind == "metric" and self.sink is not None:
                self.sink(msg[1], msg[2], msg[3])
            elif kind == "report":
                self.reports.setdefault(rank, {}).update(msg[1])
            elif kind == "done":
                if rank == 0:
                    self.value = msg[1]
            elif kind == "error":
                self.errors[rank] = msg[1]
                log.error("Rank %d failed:\n%s", rank, msg[2])

    def run(self, deadline: float | None) -> _Failure | None:
        """Wait for every rank. On a failure, wait a moment for the others to report (a dead rank's
        peers fail too, with a lost connection), stop the rest, and answer the likely cause."""
        sentinels = {proc.sentinel: rank for rank, proc in self.procs.items()}
        failed: dict[int, int | None] = {}  # ranks that exited non-zero by themselves
        settle: float | None = None
        while len(self.exited) < self.world:
            ends = [t for t in (deadline, settle) if t is not None]
            ready = wait(self._waiting(sentinels), max(0.0, min(ends) - time.monotonic()) if ends else None)
            for rank, conn in list(self.conns.items()):
                if conn in ready:
                    self._drain(rank)
            for sentinel in ready:
                found = sentinels.get(sentinel) if isinstance(sentinel, int) else None
                if found is None or found in self.exited:
                    continue
                proc = self.procs[found]
                proc.join()
                self._drain(found)
                self.exited[found] = proc.exitcode
                if proc.exitcode != 0:
                    failed[found] = proc.exitcode
            if (failed or self.errors) and settle is None:
                settle = time.monotonic() + _SETTLE_S
            now = time.monotonic()
            if settle is not None and now >= settle:
                break
            if deadline is not None and now >= deadline and settle is None:
                running = [r for r in range(self.world) if r not in self.exited]
                self.stop()
                return _Failure(running[0] if running else 0, None, "the run went past its time limit")
        if not failed and not self.errors:
            return None
        stopped = {r for r in range(self.world) if r not in self.exited}
        self.stop()
        failures = [
            _Failure(r, failed.get(r, self.procs[r].exitcode), self.errors.get(r), stopped=r in stopped)
            for r in sorted(set(failed) | set(self.errors))
        ]
        return min(failures, key=_blame)

    def _waiting(self, sentinels: dict[int, int]) -> list[Any]:
        return [*self.conns.values(), *(s for s, r in sentinels.items() if r not in self.exited)]

    def stop(self) -> None:
        """Stop every rank still running: SIGTERM, then SIGKILL after a grace period."""
        for proc in self.procs.values():
            if proc.is_alive():
                proc.terminate()
        end = time.monotonic() + _STOP_GRACE_S
        for proc in self.procs.values():
            proc.join(max(0.0, end - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()

    def close(self) -> None:
        self.stop()
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()
        del self.store


def launch(
    fn: Callable[[RankContext, P], R],
    payload: P,
    options: DDPOptions,
    *,
    log_metric: MetricSink | None = None,
) -> LaunchResult[R]:
    """Run ``fn(ctx, payload)`` in ``options.processes`` ranks; rank 0's return value is the result.

    ``fn`` must be importable by name (a module-level function) and ``payload`` picklable: both
    travel to fresh processes. Keep big data out of ``payload``: pass file paths, and let each rank
    read its own shard. ``log_metric(key, value, step)`` receives rank 0's metrics as they come.
    Raises :class:`DistributedTrainingFailed` when a rank fails and no restart is allowed or left.
    """
    options.validate()
    backend = _backend(options.backend, options.processes)
    deadline = None if options.timeout_s is None else time.monotonic() + options.timeout_s
    restarts = options.max_restarts if options.checkpoint_dir is not None else 0
    attempt = 0
    while True:
        resumed = latest_checkpoint_epoch(options.checkpoint_dir) if options.checkpoint_dir else None
        run = _Attempt(fn, payload, options, backend, attempt, log_metric)
        try:
            failure = run.run(deadline)
        finally:
            run.close()
        if failure is None:
            return LaunchResult(run.value, run.reports, attempt + 1, resumed, backend)
        message = failure.message(options.processes)
        timed_out = deadline is not None and time.monotonic() >= deadline
        if attempt >= restarts or timed_out:
            if attempt:
                message += f" (after {attempt} restart{'s' if attempt > 1 else ''})"
            elif options.checkpoint_dir is None and not timed_out:
                message += ". With checkpointing on, the ranks would restart from the last checkpoint"
            raise DistributedTrainingFailed(message, rank=failure.rank, exit_code=failure.code)
        attempt += 1
        resume = latest_checkpoint_epoch(options.checkpoint_dir) if options.checkpoint_dir else None
        log.warning(
            "%s; restarting all %d ranks (restart %d of %d) from %s.",
            message,
            options.processes,
            attempt,
            restarts,
            "the start" if resume is None else f"the checkpoint of epoch {resume + 1}",
        )
