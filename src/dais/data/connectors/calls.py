"""Bounded source calls: a blocking call to a source runs in a daemon thread the caller never waits on
longer than its timeout.

Drivers are given their own timeouts too (connect, read, statement), so a thread left behind by a
source that stopped answering ends on its own soon after; :func:`run_with_timeout` is what guarantees
the caller's bound whatever the driver does.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from dais.data.connectors.base import CheckResult, SourceError, SourceTimeout

T = TypeVar("T")

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<at>@)")


def run_with_timeout(
    fn: Callable[[], T], timeout_s: float, what: str, *, discard: Callable[[T], None] | None = None
) -> T:
    """``fn()``, or :class:`SourceTimeout` naming ``what`` once ``timeout_s`` seconds have passed.

    ``fn`` runs in a daemon thread; on expiry the caller gets the error at once and the thread is left
    to finish (or fail) on its own. A result that arrives after the caller gave up is passed to
    ``discard`` (in that thread), so a connection opened too late is closed rather than leaked.
    Exceptions raised by ``fn`` reach the caller unchanged.
    """
    outcome: list[T] = []
    failure: list[BaseException] = []
    done = threading.Event()
    lock = threading.Lock()
    abandoned = False

    def target() -> None:
        late = False
        try:
            value = fn()
        except BaseException as exc:  # handed to the caller's thread below
            with lock:
                failure.append(exc)
                done.set()
            return
        with lock:
            late = abandoned
            outcome.append(value)
            done.set()
        if late and discard is not None:
            discard(value)

    thread = threading.Thread(target=target, name=f"dais-source: {what}"[:60], daemon=True)
    thread.start()
    if not done.wait(max(timeout_s, 0.0)):
        with lock:
            if not done.is_set():
                abandoned = True
        if abandoned:
            raise SourceTimeout(f"{what}: no answer within {timeout_s:g} s.", timeout_s=timeout_s)
    if failure:
        raise failure[0]
    return outcome[0]


def timed_check(fn: Callable[[], str], timeout_s: float, what: str) -> CheckResult:
    """Run a connection test: ``fn`` returns the success message; a :class:`SourceError` becomes
    ``ok=False`` with the source's message (and its code in ``details``); never raises for a source
    failure."""
    start = time.perf_counter()
    try:
        message = run_with_timeout(fn, timeout_s, what)
    except SourceError as exc:
        latency = (time.perf_counter() - start) * 1000
        return CheckResult(ok=False, message=exc.detail, latency_ms=latency, details={"code": exc.code})
    return CheckResult(ok=True, message=message, latency_ms=(time.perf_counter() - start) * 1000)


def scrub(message: str, *secrets: str | None) -> str:
    """``message`` without any of ``secrets`` and without a password written into a URL."""
    for value in secrets:
        if value:
            message = message.replace(value, "***")
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***{m['at']}", message)
