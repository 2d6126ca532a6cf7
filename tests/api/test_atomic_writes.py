"""A write that fails after it has written rolls back whole, on SQLite and PostgreSQL.

For every operation of the schema that writes, the test makes a valid request, lets the
service do all its work, and fails the transaction at its very last moment: at COMMIT, once
the rows are written. The database must then be byte-for-byte what it was (a dump of every
row), the answer a 500 that says nothing was applied, and the same request, sent again, must
succeed: the process's in-memory live dispatcher must not keep what the database dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event

from tests.api.conftest import Api, iso
from tests.api.test_plans import plan_body, planned
from tests.dump import DatabaseDump, difference

Request = tuple[str, str, dict[str, Any] | None]  # method, path, body
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class InjectedFailure(RuntimeError):
    pass


@dataclass
class CommitTrap:
    """Fails the next COMMIT of a transaction that wrote a row, once armed."""

    armed: bool = False
    sprung: int = 0

    def attach(self, engine: Any) -> None:
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "after_cursor_execute", self._executed)
        event.listen(engine, "commit", self._commit)

    def detach(self, engine: Any) -> None:
        event.remove(engine, "begin", self._begin)
        event.remove(engine, "after_cursor_execute", self._executed)
        event.remove(engine, "commit", self._commit)

    def _begin(self, connection: Connection) -> None:
        connection.info["wrote"] = False

    def _executed(self, connection: Connection, _c: Any, statement: str, *_: Any) -> None:
        if WRITES.match(statement):
            connection.info["wrote"] = True

    def _commit(self, connection: Connection) -> None:
        if self.armed and connection.info.get("wrote"):
            self.armed = False
            self.sprung += 1
            raise InjectedFailure("injected: the disk filled up at COMMIT")


@pytest.fixture
def practice(api: Api) -> Api:
    api.facility("fac-1")
    api.facility("fac-2", state="CO")
    for reader in ("rad-1", "rad-2"):
        api.radiologist(reader, licenses=["WY", "CO"], credentials=["fac-1", "fac-2"])
    return api


@pytest.fixture
def trap(practice: Api) -> Iterator[CommitTrap]:
    trap = CommitTrap()
    trap.attach(practice.runtime.engine)
    yield trap
    trap.detach(practice.runtime.engine)


def _study(api: Api, accession: str) -> dict[str, Any]:
    study: dict[str, Any] = api.study(accession, priority="STAT")
    assert study["assigned_to"] in ("rad-1", "rad-2"), study
    return study


def _started(api: Api, accession: str) -> dict[str, Any]:
    study = _study(api, accession)
    body = {"radiologist": study["assigned_to"]}
    api.call("POST", f"/v1/studies/{study['id']}/start", body, 200)
    return study


def _future_shift(api: Api, hours: int) -> dict[str, str]:
    start = api.clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)
    return {"start": iso(start), "end": iso(start + timedelta(hours=2))}


def _delete_shift(api: Api) -> Request:
    shift = api.call("POST", "/v1/radiologists/rad-2/shifts", _future_shift(api, 30), 201)
    return "DELETE", f"/v1/shifts/{shift['id']}", None


def _start(api: Api) -> Request:
    study = _study(api, "ATOM-START")
    return "POST", f"/v1/studies/{study['id']}/start", {"radiologist": study["assigned_to"]}


def _complete(api: Api) -> Request:
    study = _started(api, "ATOM-COMPLETE")
    body = {"radiologist": study["assigned_to"], "report": "final"}
    return "POST", f"/v1/studies/{study['id']}/complete", body


def _release(api: Api) -> Request:
    study = _study(api, "ATOM-RELEASE")
    body = {"radiologist": study["assigned_to"], "reason": "conflict of interest"}
    return "POST", f"/v1/studies/{study['id']}/release", body


def _assign(api: Api) -> Request:
    study = _study(api, "ATOM-ASSIGN")
    other = "rad-2" if study["assigned_to"] == "rad-1" else "rad-1"
    body = {"radiologist": other, "reason": "subspecialty read"}
    return "POST", f"/v1/studies/{study['id']}/assign", body


def _publish(api: Api) -> Request:
    return "POST", f"/v1/plans/{planned(api, plan_body(time_limit=1))['id']}/publish", None


def _delete_token(api: Api) -> Request:
    api.call("POST", "/v1/tokens", {"name": "doomed", "role": "analyst"}, 201)
    return "DELETE", "/v1/tokens/doomed", None


def _correct(api: Api) -> Request:
    study = _study(api, "ATOM-PATCH")
    return "PATCH", f"/v1/studies/{study['id']}", {"priority": "URGENT", "reason": "downgraded"}


def _cancel(api: Api) -> Request:
    study = _study(api, "ATOM-CANCEL")
    return "POST", f"/v1/studies/{study['id']}/cancel", {"reason": "ordered in error"}


def _book_absence(api: Api) -> Request:
    start = api.clock.now() + timedelta(hours=1)
    window = {"available": False, "from": iso(start), "to": iso(start + timedelta(minutes=30))}
    return "POST", "/v1/radiologists/rad-2/availability", window


def _delete_absence(api: Api) -> Request:
    _, path, window = _book_absence(api)
    booked = api.call("POST", path, window, 200)
    return "DELETE", f"/v1/radiologists/rad-2/absences/{booked['absence']['id']}", None


def _fixed(method: str, path: str, body: dict[str, Any] | None) -> Callable[[Api], Request]:
    return lambda _: (method, path, body)


# Keyed as the schema spells each operation; each makes a valid request, fresh.
WRITERS: dict[tuple[str, str], Callable[[Api], Request]] = {
    ("PUT", "/v1/facilities/{facility_id}"): _fixed(
        "PUT",
        "/v1/facilities/fac-3",
        {"name": "Hospital 3", "state": "WY", "timezone": "America/Denver"},
    ),
    ("PUT", "/v1/radiologists/{radiologist_id}"): _fixed(
        "PUT",
        "/v1/radiologists/rad-1",
        {"name": "Dr One", "licenses": ["WY"], "credentials": ["fac-1"]},
    ),
    ("POST", "/v1/radiologists/{radiologist_id}/shifts"): lambda api: (
        "POST",
        "/v1/radiologists/rad-2/shifts",
        _future_shift(api, 20),
    ),
    ("POST", "/v1/radiologists/{radiologist_id}/availability"): _fixed(
        "POST", "/v1/radiologists/rad-1/availability", {"available": False, "reason": "break"}
    ),
    ("DELETE", "/v1/shifts/{shift_id}"): _delete_shift,
    ("DELETE", "/v1/radiologists/{radiologist_id}/absences/{absence_id}"): _delete_absence,
    ("PUT", "/v1/procedure-codes"): _fixed(
        "PUT", "/v1/procedure-codes", {"codes": {"CTHEAD": {"subspecialty": "neuro"}}}
    ),
    ("PATCH", "/v1/studies/{study_id}"): _correct,
    ("POST", "/v1/studies/{study_id}/cancel"): _cancel,
    ("POST", "/v1/studies"): _fixed(
        "POST",
        "/v1/studies",
        {"facility": "fac-1", "accession": "ATOM-NEW", "modality": "CT", "priority": "STAT"},
    ),
    ("POST", "/v1/studies/{study_id}/start"): _start,
    ("POST", "/v1/studies/{study_id}/complete"): _complete,
    ("POST", "/v1/studies/{study_id}/release"): _release,
    ("POST", "/v1/studies/{study_id}/assign"): _assign,
    ("POST", "/v1/plans"): _fixed("POST", "/v1/plans", plan_body(time_limit=1)),
    ("POST", "/v1/plans/{plan_id}/publish"): _publish,
    ("POST", "/v1/tokens"): _fixed("POST", "/v1/tokens", {"name": "fresh", "role": "analyst"}),
    ("DELETE", "/v1/tokens/{name}"): _delete_token,
}


def test_the_table_names_every_operation_that_writes(api: Api) -> None:
    schema = api.call("GET", "/openapi.json", status=200)
    writing = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("put", "post", "patch", "delete")
    }
    assert writing == set(WRITERS)


# Second paths through an operation that write other rows.
VARIANTS: dict[str, Callable[[Api], Request]] = {"booking an absence ahead": _book_absence}


@pytest.mark.parametrize("operation", list(WRITERS), ids=" ".join)
def test_a_write_failing_at_commit_leaves_nothing_behind(
    practice: Api, trap: CommitTrap, database_url: str, operation: tuple[str, str]
) -> None:
    fails_at_commit_then_succeeds(practice, trap, database_url, WRITERS[operation])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_variant_failing_at_commit_leaves_nothing_behind(
    practice: Api, trap: CommitTrap, database_url: str, variant: str
) -> None:
    fails_at_commit_then_succeeds(practice, trap, database_url, VARIANTS[variant])


def fails_at_commit_then_succeeds(
    practice: Api, trap: CommitTrap, database_url: str, make: Callable[[Api], Request]
) -> None:
    method, path, body = make(practice)
    dump = DatabaseDump(database_url)
    try:
        before = dump.take()
        trap.armed = True
        failed = practice.client.request(method, path, json=body, headers=practice.headers)
        assert trap.sprung == 1, f"{method} {path} wrote nothing: {failed.status_code}"
        assert failed.status_code == 500, failed.text
        assert "not applied" in failed.json()["detail"]
        after = dump.take()
        assert after == before, difference(before, after)
    finally:
        trap.armed = False
        dump.close()
    again = practice.client.request(method, path, json=body, headers=practice.headers)
    assert 200 <= again.status_code < 300, again.text
