"""The ``local`` executor: each attempt in its own child process on this machine.

Children are forked by a warm zygote process (see :mod:`dais.jobs.executors.zygote`), so starting
one costs milliseconds, not a fresh interpreter, while a crash, an OOM kill or ``os._exit`` of a
job still only ends that job's process. Each child leads its own process group (cancel kills the
tree) and dies with the zygote, which dies with the worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dais.core.errors import ServiceUnavailable
from dais.jobs.executors.base import Executor, RunHandle, RunOutcome, RunRequest
from dais.jobs.executors.zygote import SETUP_FAILED


class _Zygote:
    """The worker's side of the zygote: start it, ask it for children, learn when they exit."""

    def __init__(self, preload: tuple[str, ...] = (), cond: threading.Condition | None = None) -> None:
        self.preload = preload
        self.proc = subprocess.Popen(  # noqa: S603 - module names from installed job kinds
            [sys.executable, "-m", "dais.jobs.executors.zygote", *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=-1,  # buffered: a line is read in one call, not byte by byte; writes are flushed
            close_fds=True,
        )
        self.lock = threading.Lock()
        # Shared by every launcher of one executor, so its wait() wakes on an exit from any of them.
        self.cond = cond or threading.Condition()
        self.pids: dict[str, int] = {}
        self.exited: dict[str, tuple[int, str | None]] = {}  # token: exit code, what the child reported
        self.failed: set[str] = set()
        self.exits = 0  # how many exits were reported so far (a waiter's wake-up signal)
        self.pid_waiters = 0  # callers of pid() waiting for a "started" line
        self.ready = False  # it said "ready": its imports are done
        self.ended = False  # its output closed: it is gone
        self.reader = threading.Thread(target=self._read, name="dais-zygote-reader", daemon=True)
        self.reader.start()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the launcher finished its imports (seconds for a heavy warm group)."""
        self._wait(lambda: self.ready or self.ended, timeout, "the job process launcher did not start")
        if not self.ready:
            raise ServiceUnavailable("the job process launcher stopped while starting")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            parts = raw.decode(errors="replace").rstrip("\n").split(" ", 3)
            with self.cond:
                if parts == ["ready"]:
                    self.ready = True
                elif len(parts) == 3 and parts[0] == "started":
                    self.pids[parts[1]] = int(parts[2])
                    if not self.pid_waiters:
                        continue  # nobody waits for it: do not wake the worker's loop for nothing
                elif len(parts) >= 3 and parts[0] == "exited":
                    self.exited[parts[1]] = (int(parts[2]), parts[3] if len(parts) == 4 else None)
                    self.exits += 1
                elif len(parts) == 2 and parts[0] == "failed":
                    self.failed.add(parts[1])
                    self.exited[parts[1]] = (SETUP_FAILED, None)
                    self.exits += 1
                self.cond.notify_all()
        with self.cond:
            self.ready, self.ended = False, True
            self.cond.notify_all()

    def _wait(self, predicate: Callable[[], bool], timeout: float, message: str) -> None:
        with self.cond:
            if not self.cond.wait_for(predicate, timeout=timeout):
                raise ServiceUnavailable(message)

    def alive(self) -> bool:
        """Running, or still starting."""
        return self.proc.poll() is None and not self.ended

    def submit(self, request: dict[str, Any]) -> str:
        """Ask for a child running ``request``; returns at once with the run's token."""
        token = uuid.uuid4().hex
        kind = str(request["kind"])
        kind = kind if kind and not any(ch.isspace() for ch in kind) else "-"  # one word on the line
        line = f"run {token} {kind} {json.dumps(request, separators=(',', ':'))}\n".encode()
        assert self.proc.stdin is not None
        try:
            with self.lock:
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
        except OSError as exc:
            raise ServiceUnavailable("the job process launcher stopped") from exc
        return token

    def pid(self, token: str, timeout: float = 30.0) -> int | None:
        """The child's pid, waiting for the zygote to report it; ``None`` if it never started."""
        with self.cond:
            self.pid_waiters += 1
            try:
                self.cond.wait_for(
                    lambda: token in self.pids or token in self.failed or not self.alive(), timeout=timeout
                )
            finally:
                self.pid_waiters -= 1
            return self.pids.get(token)

    def exit_code(self, token: str) -> int | None:
        with self.cond:
            ended = self.exited.get(token)
            return None if ended is None else ended[0]

    def report(self, token: str) -> str | None:
        with self.cond:
            ended = self.exited.get(token)
            return None if ended is None else ended[1]

    def start_failed(self, token: str) -> bool:
        with self.cond:
            return token in self.failed

    def forget(self, token: str) -> None:
        with self.cond:
            self.exited.pop(token, None)
            self.pids.pop(token, None)
            self.failed.discard(token)

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()  # EOF: the zygote kills its children and exits
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class LocalExecutor(Executor):
    """Child processes on this machine."""

    name = "local"

    def __init__(self) -> None:
        # One launcher per warm group (a kind's ``preload``); () is the light default one.
        self._zygotes: dict[tuple[str, ...], _Zygote] = {}
        self._lock = threading.Lock()
        self._kind_groups: dict[str, tuple[str, ...]] | None = None
        self._cond = threading.Condition()
        self._seen_exits = 0

    def _zygote_alive(self, preload: tuple[str, ...] = ()) -> _Zygote:
        # Launchers are started from the worker's own thread (this one): a launcher dies with the
        # thread that started it (PR_SET_PDEATHSIG follows the parent thread, not the process).
        old = None
        with self._lock:
            zygote = self._zygotes.get(preload)
            if zygote is None or not zygote.alive():
                old, zygote = zygote, _Zygote(preload, self._cond)
                self._zygotes[preload] = zygote
        if old is not None:
            old.close()
        zygote.wait_ready()  # a heavy warm group takes seconds: only its own jobs wait for it
        return zygote

    def _groups(self) -> dict[str, tuple[str, ...]]:
        """Each job kind's launcher: ``{kind: modules to preload}`` (``()``: the light default)."""
        if self._kind_groups is None:
            from dais.core.errors import DaisError
            from dais.jobs.kinds import job_kinds

            reg = job_kinds()
            keyed: dict[str, str] = {}
            modules: dict[str, set[str]] = {}
            for name in reg.names():
                try:
                    cls = reg.get(name)
                except DaisError:
                    continue
                if cls.preload:
                    key = cls.warm_group or ",".join(cls.preload)
                    keyed[name] = key
                    modules.setdefault(key, set()).update(cls.preload)
            self._kind_groups = {name: tuple(sorted(modules[key])) for name, key in keyed.items()}
        return self._kind_groups

    def _preload(self, kind: str) -> tuple[str, ...]:
        return self._groups().get(kind, ())

    def prewarm(self) -> None:
        """Start the launchers of every warm group now; their imports go on in the background."""
        with self._lock:
            for group in sorted(set(self._groups().values())):
                if group not in self._zygotes:
                    self._zygotes[group] = _Zygote(group, self._cond)

    def launch(self, request: RunRequest) -> RunHandle:
        # The child creates the scratch folder and the log file itself: nothing here touches the disk.
        log_path = request.scratch / "output.log"
        progress_path = request.scratch / "progress.jsonl"
        env = dict(request.env)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(request.gpu_ids)
        zygote = self._zygote_alive(self._preload(request.kind))
        token = zygote.submit(
            {
                "job_id": request.job_id,
                "attempt": request.attempt,
                "workspace_id": request.workspace_id,
                "kind": request.kind,
                "spec": request.spec,
                "scratch": str(request.scratch),
                "attempt_prefix": request.attempt_prefix,
                "log_path": str(log_path),
                "progress_path": str(progress_path),
                "env": env,
            }
        )
        return RunHandle(request, log_path, progress_path, native=(zygote, token))

    def poll(self, handle: RunHandle) -> RunOutcome | None:
        zygote, token = handle.native
        code = zygote.exit_code(token)
        if code is None:
            if zygote.alive():
                return None
            code = -signal.SIGKILL  # the launcher died, and its children with it
        failed, raw = zygote.start_failed(token), zygote.report(token)
        zygote.forget(token)
        if failed:
            return RunOutcome(False, None, error="could not start the job process (fork failed)")
        report: dict[str, Any] = {}
        if raw:
            with contextlib.suppress(ValueError):
                parsed = json.loads(raw)
                report = parsed if isinstance(parsed, dict) else {}
        if code == 0 and "result" in report:
            result = report["result"]
            return RunOutcome(True, 0, result=result if isinstance(result, dict) else {"value": result})
        if isinstance(report.get("error"), str):
            error = report["error"]
        elif code < 0:
            error = f"the job process was killed by signal {signal.Signals(-code).name}"
            if -code == signal.SIGKILL:
                error += " (out of memory, or killed)"
        else:
            error = f"the job process exited with code {code} without a result"
        return RunOutcome(False, code, error=error)

    def kill(self, handle: RunHandle, *, grace_s: float = 5.0) -> None:
        zygote, token = handle.native
        pid = zygote.pid(token)
        if pid is None or zygote.exit_code(token) is not None:
            return
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while zygote.exit_code(token) is None and zygote.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        _signal_group(pid, signal.SIGKILL)  # whatever of its tree is left

    def _exits(self) -> int:
        """Exits reported so far, a launcher's end counting as one (a waiter's wake-up signal)."""
        return sum(z.exits + z.ended for z in list(self._zygotes.values()))

    def wait(self, timeout: float) -> None:
        if not self._zygotes:
            time.sleep(timeout)
            return
        with self._cond:  # woken by an exit reported since the last wait, or a launcher stopping
            self._cond.wait_for(
                lambda: (
                    self._exits() != self._seen_exits or any(z.ended for z in list(self._zygotes.values()))
                ),
                timeout,
            )
            self._seen_exits = self._exits()

    def close(self) -> None:
        with self._lock:
            for zygote in self._zygotes.values():
                zygote.close()
            self._zygotes.clear()


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def scratch_dir(root: Path, job_id: str, attempt: int) -> Path:
    """The attempt's local folder (one level: one folder made and removed per attempt)."""
    return root / f"{job_id}-{attempt}"
