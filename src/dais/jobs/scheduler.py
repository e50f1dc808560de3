"""The scheduler: one leader at a time fires schedules, sends notifications and re-queues lost jobs.

Any number of scheduler processes may run (``dais up`` starts one, ``dais scheduler`` another);
they compete for a lease row in ``leader_leases`` and only the holder acts. The lease is renewed
every tick and taken over when it expires, so a scheduler that dies is replaced within the lease
time. Correctness does not rest on the lease alone: every schedule run is unique in the database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from dais.core.settings import Settings
from dais.db import Database, utcnow
from dais.jobs import queue, schedules
from dais.jobs.models import LeaderLease
from dais.jobs.notify import service as notify

log = logging.getLogger(__name__)

LEADER = "scheduler"


def acquire_leadership(db: Database, holder: str, *, ttl_s: float, now: datetime | None = None) -> bool:
    """Take or renew the scheduler lease; whether ``holder`` now leads."""
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl_s)
    with db.session() as s:
        result = s.execute(
            update(LeaderLease)
            .where(
                LeaderLease.name == LEADER, (LeaderLease.holder == holder) | (LeaderLease.expires_at < now)
            )
            .values(holder=holder, expires_at=expires)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return True
        if s.scalar(select(LeaderLease.name).where(LeaderLease.name == LEADER)) is not None:
            return False
    try:
        with db.session() as s:
            s.add(LeaderLease(name=LEADER, holder=holder, expires_at=expires, acquired_at=now))
        return True
    except IntegrityError:
        return False  # another scheduler created it first


def release_leadership(db: Database, holder: str) -> None:
    with db.session() as s:
        s.execute(
            update(LeaderLease)
            .where(LeaderLease.name == LEADER, LeaderLease.holder == holder)
            .values(expires_at=utcnow())
        )


@dataclass
class SchedulerConfig:
    tick_s: float = 1.0
    lease_ttl_s: float = 15.0


class Scheduler:
    """Runs the scheduler's loop until told to stop."""

    def __init__(self, settings: Settings, db: Database, config: SchedulerConfig | None = None) -> None:
        self.settings = settings
        self.db = db
        self.config = config or SchedulerConfig()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading = False

    def tick(self, now: datetime | None = None) -> dict[str, int]:
        """One pass: lead or not; if leading, do what is due. Returns counts, for logs and tests."""
        now = now or utcnow()
        was = self.leading
        self.leading = acquire_leadership(self.db, self.holder, ttl_s=self.config.lease_ttl_s, now=now)
        if self.leading != was:
            log.info("scheduler %s %s", self.holder, "now leads" if self.leading else "no longer leads")
        if not self.leading:
            return {}
        counts: dict[str, int] = {}
        with self.db.session() as s:
            counts["fired"] = schedules.fire_due(s, now=now)
        with self.db.session() as s:
            counts["requeued"] = len(queue.reap_expired(s, now=now))
        with self.db.session() as s:
            counts["long_running"] = notify.check_long_running(s, now=now)
        counts["delivered"] = notify.deliver_due(self.db, self.settings, now=now)
        return counts

    def run(self, stop: threading.Event) -> None:
        log.info("scheduler %s started", self.holder)
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    counts = self.tick()
                    if any(counts.values()):
                        log.info("scheduler tick: %s", counts)
                except OperationalError as exc:
                    log.warning("scheduler tick failed (database busy?): %s", exc)
                except Exception:
                    log.exception("scheduler tick failed; going on")
                stop.wait(max(0.0, self.config.tick_s - (time.monotonic() - started)))
        finally:
            if self.leading:
                with contextlib.suppress(OperationalError):
                    release_leadership(self.db, self.holder)
            log.info("scheduler %s stopped", self.holder)
