"""The child side of a job: runs one attempt's handler inside its own process.

The local executor's zygote forks this process and hands it the attempt's request (a dict, sent
over the zygote's pipe, so secrets in its environment never touch the disk). Its stdout and stderr
go to the attempt's log file. It reports ``{"result": ...}`` on success or ``{"error": "..."}`` on
failure through ``report_fd`` (a pipe back to the zygote, so nothing but the log is written per
attempt); the exit code says which.

A forked child pays for every page of memory it touches first (a copy-on-write fault), so the
start of an attempt touches as little as it can: the libc call is bound once in the zygote, the
zygote's own ``sys.stdout``/``sys.stderr`` are pointed at the log instead of new ones being made,
and the report is written with one system call.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)

_prctl: Any = None


def _bind_prctl() -> Any:
    """``prctl`` from libc, with its argument types declared (bound once, in the zygote)."""
    global _prctl
    if _prctl is None:
        with contextlib.suppress(OSError, AttributeError):
            prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
            prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
            prctl.restype = ctypes.c_int
            _prctl = prctl
    return _prctl


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so no attempt outlives its worker."""
    prctl = _prctl or _bind_prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def run_attempt(req: dict[str, Any], report_fd: int) -> None:
    """Entry point of the child process (never returns: exits 0 on success, 1 on failure)."""
    os.setsid()  # its own process group: a cancel kills the whole tree
    die_with_parent()
    scratch = req["scratch"]
    try:
        os.mkdir(scratch, 0o700)
    except FileExistsError:  # a handed-back attempt runs again under the same number
        pass
    except FileNotFoundError:
        os.makedirs(scratch, mode=0o700, exist_ok=True)
    log_fd = os.open(req["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    # The zygote's stdout and stderr now write to the log (it never buffers anything in them).
    if isinstance(sys.stdout, io.TextIOWrapper) and isinstance(sys.stderr, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
        sys.stderr.reconfigure(line_buffering=True)
    else:
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
            scratch=Path(scratch),
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
    # The zygote reads it as it comes: a large one does not block.
    with contextlib.suppress(OSError):
        _write_all(report_fd, report.encode())
    os._exit(code)
