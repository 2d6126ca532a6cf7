"""`kill -9` in the middle of an ingest burst loses nothing that was acknowledged.

Several clients send ~300 studies with distinct accessions; a watcher kills the server with
SIGKILL once about 100 have been acknowledged (201 or 200). After a restart on the same
database every acknowledged accession is there exactly once, placed exactly once (one reader
or uncovered), and sending it again is a 200 with the same id.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, all_studies, check, running_server, seed_practice, study_body

pytestmark = pytest.mark.slow

BURST = 300
KILL_AFTER_ACKS = 100
CLIENTS = 6
FACILITY = "fac-1"
PLACED = {"assigned", "at_risk", "uncovered"}


class Burst:
    """Shared bookkeeping of the clients: what was acknowledged, and what went wrong."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[str, str] = {}  # accession -> study id
        self.sent = 0
        self.errors: list[str] = []  # any 5xx or unexpected status before the kill
        self.killed = threading.Event()
        self.enough = threading.Event()

    def ack(self, accession: str, study_id: str) -> None:
        with self.lock:
            self.acked[accession] = study_id
            if len(self.acked) >= KILL_AFTER_ACKS:
                self.enough.set()


def accession(number: int) -> str:
    return f"CRASH-{number:04d}"


def body(number: int) -> dict[str, object]:
    priority = ("STAT", "URGENT", "ROUTINE")[number % 3]
    return study_body(accession(number), facility=FACILITY, priority=priority)


def client_loop(server: Server, burst: Burst, numbers: list[int]) -> None:
    with server.client(timeout=30.0) as client:
        for number in numbers:
            if burst.killed.is_set():
                return
            try:
                response = client.post("/v1/studies", json=body(number))
            except httpx.TransportError as error:
                if not burst.killed.is_set():
                    # The watcher may be killing right now; give it a moment to say so.
                    burst.killed.wait(timeout=5)
                if not burst.killed.is_set():
                    with burst.lock:
                        burst.errors.append(f"{accession(number)}: {error!r} before the kill")
                return
            if burst.killed.is_set() and response.status_code >= 500:
                return  # answered while dying; not an acknowledgement either way
            if response.status_code in (200, 201):
                burst.ack(accession(number), response.json()["id"])
            else:
                with burst.lock:
                    burst.errors.append(
                        f"{accession(number)}: {response.status_code} {response.text[:300]}"
                    )


def killer(server: Server, burst: Burst) -> None:
    burst.enough.wait(timeout=300)
    burst.killed.set()
    server.kill()


def test_acknowledged_studies_survive_kill_9(database_url: str, tmp_path: Path) -> None:
    with running_server(database_url, tmp_path / "logs") as server:
        with server.client() as admin:
            seed_practice(admin, facilities=(FACILITY,), radiologists=("rad-1", "rad-2", "rad-3"))

        burst = Burst()
        numbers = list(range(BURST))
        shares = [numbers[i::CLIENTS] for i in range(CLIENTS)]
        with ThreadPoolExecutor(max_workers=CLIENTS + 1) as pool:
            watcher = pool.submit(killer, server, burst)
            loops = [pool.submit(client_loop, server, burst, share) for share in shares]
            for loop in loops:
                loop.result()
            burst.enough.set()  # every client finished before the threshold: kill now anyway
            watcher.result()
        assert not server.running
        assert not burst.errors, burst.errors[:10]
        # The kill happened mid-burst, not after it (else this test proves nothing).
        assert KILL_AFTER_ACKS <= len(burst.acked) < BURST, len(burst.acked)
        acked = dict(burst.acked)

        time.sleep(0.5)
        server.start()
        with server.client() as admin:
            listed = all_studies(admin, facility=FACILITY)
            by_accession = Counter(s["accession"] for s in listed)
            duplicates = {a: n for a, n in by_accession.items() if n > 1}
            assert not duplicates, duplicates
            found = {s["accession"]: s for s in listed}
            missing = sorted(set(acked) - set(found))
            assert not missing, f"{len(missing)} acknowledged studies lost: {missing[:10]}"
            for number, study_id in acked.items():
                study = found[number]
                assert study["id"] == study_id, (number, study, study_id)
                assert study["status"] in PLACED, study
                if study["status"] == "uncovered":
                    assert study["assigned_to"] is None, study
                    assert study["uncovered_reason"], study
                else:
                    assert study["assigned_to"] in {"rad-1", "rad-2", "rad-3"}, study
            # Unacknowledged ones may or may not have landed, but never half: same invariants.
            for study in listed:
                assert study["status"] in PLACED, study
                assert (study["assigned_to"] is None) == (study["status"] == "uncovered"), study

            # Idempotent after the restart: every acknowledged study again is a 200, same id.
            for number_text, study_id in sorted(acked.items()):
                number = int(number_text.removeprefix("CRASH-"))
                again = check(admin.post("/v1/studies", json=body(number)), 200)
                assert again["id"] == study_id, (number_text, again)
            assert len(all_studies(admin, facility=FACILITY)) == len(listed)
            # The survivors are exactly one study each in the audit trail too.
            for number_text in sorted(acked)[:20]:
                page = check(admin.get("/v1/audit", params={"study": acked[number_text]}), 200)
                received = [e for e in page["items"] if e["action"] == "study.received"]
                assert len(received) == 1, page
        assert "Traceback" not in server.log_text().split("Started server process")[-1]
