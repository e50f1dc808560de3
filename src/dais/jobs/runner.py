"""The child side of a job: runs one attempt's handler inside its own process.

The local executor's zygote forks this process and hands it the attempt's request (a dict, sent
over the zygote's pipe, so secrets in its environment never touch the disk). Its stdout and stderr
go to the attempt's log file. It reports ``{"result": ...}`` on success or ``{"error": "..."}`` on
failure through ``report_fd`` (a pipe back to the zygote, so nothing but the log is written per
attempt); the exit code says which.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1

_libc: Any = None


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so no attempt outlives its worker."""
    global _libc
    with contextlib.suppress(OSError):
        if _libc is None:  # loaded once in the zygote, not again in every child
            _libc = ctypes.CDLL("libc.so.6", use_errno=True)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run_attempt(req: dict[str, Any], report_fd: int) -> None:
    """Entry point of the child process (never returns: exits 0 on success, 1 on failure)."""
    os.setsid()  # its own process group: a cancel kills the whole tree
    die_with_parent()
    scratch = Path(req["scratch"])
    os.makedirs(scratch, mode=0o700, exist_ok=True)
    log_fd = os.open(req["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own stdout
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    env: dict[str, str] = req.get("env") or {}
    os.environ.update(env)
    os.chdir(scratch)
    code = 0
    try:
        from dais.jobs.kinds import JobContext, job_kinds

        kind = job_kinds().get(req["kind"])()
        spec = type(kind).Spec.model_validate(req["spec"])
        ctx = JobContext(
            job_id=req["job_id"],
            attempt=req["attempt"],
            workspace_id=req["workspace_id"],
            scratch=scratch,
            attempt_prefix=req["attempt_prefix"],
            progress_file=Path(req["progress_path"]),
            env=dict(env),
        )
        result = kind.run(ctx, spec)
        report = json.dumps({"result": result or {}}, default=str)
    except BaseException as exc:  # the job's failure, whatever it is, is reported, not raised
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        report = json.dumps({"error": message[:4000]})
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    with open(report_fd, "wb") as f:  # the zygote reads it as it comes: a large one does not block
        f.write(report.encode())
    os._exit(code)
