"""A warm parent for job processes.

Starting a fresh interpreter per job costs a second of imports; forking the worker itself is unsafe
(it has threads). So each local executor starts one *zygote*: a single-threaded process that imports
the job runner once, and each job kind the first time it launches one of its jobs, then forks one
child per attempt on request. Every attempt still gets a process of its own (a crash, OOM kill or
``os._exit`` ends only that attempt), and the zygote dies with its worker, taking its children with
it. A fork costs in proportion to the zygote's memory, so it imports only the kinds it runs.

Protocol (text lines over the zygote's stdin and stdout): the worker writes
``run <token> <kind> <json>`` (the attempt's request as one line of JSON, so nothing of it, secrets
included, is written to disk); the zygote answers ``started <token> <pid>``, and once the child exited
``exited <token> <code> [<json>]`` (a negative code: killed by that signal), where the JSON is what
the child reported through a pipe of its own (``{"result": ...}`` or ``{"error": "..."}``), absent
if it died first; or ``failed <token>`` if it could not fork. The worker does not wait for
``started``: it goes on with its loop and learns the pid when it needs it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import sys
from dataclasses import dataclass, field

SETUP_FAILED = 70  # the child's exit code when it could not even start the handler
MAX_REPORT = 8 * 1024 * 1024  # the largest result a child may report


@dataclass
class _Child:
    token: str
    report_fd: int  # the read end of the child's report pipe
    report: bytearray = field(default_factory=bytearray)
    eof: bool = False


def _drain(sel: selectors.BaseSelector, child: _Child) -> None:
    """Read what the child reported so far (never blocks)."""
    while not child.eof:
        try:
            data = os.read(child.report_fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            child.eof = True
            sel.unregister(child.report_fd)
            return
        if len(child.report) <= MAX_REPORT:
            child.report += data


def _reap(
    out: int, sel: selectors.BaseSelector, children: dict[int, _Child], reports: dict[int, _Child]
) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        child = children.pop(pid, None)
        if child is None:
            continue
        _drain(sel, child)  # it wrote its report before it exited: all of it is in the pipe
        if not child.eof:  # something it started still holds the pipe; what is there is enough
            sel.unregister(child.report_fd)
        del reports[child.report_fd]
        os.close(child.report_fd)
        report = bytes(child.report).replace(b"\n", b" ")  # JSON: a raw newline is only whitespace
        if len(report) > MAX_REPORT:
            report = json.dumps({"error": f"the job's result is larger than {MAX_REPORT} bytes"}).encode()
        line = f"exited {child.token} {os.waitstatus_to_exitcode(status)}".encode()
        os.write(out, line + (b" " + report if report else b"") + b"\n")


def _warm(kind: str, warmed: set[str]) -> None:
    """Import ``kind`` here, once, so that its jobs' children start warm."""
    from dais.core.errors import DaisError
    from dais.jobs.kinds import job_kinds

    warmed.add(kind)
    with contextlib.suppress(DaisError):  # an unknown or broken kind: its child reports why
        job_kinds().get(kind)
    gc.collect()
    gc.freeze()  # what is loaded now stays put: children do not dirty it with collections


def main() -> None:
    from dais.jobs.runner import die_with_parent

    die_with_parent()
    from dais.jobs.kinds import job_kinds
    from dais.jobs.runner import run_attempt

    job_kinds().names()  # find the installed kinds once, here, not in every child
    for module in sys.argv[1:]:  # a warm group's heavy libraries
        try:
            importlib.import_module(module)
        except Exception as exc:  # a job that needs it reports the import error itself
            print(f"dais zygote: could not preload {module}: {exc}", file=sys.stderr)
    gc.collect()
    gc.freeze()  # what is loaded now stays put: children do not dirty it with collections
    warmed: set[str] = set()
    out = sys.stdout.fileno()
    inp = sys.stdin.fileno()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, _Child] = {}
    reports: dict[int, _Child] = {}  # by the read end of their pipe
    sel = selectors.DefaultSelector()
    sel.register(inp, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    buffer = b""
    os.write(out, b"ready\n")
    while True:
        for key, _ in sel.select():
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                continue
            if key.fd != inp:
                child = reports.get(key.fd)
                if child is not None and not child.eof:
                    _drain(sel, child)
                continue
            data = os.read(inp, 1 << 20)
            if not data:  # the worker is gone: so are its jobs
                for pid in children:
                    with contextlib.suppress(OSError):
                        os.killpg(pid, signal.SIGKILL)
                os._exit(0)
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                parts = line.split(b" ", 3)
                if len(parts) != 4 or parts[0] != b"run":
                    continue
                token, kind = parts[1].decode(), parts[2].decode(errors="replace")
                if kind not in warmed:
                    _warm(kind, warmed)
                try:
                    report_r, report_w = os.pipe()  # not inherited by what the job executes
                    pid = os.fork()
                except OSError:
                    os.write(out, f"failed {token}\n".encode())
                    continue
                if pid == 0:
                    try:
                        signal.set_wakeup_fd(-1)
                        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                        for fd in (inp, out, wake_r, wake_w, report_r, *reports):
                            os.close(fd)
                        run_attempt(json.loads(parts[3]), report_w)  # never returns
                    finally:
                        os._exit(SETUP_FAILED)  # never back into the zygote's loop
                os.close(report_w)
                os.set_blocking(report_r, False)
                child = children[pid] = reports[report_r] = _Child(token, report_r)
                sel.register(report_r, selectors.EVENT_READ)
                os.write(out, f"started {token} {pid}\n".encode())
        _reap(out, sel, children, reports)


if __name__ == "__main__":
    main()
