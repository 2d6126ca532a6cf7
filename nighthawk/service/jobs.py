"""Scheduled work (re-plan, watchdog, demo feed) in exactly one server process at a time.

APScheduler 3 cannot share a job store between processes, so every process runs its own
scheduler and each tick first renews a lease row in the database: only the holder works. A
process that dies stops renewing, and another takes over once the lease expires.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError

from models.tables import JOB_LEASE
from nighthawk.service.assignment import AssignmentService
from nighthawk.service.clock import Clock
from nighthawk.service.db import write_transaction
from nighthawk.service.replan import replan, watchdog

log = logging.getLogger(__name__)


class Lease:
    """A named lease row: held by one holder until `expires_at`, renewed by that holder."""

    def __init__(
        self, engine: Engine, clock: Clock, *, name: str = "scheduler", ttl_seconds: float = 30.0
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live holder has it."""
        now = self.clock.now()
        with write_transaction(self.engine) as connection:
            renewed = connection.execute(
                update(JOB_LEASE)
                .where(
                    JOB_LEASE.c.name == self.name,
                    (JOB_LEASE.c.holder == self.holder) | (JOB_LEASE.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if renewed.rowcount == 1:
                return True
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(
                    insert(JOB_LEASE).values(
                        name=self.name, holder=self.holder, expires_at=now + self.ttl
                    )
                )
            return True
        except IntegrityError:
            return False  # the row exists and someone else holds it

    def release(self) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(JOB_LEASE)
                .where(JOB_LEASE.c.name == self.name, JOB_LEASE.c.holder == self.holder)
                .values(expires_at=self.clock.now() - timedelta(seconds=1))
            )


@dataclass(frozen=True)
class JobSettings:
    tick_seconds: float = 5.0  # watchdog cadence, and how soon a change is re-planned
    replan_seconds: float = 30.0  # re-plan at least this often even when nothing changed
    min_replan_gap_seconds: float = 5.0  # under a stream of changes, at most this often
    replan_time_limit: float = 1.0
    feed_seconds: float = 2.0


class Jobs:
    """The process's scheduler: ticks run the watchdog and, when due, a re-plan."""

    def __init__(
        self,
        service: AssignmentService,
        lease: Lease,
        settings: JobSettings | None = None,
        *,
        feed: Callable[[float], object] | None = None,
    ) -> None:
        self.service = service
        self.lease = lease
        self.settings = settings or JobSettings()
        self.feed = feed
        self._last_replan = 0.0
        self._scheduler = BackgroundScheduler(timezone=UTC)
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        every = self.settings.tick_seconds
        self._scheduler.add_job(
            self.tick, "interval", seconds=every, max_instances=1, coalesce=True
        )
        if self.feed is not None:
            self._scheduler.add_job(
                self.feed_tick,
                "interval",
                seconds=self.settings.feed_seconds,
                max_instances=1,
                coalesce=True,
            )
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        try:
            self.lease.release()
        except Exception:  # the database may already be gone at shutdown
            log.debug("lease release failed", exc_info=True)

    def tick(self) -> None:
        """Watchdog every tick; re-plan on change (rate-limited) and at least periodically."""
        with self._lock:
            try:
                if not self.lease.acquire():
                    return
                watchdog(self.service)
                if self._replan_due():
                    self.service.changed.clear()
                    self._last_replan = time.monotonic()
                    result = replan(self.service, time_limit=self.settings.replan_time_limit)
                    log.info(
                        "re-plan: %d studies, %d moved, %s in %.2fs",
                        result.studies,
                        result.moved,
                        result.status,
                        result.seconds,
                    )
            except Exception as error:  # a failed tick must not stop the next one
                log.warning("scheduled re-plan failed: %s", error)
                log.debug("scheduled re-plan failure", exc_info=True)

    def _replan_due(self) -> bool:
        since = time.monotonic() - self._last_replan
        if since >= self.settings.replan_seconds:
            return True
        return self.service.changed.is_set() and since >= self.settings.min_replan_gap_seconds

    def feed_tick(self) -> None:
        if self.feed is None:
            return
        try:
            if self.lease.acquire():
                self.feed(self.settings.feed_seconds)
        except Exception as error:
            log.warning("demo feed failed: %s", error)
