"""`nighthawk worker`: the jobs in their own process, holding the lease, stopping cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from models.tables import JOB_LEASE
from nighthawk.service.db import make_engine, migrate, read_transaction
from tests.e2e.server import nighthawk_command


def _lease(db: str) -> tuple[str, datetime] | None:
    engine = make_engine(db)
    try:
        with read_transaction(engine) as connection:
            row = connection.execute(select(JOB_LEASE.c.holder, JOB_LEASE.c.expires_at)).first()
        return None if row is None else (row.holder, row.expires_at)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_worker_takes_the_lease_and_gives_it_back_on_sigterm(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(make_engine(db))
    env = {**os.environ, "NIGHTHAWK_TICK_SECONDS": "0.5"}
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [*nighthawk_command(), "worker", "--db", db], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    try:
        deadline = time.monotonic() + 60
        lease = _lease(db)
        while (lease is None or f":{process.pid}:" not in lease[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
            lease = _lease(db)
        assert lease is not None and f":{process.pid}:" in lease[0], (
            tmp_path / "worker.log"
        ).read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    released = _lease(db)
    assert released is not None and released[1] <= datetime.now(UTC)  # free for another worker
