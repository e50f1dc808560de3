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

from dais.core.errors import ServiceUnavailable
from dais.jobs.executors.base import Executor, RunHandle, RunOutcome, RunRequest


class _Zygote:
    """The worker's side of the zygote: start it, ask it for children, learn when they exit."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dais.jobs.executors.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
        )
        self.lock = threading.Lock()
        self.cond = threading.Condition()
        self.started: dict[str, int] = {}
        self.exited: dict[int, int] = {}
        self.ready = False
        self.reader = threading.Thread(target=self._read, name="dais-zygote-reader", daemon=True)
        self.reader.start()
        self._wait(lambda: self.ready, 60, "the job process launcher did not start")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            parts = raw.decode().split()
            with self.cond:
                if parts == ["ready"]:
                    self.ready = True
                elif len(parts) == 3 and parts[0] == "started":
                    self.started[parts[1]] = int(parts[2])
                elif len(parts) == 3 and parts[0] == "exited":
                    self.exited[int(parts[1])] = int(parts[2])
                self.cond.notify_all()
        with self.cond:
            self.ready = False
            self.cond.notify_all()

    def _wait(self, predicate: Callable[[], bool], timeout: float, message: str) -> None:
        with self.cond:
            if not self.cond.wait_for(predicate, timeout=timeout):
                raise ServiceUnavailable(message)

    def alive(self) -> bool:
        return self.proc.poll() is None and self.ready

    def fork(self, run_file: Path) -> int:
        token = uuid.uuid4().hex
        assert self.proc.stdin is not None
        with self.lock:
            self.proc.stdin.write(f"run {token} {run_file}\n".encode())
        self._wait(lambda: token in self.started or not self.alive(), 30, "the job process did not start")
        with self.cond:
            if token not in self.started:
                raise ServiceUnavailable("the job process launcher stopped")
            return self.started.pop(token)

    def exit_code(self, pid: int) -> int | None:
        with self.cond:
            return self.exited.get(pid)

    def forget(self, pid: int) -> None:
        with self.cond:
            self.exited.pop(pid, None)

    def close(self) -> None:
        if self.proc.stdin is not None:
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
        self._zygote: _Zygote | None = None
        self._lock = threading.Lock()

    def _zygote_alive(self) -> _Zygote:
        with self._lock:
            if self._zygote is None or not self._zygote.alive():
                self._zygote = _Zygote()
            return self._zygote

    def launch(self, request: RunRequest) -> RunHandle:
        request.scratch.mkdir(parents=True, exist_ok=True)
        log_path = request.scratch / "output.log"
        progress_path = request.scratch / "progress.jsonl"
        for stale in ("result.json", "error.txt"):
            (request.scratch / stale).unlink(missing_ok=True)
        env = dict(request.env)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(request.gpu_ids)
        run_file = request.scratch / "run.json"
        run_file.write_text(
            json.dumps(
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
        )
        log_path.touch()
        zygote = self._zygote_alive()
        pid = zygote.fork(run_file)
        return RunHandle(request, log_path, progress_path, native=(zygote, pid))

    def poll(self, handle: RunHandle) -> RunOutcome | None:
        zygote, pid = handle.native
        code = zygote.exit_code(pid)
        if code is None:
            if zygote.alive():
                return None
            code = -signal.SIGKILL  # the launcher died, and its children with it
        zygote.forget(pid)
        scratch = handle.request.scratch
        if code == 0 and (scratch / "result.json").exists():
            try:
                result = json.loads((scratch / "result.json").read_text())
            except ValueError:
                result = None
            return RunOutcome(True, 0, result=result if isinstance(result, dict) else {"value": result})
        if (scratch / "error.txt").exists():
            error = (scratch / "error.txt").read_text()
        elif code < 0:
            error = f"the job process was killed by signal {signal.Signals(-code).name}"
            if -code == signal.SIGKILL:
                error += " (out of memory, or killed)"
        else:
            error = f"the job process exited with code {code} without a result"
        return RunOutcome(False, code, error=error)

    def kill(self, handle: RunHandle, *, grace_s: float = 5.0) -> None:
        zygote, pid = handle.native
        if zygote.exit_code(pid) is not None:
            return
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while zygote.exit_code(pid) is None and zygote.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        _signal_group(pid, signal.SIGKILL)

    def wait(self, timeout: float) -> None:
        zygote = self._zygote
        if zygote is None:
            time.sleep(timeout)
            return
        with zygote.cond:  # woken by every message from the launcher, such as an exit
            zygote.cond.wait(timeout)

    def close(self) -> None:
        with self._lock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def scratch_dir(root: Path, job_id: str, attempt: int) -> Path:
    return root / job_id / f"attempt-{attempt}"
