"""The child side of a job: runs one attempt's handler inside its own process.

The worker (through the local executor) starts this in a fresh process whose stdout and stderr go
to the attempt's log file. It writes ``result.json`` on success or ``error.txt`` on failure in the
attempt's scratch folder; the exit code says which.
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


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so no attempt outlives its worker."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run_attempt(run_file: str) -> None:
    """Entry point of the child process (never returns: exits 0 on success, 1 on failure)."""
    os.setsid()  # its own process group: a cancel kills the whole tree
    die_with_parent()
    req: dict[str, Any] = json.loads(Path(run_file).read_text())
    scratch = Path(req["scratch"])
    log_fd = os.open(req["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own stdout
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    os.environ.update(req.get("env") or {})
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
            env=dict(req.get("env") or {}),
        )
        result = kind.run(ctx, spec)
        (scratch / "result.json").write_text(json.dumps(result or {}, default=str))
    except BaseException as exc:  # the job's failure, whatever it is, is reported, not raised
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        (scratch / "error.txt").write_text(message[:4000])
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
