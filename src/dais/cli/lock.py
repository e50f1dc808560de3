"""One ``dais up`` per home: an exclusive ``flock`` on ``DAIS_HOME/dais.lock``.

The operating system drops the lock when the process ends, however it ends (even ``kill -9``), so a
stale lock never blocks a restart. The holder writes its PID and URL into the file so that a second
``dais up`` can say who holds it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dais.core.errors import InstanceLocked

LOCK_NAME = "dais.lock"


@contextmanager
def home_lock(home: Path, url: str) -> Iterator[Path]:
    """Hold the home's lock for the block; :class:`InstanceLocked` if another process holds it."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").split()
            who = f"PID {holder[0]}, serving {holder[1]}" if len(holder) >= 2 else "another process"
            raise InstanceLocked(
                f"Dais is already running on {home} ({who}). Use that instance, stop it first, "
                "or give this one another home with DAIS_HOME."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {url}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
