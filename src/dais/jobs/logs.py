"""Job logs in the artifact store, shipped while the job runs and read back with tail and follow.

The worker copies new bytes of an attempt's local log file into numbered chunk objects
(``jobs/<job>/attempt-<n>/log/<seq>``, at most 1 MiB each) every moment; readers list the chunks
and stream them in order. Neither side ever holds more than one chunk in memory, whatever the size
of the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from dais.core.errors import NotFound
from dais.storage import ArtifactStore, workspace_prefix

CHUNK = 1024 * 1024
SHIP_EVERY_S = 1.0
SHIP_MIN_BYTES = 64 * 1024
LOOK_EVERY_S = 0.1  # how often a running attempt's log is looked at (its size), between final ships


def attempt_prefix(workspace_id: str, job_id: str, attempt: int) -> str:
    """The attempt's own artifact prefix (outputs and log), relative to the store root."""
    return f"{workspace_prefix(workspace_id)}jobs/{job_id}/attempt-{attempt}/"


def log_prefix(workspace_id: str, job_id: str, attempt: int) -> str:
    return attempt_prefix(workspace_id, job_id, attempt) + "log/"


class LogShipper:
    """Copies an attempt's growing local log into chunk objects."""

    def __init__(self, store: ArtifactStore, path: Path, prefix: str) -> None:
        self.store = store
        self.path = path
        self.prefix = prefix
        self.offset = 0
        self.seq = 0
        self.last = 0.0
        self.looked = 0.0

    def ship(self, *, final: bool = False, max_bytes: int = 16 * CHUNK) -> int:
        """Copy what is new (at most ``max_bytes`` unless ``final``); the number of bytes shipped."""
        now = time.monotonic()
        if not final and now - self.looked < LOOK_EVERY_S:
            return 0
        self.looked = now
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0
        pending = size - self.offset
        if pending <= 0 or (not final and pending < SHIP_MIN_BYTES and now - self.last < SHIP_EVERY_S):
            return 0
        shipped = 0
        with self.path.open("rb") as f:
            f.seek(self.offset)
            while shipped < pending and (final or shipped < max_bytes):
                data = f.read(min(CHUNK, pending - shipped))
                if not data:
                    break
                self.store.put_bytes(f"{self.prefix}{self.seq:08d}", data)
                self.seq += 1
                shipped += len(data)
        self.offset += shipped
        self.last = now
        return shipped


def chunk_keys(store: ArtifactStore, prefix: str) -> list[str]:
    return [o.key for o in store.list(prefix, recursive=False) if not o.key.endswith("/")]


def read_log(store: ArtifactStore, prefix: str, *, tail_bytes: int | None = None) -> Iterator[bytes]:
    """The log's bytes in order (only about the last ``tail_bytes`` if given)."""
    keys = chunk_keys(store, prefix)
    if tail_bytes is not None:
        picked: list[str] = []
        total = 0
        for key in reversed(keys):
            picked.append(key)
            total += store.stat(key).size
            if total >= tail_bytes:
                break
        keys = list(reversed(picked))
        skip = max(total - tail_bytes, 0)
    else:
        skip = 0
    for key in keys:
        try:
            for data in store.read(key):
                if skip:
                    cut = min(skip, len(data))
                    data, skip = data[cut:], skip - cut
                if data:
                    yield data
        except NotFound:
            continue


def follow_log(
    store: ArtifactStore,
    prefix: str,
    *,
    finished: Callable[[], bool],
    poll_s: float = 0.5,
    start_chunk: int = 0,
    max_wait_s: float = 3600.0,
) -> Iterator[bytes]:
    """Stream chunks as they appear until ``finished()`` says the attempt ended and all is read."""
    seen = start_chunk
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        done = finished()
        keys = chunk_keys(store, prefix)
        for key in keys[seen:]:
            yield from store.read(key)
        seen = max(seen, len(keys))
        if done:
            return
        time.sleep(poll_s)
