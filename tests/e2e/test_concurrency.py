"""Races against a real server process, on a SQLite file and on PostgreSQL.

Many clients hit the same study at the same instant (a `threading.Barrier` releases them
together): exactly one start wins, a reader who is not assigned never wins, and the same
accession sent by twenty clients at once is one study.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import (
    Server,
    all_studies,
    check,
    running_server,
    seed_practice,
    study_body,
)

pytestmark = pytest.mark.slow

THREADS = 16
SAME_ACCESSION_CLIENTS = 20


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    # No background re-plan: it could move the study between the two eligible readers while
    # the race is being set up, which would make "its assigned reader" a moving target.
    with running_server(database_url, tmp_path / "logs", jobs=False) as running:
        with running.client() as client:
            seed_practice(client, facilities=("fac-1", "fac-2"), radiologists=("rad-1", "rad-2"))
        yield running


def race(
    server: Server, count: int, request: Callable[[httpx.Client], httpx.Response]
) -> list[httpx.Response]:
    """`count` clients, each on its own connection, send `request` at the same instant."""
    barrier = threading.Barrier(count, timeout=60)
    clients = [server.client() for _ in range(count)]
    for client in clients:  # open every connection before the race starts
        check(client.get("/healthz"), 200)

    def one(client: httpx.Client) -> httpx.Response:
        barrier.wait()
        return request(client)

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(one, clients))
    finally:
        for client in clients:
            client.close()


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def audit_actions(client: httpx.Client, study_id: str) -> Counter[str]:
    page = check(client.get("/v1/audit", params={"study": study_id, "limit": 1000}), 200)
    return Counter(entry["action"] for entry in page["items"])


def test_only_one_start_wins_and_others_never_start(server: Server) -> None:
    with server.client() as admin:
        study = check(admin.post("/v1/studies", json=study_body("RACE-1")), 201)
        reader = study["assigned_to"]
        assert reader in {"rad-1", "rad-2"}, study
        other = "rad-2" if reader == "rad-1" else "rad-1"
        path = f"/v1/studies/{study['id']}/start"

        # A reader the study is not assigned to: every one of them is refused.
        wrong = race(server, THREADS, lambda c: c.post(path, json={"radiologist": other}))
        assert statuses(wrong) == {409: THREADS}, [r.text for r in wrong if r.status_code != 409]
        for response in wrong:
            assert response.json()["detail"], response.text
        after_wrong = check(admin.get(f"/v1/studies/{study['id']}"), 200)
        assert after_wrong["status"] in {"assigned", "at_risk"}, after_wrong
        assert after_wrong["assigned_to"] == reader
        assert after_wrong["started_at"] is None

        # The assigned reader, sixteen times at once: exactly one start.
        right = race(server, THREADS, lambda c: c.post(path, json={"radiologist": reader}))
        counts = statuses(right)
        assert counts == {200: 1, 409: THREADS - 1}, [r.text for r in right]
        winner = next(r.json() for r in right if r.status_code == 200)
        assert winner["status"] == "reading"
        assert winner["assigned_to"] == reader

        final = check(admin.get(f"/v1/studies/{study['id']}"), 200)
        assert final["status"] == "reading"
        assert final["assigned_to"] == reader
        assert final["started_at"] == winner["started_at"]
        assert final["version"] == winner["version"]
        listed = [s for s in all_studies(admin, status="reading") if s["id"] == study["id"]]
        assert len(listed) == 1
        actions = audit_actions(admin, study["id"])
        assert actions["study.started"] == 1, actions
        assert actions["study.received"] == 1, actions

        # And the wrong reader still cannot start (or steal) a study being read.
        again = race(server, THREADS, lambda c: c.post(path, json={"radiologist": other}))
        assert statuses(again) == {409: THREADS}
        assert check(admin.get(f"/v1/studies/{study['id']}"), 200)["assigned_to"] == reader
        assert audit_actions(admin, study["id"])["study.started"] == 1


def test_same_accession_at_once_is_one_study(server: Server) -> None:
    body = study_body("SAME-ACC-1", facility="fac-2", priority="STAT")
    responses = race(server, SAME_ACCESSION_CLIENTS, lambda c: c.post("/v1/studies", json=body))
    counts = statuses(responses)
    assert set(counts) <= {200, 201}, [r.text for r in responses if r.status_code not in (200, 201)]
    assert counts[201] == 1, counts
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1, ids
    (study_id,) = ids
    assignees = {r.json()["assigned_to"] for r in responses}
    assert len(assignees) == 1, assignees

    with server.client() as admin:
        listed = all_studies(admin, facility="fac-2")
        assert [s["id"] for s in listed] == [study_id], listed
        assert listed[0]["accession"] == "SAME-ACC-1"
        actions = audit_actions(admin, study_id)
        assert actions["study.received"] == 1, actions

        # Different content under the same key is a conflict, and changes nothing.
        changed = {**body, "priority": "ROUTINE"}
        conflicting = race(server, 8, lambda c: c.post("/v1/studies", json=changed))
        assert statuses(conflicting) == {409: 8}
        assert [s["id"] for s in all_studies(admin, facility="fac-2")] == [study_id]
        assert check(admin.get(f"/v1/studies/{study_id}"), 200)["priority"] == "STAT"


def test_distinct_accessions_at_once_are_all_kept(server: Server) -> None:
    """The other side of idempotency: simultaneous different studies are each created once."""
    counter = iter(range(SAME_ACCESSION_CLIENTS))
    lock = threading.Lock()

    def post(client: httpx.Client) -> httpx.Response:
        with lock:
            number = next(counter)
        return client.post("/v1/studies", json=study_body(f"DISTINCT-{number}", facility="fac-2"))

    responses = race(server, SAME_ACCESSION_CLIENTS, post)
    assert statuses(responses) == {201: SAME_ACCESSION_CLIENTS}, [r.text for r in responses]
    created: dict[str, Any] = {r.json()["accession"]: r.json()["id"] for r in responses}
    with server.client() as admin:
        listed = all_studies(admin, facility="fac-2")
    assert {s["accession"]: s["id"] for s in listed} == created
    for study in listed:
        assert study["status"] in {"assigned", "at_risk"}, study
        assert study["assigned_to"] in {"rad-1", "rad-2"}
