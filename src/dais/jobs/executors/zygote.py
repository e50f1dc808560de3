"""A warm parent for job processes.

Starting a fresh interpreter per job costs a second of imports; forking the worker itself is unsafe
(it has threads). So each local executor starts one *zygote*: a single-threaded process that imports
the job runner and every job kind once, then forks one child per attempt on request. Every attempt
still gets a process of its own (a crash, OOM kill or ``os._exit`` ends only that attempt), and the
zygote dies with its worker, taking its children with it.

Protocol (text lines): the worker writes ``run <token> <run-file>``; the zygote answers
``started <token> <pid>``, and later ``exited <pid> <code>`` (negative: killed by that signal).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import sys


def _reap(out: int, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        os.write(out, f"exited {pid} {code}\n".encode())


def main() -> None:
    from dais.jobs.runner import die_with_parent

    die_with_parent()
    from dais.jobs.kinds import job_kinds
    from dais.jobs.runner import run_attempt

    job_kinds().load_all()  # import every kind once, here, so children start warm
    out = sys.stdout.fileno()
    inp = sys.stdin.fileno()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    sel = selectors.DefaultSelector()
    sel.register(inp, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    buffer = b""
    os.write(out, b"ready\n")
    while True:
        for key, _ in sel.select():
            if key.fd == wake_r:
                os.read(wake_r, 4096)
                _reap(out, children)
                continue
            data = os.read(inp, 65536)
            if not data:  # the worker is gone: so are its jobs
                for pid in children:
                    with contextlib.suppress(OSError):
                        os.killpg(pid, signal.SIGKILL)
                os._exit(0)
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                parts = line.decode().split(" ", 2)
                if len(parts) != 3 or parts[0] != "run":
                    continue
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    for fd in (inp, out, wake_r, wake_w):
                        os.close(fd)
                    run_attempt(parts[2])  # never returns
                children.add(pid)
                os.write(out, f"started {parts[1]} {pid}\n".encode())
        _reap(out, children)


if __name__ == "__main__":
    main()
